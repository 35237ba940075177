"""Ledger import: good, mixed and bad files; rejected rows reported; idempotent re-import."""

import csv
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from builder.problems import ImportRefused
from runtime.access import Viewer
from runtime.ledgers.imports import import_file
from runtime.ledgers.store import Query, get_by_key, history, read_all
from runtime.models import Record, RecordVersion

KEEPER = Viewer(2, "keeper")
HEADER = [
    "序号",
    "身份证号码",
    "姓名",
    "性别",
    "出生年月",
    "所属镇街",
    "所属村（社区）",
    "户编号",
    "与户主关系",
    "手机号码",
    "文化程度",
]


def person_cells(person, **over):
    """One spreadsheet row the way a township types it."""
    cells = {
        "身份证号码": person["id_number"],
        "姓名": person["name"],
        "性别": person["gender"],
        "出生年月": person["birth_date"].replace("-", "."),
        "所属镇街": "中山路街道",
        "所属村（社区）": person["village_code"],
        "户编号": person["household_no"],
        "与户主关系": person["relation_to_head"],
        "手机号码": "",
        "文化程度": "本科",
    }
    cells.update(over)
    return cells


def csv_bytes(rows, encoding="gb18030", preamble=True):
    out = io.StringIO()
    writer = csv.writer(out)
    if preamble:
        writer.writerow(["永川区人口信息登记表"])
        writer.writerow(["填报单位：中山路街道", "", "", "填报日期：2026年11月1日"])
    writer.writerow(HEADER)
    for n, row in enumerate(rows, 1):
        writer.writerow([n] + [row.get(h, "") for h in HEADER[1:]])
    return out.getvalue().encode(encoding)


def run(engine, specs, data, filename, tmp_path, ledger="person", max_bytes=10_000_000):
    with engine.begin() as conn:
        return import_file(
            conn, specs, ledger, data, filename, KEEPER, tmp_path / "reports", max_bytes=max_bytes
        )


def count_rows(engine, model):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_good_gb18030_csv_below_a_title_imports_every_row(engine, specs, make_person, tmp_path):
    people = [make_person(), make_person()]
    result = run(engine, specs, csv_bytes([person_cells(p) for p in people]), "人口.csv", tmp_path)
    assert (result.total, result.created, result.rejected) == (2, 2, 0)
    assert result.header_row == 3
    with engine.connect() as conn:
        stored = get_by_key(conn, specs.ledgers["person"], people[0]["id_number"])
        versions = history(conn, stored["_id"])
    assert stored["education"] == "大学本科"
    assert stored["birth_date"] == people[0]["birth_date"]
    assert stored["township_code"] == "500118001"
    assert "phone" not in stored
    assert versions[0]["source"] == "import" and versions[0]["source_ref"] == "人口.csv"


def test_reimporting_the_same_file_changes_nothing(engine, specs, make_person, tmp_path):
    data = csv_bytes([person_cells(make_person()) for _ in range(3)])
    run(engine, specs, data, "a.csv", tmp_path)
    again = run(engine, specs, data, "a.csv", tmp_path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert count_rows(engine, RecordVersion) == 3


def test_a_mixed_file_imports_the_good_rows_and_reports_the_bad(engine, specs, make_person, tmp_path):
    good, bad_check, bad_gender = make_person(), make_person(), make_person()
    broken_id = bad_check["id_number"][:17] + ("1" if bad_check["id_number"][17] != "1" else "2")
    rows = [
        person_cells(good),
        person_cells(bad_check, 身份证号码=broken_id),
        person_cells(bad_gender, 性别="雄"),
        person_cells(make_person(), 身份证号码="5.00118198503151E+17"),
    ]
    result = run(engine, specs, csv_bytes(rows, encoding="utf-8-sig"), "mixed.csv", tmp_path)
    assert (result.total, result.created, result.rejected) == (4, 1, 3)
    sheet = openpyxl.load_workbook(result.report).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    flat = "\n".join(str(v) for row in values for v in row if v is not None)
    assert "校验位错误" in flat
    assert "雄" in flat and "不在可选范围内" in flat
    assert "Excel" in flat and "后几位已丢失" in flat
    assert broken_id in flat, "the rejected row keeps what was uploaded"
    with engine.connect() as conn:
        keys = [r["_key"] for r in read_all(conn, Query(specs.ledgers["person"]))]
    assert keys == [good["id_number"]]


def test_an_xlsx_file_imports(engine, specs, make_person, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    person = make_person()
    sheet.append([1] + [person_cells(person).get(h, "") for h in HEADER[1:]])
    buffer = io.BytesIO()
    book.save(buffer)
    result = run(engine, specs, buffer.getvalue(), "人口.xlsx", tmp_path)
    assert (result.created, result.rejected) == (1, 0)


@pytest.mark.parametrize(
    "data, filename, ledger, words",
    [
        (b"%PDF-1.4 not a sheet", "人口.pdf", "person", "不支持"),
        (b"PK\x03\x04 broken zip", "人口.xlsx", "person", ""),
        (b"", "empty.csv", "person", "空"),
        ("姓名,年龄\n张三,30\n".encode(), "noheader.csv", "person", "表头"),
        ("身份证号码\n".encode(), "x.csv", "pets", "pets"),
    ],
)
def test_a_bad_file_is_refused_in_chinese_and_writes_nothing(
    engine, specs, tmp_path, data, filename, ledger, words
):
    with pytest.raises(ImportRefused) as refused:
        run(engine, specs, data, filename, tmp_path, ledger=ledger)
    assert words in refused.value.message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    assert count_rows(engine, Record) == 0


def test_a_file_over_the_size_limit_is_refused(engine, specs, make_person, tmp_path):
    data = csv_bytes([person_cells(make_person())])
    with pytest.raises(ImportRefused) as refused:
        run(engine, specs, data, "big.csv", tmp_path, max_bytes=100)
    assert "MB" in refused.value.message or "大小" in refused.value.message
    assert count_rows(engine, Record) == 0


def test_a_township_user_cannot_import_another_townships_rows(engine, specs, make_person, tmp_path):
    own, other = make_person(), make_person()
    rows = [person_cells(own), person_cells(other, 所属镇街="来苏镇", **{"所属村（社区）": "500118108001"})]
    with engine.begin() as conn:
        result = import_file(
            conn,
            specs,
            "person",
            csv_bytes(rows),
            "t.csv",
            Viewer(5, "township", township="500118001"),
            tmp_path,
            max_bytes=10_000_000,
        )
    assert (result.created, result.rejected) == (1, 1)
    sheet = openpyxl.load_workbook(result.report).active
    assert any("辖区" in str(v) for row in sheet.iter_rows(values_only=True) for v in row)


def test_a_large_import_waits_its_turn_and_says_so(engine, specs, make_person, tmp_path, monkeypatch):
    """While another large file is read in the process, an import job waits, showing why, then runs."""
    import time

    from builder.tabular.limits import ReadLimits, one_large_parse
    from runtime.jobs import runner as jobs
    from runtime.jobs.work import WAITING

    monkeypatch.setenv("LARGE_PARSE_CELLS", "1")  # every file is a large one here
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "u.csv").write_bytes(csv_bytes([person_cells(make_person())]))
    params = {
        "ledger": "person",
        "upload": "u.csv",
        "filename": "人员.csv",
        "user_id": KEEPER.user_id,
        "max_bytes": 10 * 1024 * 1024,
    }
    folders = {"upload": str(uploads), "report": str(tmp_path / "reports")}
    with one_large_parse(10, "另一个.xlsx", ReadLimits(large_cells=1)):  # this thread reads a large file
        job_id = jobs.submit(
            engine,
            "import",
            "导入",
            KEEPER.user_id,
            "runtime.jobs.work:import_upload",
            params,
            specs=specs,
            folders=folders,
        )
        deadline = time.monotonic() + 30
        while jobs.note(engine, job_id) != WAITING and time.monotonic() < deadline:
            time.sleep(0.02)
        assert jobs.note(engine, job_id) == WAITING and jobs.get(engine, job_id).status == "running"
    assert jobs.wait_for_threads()
    job = jobs.get(engine, job_id)
    assert (job.status, job.result["created"]) == ("done", 1), job.message
    assert jobs.note(engine, job_id) is None


def test_a_file_of_the_key_and_a_phone_updates_existing_people_and_refuses_new_ones(
    engine, specs, make_person, tmp_path
):
    """A file of some columns: existing records take its values; a new record needs every required field."""
    people = [make_person(), make_person()]
    run(engine, specs, csv_bytes([person_cells(p) for p in people]), "people.csv", tmp_path)
    stranger = make_person()

    def phones(rows):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["公民身份号码", "联系电话"])
        writer.writerows(rows)
        return out.getvalue().encode("utf-8-sig")

    data = phones(
        [
            [people[0]["id_number"], "13911112222"],
            [people[1]["id_number"], "13933334444"],
            [stranger["id_number"], "13955556666"],
        ]
    )
    result = run(engine, specs, data, "phones.csv", tmp_path)
    assert (result.total, result.created, result.updated, result.rejected) == (3, 0, 2, 1)
    with engine.connect() as conn:
        first = get_by_key(conn, specs.ledgers["person"], people[0]["id_number"])
    assert first["phone"] == "13911112222" and first["name"] == people[0]["name"], "other fields kept"
    report = openpyxl.load_workbook(result.report, read_only=True).active
    text = " ".join(str(c) for row in report.iter_rows(values_only=True) for c in row if c)
    assert stranger["id_number"] in text, "the refused row keeps what was uploaded"
    # Every required field the new record lacks is named, not only the first.
    assert "新建时「姓名」必须填写" in text and "新建时「性别」必须填写" in text
    again = run(engine, specs, data, "phones.csv", tmp_path)
    assert (again.updated, again.unchanged, again.rejected) == (0, 2, 1), "idempotent"
