"""Nobody can rebuild a masked ID number from what their pages, files and exports show of a person.

For every demo role that sees person data, the test collects what the role receives (the person
table page by page, record pages with their history, the CSV export, a township's task grid and
its .xlsx, a department's summary drill-down, summary export and extraction), groups it by person,
and tries what an attacker would: every address code (500118 and every other one in the data),
every birth date consistent with what was shown (the date, the year, an age on the deadline),
every sequence the visible characters allow, and the check character. No ID may come out as a
single candidate, and no certificate number may show a digit (its category and grade digits, or
ID digits beyond the last 4).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from builder.checkdigits import id_check_char
from runtime.models import Record, Report, Task
from tests.conftest import close_app, make_id_number

LAISU = "500118108"
#: The demo's dispatched survey (区残联) and its report answered by extraction (区退役军人事务局).
SURVEY, EXTRACTED = "disability_survey", "veteran_roster"
#: Townships whose demo task is submitted (runtime.demo.reports.SUBMITTED).
SUBMITTED = ("500118002", "500118003", "500118004")
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2026, 12, 31)
#: The labels (column titles, field names) under which each fact about a person arrives.
ID_LABELS = {"公民身份号码", "id_number"}
BIRTH_LABELS = {"出生日期", "birth_date"}
AGE_LABELS = {"年龄（周岁）", "age"}
GENDER_LABELS = {"性别", "gender"}
CERT_LABELS = {"残疾人证号", "disability_cert_no"}

#: One record as a role received it: where from, which record (its id or a task's added-row
#: reference, when the page or file tells; None otherwise), and label → the texts seen under it.
Seen = tuple[str, str | None, dict[str, set[str]]]


# --- what each role receives ------------------------------------------------------------------


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _cells(row_html: str, attribute: str) -> dict[str, set[str]]:
    """Return label → texts of the cells of one table row, the cells named by `attribute`."""
    found: dict[str, set[str]] = defaultdict(set)
    for label, cell in re.findall(rf'<td {attribute}="([^"]+)"[^>]*>(.*?)</td>', row_html, re.S):
        found[label].add(_text(cell))
        found[label].update(html.unescape(v) for v in re.findall(r'<input[^>]*\svalue="([^"]*)"', cell))
    return found


def _table(client) -> tuple[list[Seen], list[int]]:
    """Every page of the person table: one Seen per row, and the record ids linked."""
    seen, ids, url = [], [], "/ledgers/person"
    while url:
        page = client.get(url).get_data(as_text=True)
        body = page[page.index("<tbody>") : page.index("</tbody>")] if "<tbody>" in page else ""
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            rid = int(re.search(r"/ledgers/person/records/(\d+)", row).group(1))
            seen.append(("table", str(rid), _cells(row, "data-label")))
            ids.append(rid)
        following = re.search(r'<a class="btn" href="([^"]+)"[^>]*rel="next"', page)
        url = html.unescape(following.group(1)) if following else None
    return seen, ids


def _record(client, rid: int) -> Seen:
    """A record page: its fields and its version history, as one person."""
    page = client.get(f"/ledgers/person/records/{rid}").get_data(as_text=True)
    found: dict[str, set[str]] = defaultdict(set)
    for name, value in re.findall(r'<span class="value" id="v-(\w+)">(.*?)</span>', page, re.S):
        found[name].add(_text(value))
    for title, value in re.findall(r'<li><span class="muted">([^<：]+)：</span>(.*?)</li>', page, re.S):
        found[title].update(_text(v) for v in re.split(r"→", value))
    return "record", str(rid), found


def _job_file(client, response) -> bytes:
    """Follow a started job (run inline by the test app) to its file."""
    assert response.status_code == 302, response.status_code
    with client.get(response.headers["Location"] + "/download") as download:
        assert download.status_code == 200
        return download.data


def _csv(data: bytes, source: str) -> list[Seen]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    at = next(n for n, row in enumerate(rows) if ID_LABELS & {_leaf(c) for c in row})
    header = [_leaf(c) for c in rows[at]]
    return [
        (source, None, {label: {value} for label, value in zip(header, row, strict=False)})
        for row in rows[at + 1 :]
    ]


def _leaf(title: str) -> str:
    """Return a column title without its group captions (task workbooks join them with ·)."""
    return str(title or "").split("·")[-1]


def _xlsx(data: bytes, source: str) -> list[Seen]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    at = next(n for n, row in enumerate(rows) if ID_LABELS & {_leaf(c) for c in row})
    header = [_leaf(c) for c in rows[at]]
    return [
        (source, row[0], {label: {value} for label, value in zip(header, row, strict=False)})
        for row in rows[at + 1 :]
    ]


def _grid(client, task_id: int) -> list[Seen]:
    """Every page of a task grid: one Seen per row (the phone cards repeat the same values)."""
    seen, url = [], f"/tasks/{task_id}"
    while url:
        page = client.get(url).get_data(as_text=True)
        for ref, row in re.findall(r'<tr class="task-row[^"]*" id="row-g(\w+)">(.*?)</tr>', page, re.S):
            seen.append(("grid", ref, _cells(row, "data-field")))
        following = re.search(r'href="(/tasks/\d+\?after=[^"]+)"', page)
        url = html.unescape(following.group(1)) if following else None
    return seen


def _drilldown(client, code: str, unit: str) -> list[Seen]:
    """A department's drill-down into one township: its rows, then each row's own page."""
    page = client.get(f"/reports/{code}/summary/{unit}").get_data(as_text=True)
    rows = page.index('class="records cards summary-rows"')
    body = page[page.index("<tbody>", rows) : page.index("</tbody>", rows)]
    link = rf"/reports/{code}/summary/{unit}/rows/(\w+)"
    seen: list[Seen] = [
        ("drill-down", re.search(link, row).group(1), _cells(row, "data-label"))
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
        if re.search(link, row)
    ]
    for ref in re.findall(link, page)[:3]:
        one = client.get(f"/reports/{code}/summary/{unit}/rows/{ref}").get_data(as_text=True)
        fields: dict[str, set[str]] = defaultdict(set)
        for title, value in re.findall(r"<dt>(.*?)</dt><dd>(.*?)(?:<small|</dd>)", one, re.S):
            fields[_text(title)].add(_text(value))
        seen.append(("drill-down row", ref, fields))
    return seen


# --- the attack -------------------------------------------------------------------------------


def _days(shown: Iterable[str], ages: Iterable[str], age_day: date | None) -> list[date]:
    """Return every birth date consistent with the dates, years and ages shown."""
    low, high = FIRST_DAY, LAST_DAY
    for text in shown:
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            low, high = max(low, day), min(high, day)
        elif m := re.fullmatch(r"(\d{4})(年)?", text):
            low, high = max(low, date(int(m[1]), 1, 1)), min(high, date(int(m[1]), 12, 31))
    for text in ages:
        if text.isdigit() and age_day is not None:  # n on age_day: born in (day - n-1 years, day - n years]
            n = int(text)
            low = max(low, age_day.replace(year=age_day.year - n - 1) + timedelta(days=1))
            high = min(high, age_day.replace(year=age_day.year - n))
    return [low + timedelta(days=k) for k in range((high - low).days + 1)]


def candidates(masked: str, shown: dict[str, set[str]], codes: list[str], age_day: date | None) -> int:
    """Count the ID numbers (stopping at 2) that fit a masked one and all else shown of the person."""
    if len(masked) != 18:
        return 2
    known = {i: c for i, c in enumerate(masked) if c != "*"}
    fits = [c for c in codes if all(known.get(i, ch) == ch for i, ch in enumerate(c))]
    born = _days(_values(shown, BIRTH_LABELS), _values(shown, AGE_LABELS), age_day)
    days = [
        d
        for d in (b.strftime("%Y%m%d") for b in born)
        if all(known.get(6 + i, ch) == ch for i, ch in enumerate(d))
    ]
    genders = _values(shown, GENDER_LABELS)
    seqs = [
        f"{n:03d}"
        for n in range(1000)
        if all(known.get(14 + i, ch) == ch for i, ch in enumerate(f"{n:03d}"))
        and not ("男" in genders and n % 2 == 0)
        and not ("女" in genders and n % 2 == 1)
    ]
    found = 0
    for code in fits:
        for day in days:
            for seq in seqs:
                first17 = code + day + seq
                if 17 in known and id_check_char(first17) != known[17]:
                    continue
                found += 1
                if found > 1:
                    return found
    return found


def _values(shown: dict[str, set[str]], labels: set[str]) -> set[str]:
    return {v for label in labels for v in shown.get(label, ()) if v not in ("", "—", "（空）")}


def _people(seen: list[Seen]) -> list[list[Seen]]:
    """Group what was received by person: by record where the page or file names it, else one by one.

    Grouping by record gives the attack everything shown of a person at once, as an attacker who
    links the pages (by name, household, village …) would have it.
    """
    people: dict[object, list[Seen]] = defaultdict(list)
    for n, (source, ref, shown) in enumerate(seen):
        if _values(shown, ID_LABELS):
            people[ref if ref is not None else n].append((source, ref, shown))
    return list(people.values())


def attempt(seen: list[Seen], codes: list[str], age_day: date | None) -> list[str]:
    """Return what the attack found: a line per ID number rebuilt, per certificate showing digits."""
    broken = []
    for source, _ref, shown in seen:
        for cert in _values(shown, CERT_LABELS):
            if re.search(r"[0-9X]", cert):
                broken.append(f"{source}: 残疾人证号 {cert} shows digits")
    for sightings in _people(seen):
        everything: dict[str, set[str]] = defaultdict(set)
        for _source, _ref, shown in sightings:  # one person: what every page and file showed, at once
            for label, values in shown.items():
                everything[label] |= values
        sources = "+".join(sorted({s for s, _ref, _shown in sightings}))
        for masked in _values(everything, ID_LABELS):
            if "*" not in masked:
                broken.append(f"{sources}: ID number {masked} in clear")
            elif candidates(masked, everything, codes, age_day) < 2:
                broken.append(
                    f"{sources}: {masked} with {sorted(_values(everything, BIRTH_LABELS))} "
                    "rebuilds to one ID number"
                )
    return broken


# --- the test ---------------------------------------------------------------------------------


@pytest.fixture
def demo(engine, specs, make_app):
    """The tiny demo district with its demo reports: the survey dispatched, three townships submitted."""
    from runtime.demo.load import seed
    from runtime.demo.reports import load_demo_reports

    seed(engine, specs, "tiny", 7)
    load_demo_reports(engine, specs)
    app = make_app(engine.url.render_as_string(hide_password=False))
    yield app
    close_app(app)


def _login(client, username: str) -> None:
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": "yibiaotong"}).status_code == 302


def test_no_role_can_rebuild_a_masked_id_number_from_what_it_receives(demo, engine):
    with engine.connect() as conn:
        keys = conn.scalars(select(Record.key).where(Record.ledger == "person")).all()
        certs = {
            rid
            for rid, data in conn.execute(
                select(Record.id, Record.data).where(
                    Record.ledger == "person", Record.data["disability_cert_no"].as_string().is_not(None)
                )
            )
        }
        survey = select(Report.id).where(Report.code == SURVEY).scalar_subquery()
        tasks = dict(conn.execute(select(Task.org_unit_code, Task.id).where(Task.report_id == survey)).all())
        deadline = conn.execute(select(Task.deadline).where(Task.id == tasks[LAISU])).scalar_one()
    codes = sorted({"500118", *(k[:6] for k in keys)})
    assert len(codes) > 1 and certs
    client = demo.test_client()
    received: dict[str, list[Seen]] = {}
    for username in ("minzheng", "canlian", "tuiyi", "laisu", "wangge", "leader", "reviewer"):
        _login(client, username)
        seen, ids = _table(client)
        assert seen, f"{username} sees persons"
        sample = [i for i in ids if i in certs][:4] + [i for i in ids if i not in certs][:4]
        seen += [_record(client, rid) for rid in sample]
        exported = client.post("/ledgers/person/export", data={"fmt": "csv"})
        if exported.status_code != 403:  # the roles that may not export in bulk get nothing
            seen += _csv(_job_file(client, exported), "export")
        received[username] = seen
    _login(client, "laisu")
    key = make_id_number("19661231", 731)  # a person the ledger lacks, added in the grid
    added = client.post(
        f"/tasks/{tasks[LAISU]}/added",
        data={
            "id_number": key,
            "name": "新登记",
            "r:household_no": "5001181089999",
            "r:relation_to_head": "户主",
            "r:village_code": next(v for v in _villages(demo) if v.startswith(LAISU)),
        },
    )
    assert added.status_code == 302, "the new row was added"
    received["laisu"] += _grid(client, tasks[LAISU])
    received["laisu"] += _xlsx(_job_file(client, client.post(f"/tasks/{tasks[LAISU]}/download")), "task xlsx")
    _login(client, "canlian")
    for unit in SUBMITTED:
        received["canlian"] += _drilldown(client, SURVEY, unit)
    received["canlian"] += _csv(
        _job_file(
            client, client.post(f"/report-data/{SURVEY}/export", data={"fmt": "csv", "include_open": "1"})
        ),
        "summary export",
    )
    _login(client, "tuiyi")
    received["tuiyi"] += _csv(
        _job_file(client, client.post(f"/report-data/{EXTRACTED}/extract", data={"fmt": "csv"})), "extraction"
    )

    broken = {username: attempt(seen, codes, deadline) for username, seen in received.items()}
    rebuilt = {u: [line for line in b if "rebuilds" in line or "in clear" in line] for u, b in broken.items()}
    assert rebuilt == dict.fromkeys(received, []), {u: (len(b), b[:2]) for u, b in rebuilt.items() if b}
    assert broken == dict.fromkeys(received, []), {u: (len(b), b[:2]) for u, b in broken.items() if b}
    # The attack had something to work with: every source showed ID numbers beside birth dates.
    dated = {
        username: {
            source
            for source, _ref, shown in seen
            if _values(shown, ID_LABELS) and _values(shown, BIRTH_LABELS)
        }
        for username, seen in received.items()
    }
    assert all({"table", "record"} <= sources for sources in dated.values()), dated
    assert all("export" in dated[u] for u in ("minzheng", "canlian", "tuiyi", "laisu", "wangge")), dated
    assert {"grid", "task xlsx"} <= dated["laisu"] and "extraction" in dated["tuiyi"], dated
    assert {"drill-down", "drill-down row", "summary export"} <= dated["canlian"], dated


def _villages(app) -> list[str]:
    from web import database

    with app.app_context():
        return [v.code for v in database.specs().villages(LAISU)]


def test_the_attack_rebuilds_what_the_old_mask_showed():
    """The attack itself works: the first 6 and last 4 with the birth date make one ID number."""
    key = make_id_number("19660714", 611)
    old = {"公民身份号码": {key[:6] + "*" * 8 + key[-4:]}, "出生日期": {"1966-07-14"}}
    assert candidates(key[:6] + "*" * 8 + key[-4:], old, ["500118", "500383"], None) == 1
    new = {"公民身份号码": {"*" * 14 + key[-4:]}, "出生日期": {"1966年"}}
    assert candidates("*" * 14 + key[-4:], new, ["500118"], None) > 1
    # An age on the deadline beside the year would narrow a late-December birthday to a few days.
    late = make_id_number("19661229", 611)
    aged = {"出生日期": {"1966年"}, "年龄（周岁）": {"59"}}
    assert candidates("*" * 14 + late[-4:], aged, ["500118"], date(2026, 12, 20)) <= 2
