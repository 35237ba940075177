"""Importing through the upload page: a job with progress, a summary, the error report."""

from __future__ import annotations

import io
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from builder.checkdigits import id_check_char
from runtime.models import Record, RecordVersion
from tests import bombs


def _id(birth: str, seq: str) -> str:
    first17 = "500118" + birth + seq
    return first17 + id_check_char(first17)


GOOD_1, GOOD_2 = _id("19900102", "011"), _id("19850305", "022")
CSV = "\n".join(
    [
        "序号,姓名,身份证号,性别,出生日期,所属镇街,所属村（社区）,户编号,与户主关系,联系电话,备注栏",
        f"1,张三,{GOOD_1},男,1990-01-02,中山路街道,萱花社区,5001180019990001,户主,13812345678,",
        f"2,李四,{GOOD_2},女,1985.3.5,中山路街道,萱花社区,5001180019990001,配偶,,",
        "3,王五,12345,男,1985-03-05,中山路街道,萱花社区,5001180019990002,户主,,",
    ]
).encode("utf-8")


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Record)).scalar_one()


def _upload(client, data: bytes, filename: str, **kw):
    return client.post(
        "/ledgers/person/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        **kw,
    )


def test_upload_page_accepts_spreadsheets(fresh_client, fresh_auth):
    """The page offers a file input for Excel and CSV files."""
    fresh_auth.login("keeper")
    page = fresh_client.get("/ledgers/person/import").get_data(as_text=True)
    assert 'type="file"' in page and 'accept=".xlsx,.xls,.csv"' in page
    assert "导入人口台账" in page


def test_csv_import_creates_records_and_the_error_report_downloads(fresh_client, fresh_auth, engine):
    """Good rows become records (source 台账导入); the bad row is in the downloadable report."""
    fresh_auth.login("keeper")
    before = _count(engine)
    response = _upload(fresh_client, CSV, "中山路人口.csv")
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = fresh_client.get(job_url).get_data(as_text=True)
    assert "共 3 行：新增 2，更新 0，无变化 0，拒绝 1" in page
    assert "<dt>新增</dt><dd>2</dd>" in page and "<dt>拒绝</dt><dd>1</dd>" in page
    assert "备注栏" in page  # the column nothing matched is named
    assert _count(engine) == before + 2
    with engine.connect() as conn:
        sources = conn.execute(
            select(RecordVersion.source, RecordVersion.source_ref)
            .join(Record, Record.id == RecordVersion.record_id)
            .where(Record.key.in_([GOOD_1, GOOD_2]))
        ).all()
    assert sorted(sources) == [("import", "中山路人口.csv")] * 2

    with fresh_client.get(job_url + "/report") as report:
        assert report.status_code == 200
        assert "filename*=UTF-8''%E4%B8%AD" in report.headers["Content-Disposition"]  # 中…
        content = report.data
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    bad = next(r for r in rows if "王五" in r)
    assert any("18位" in str(c) for c in bad)


def test_import_job_is_private_to_its_user(fresh_client, fresh_auth):
    """Another user cannot see the job or download its report."""
    fresh_auth.login("keeper")
    job_url = _upload(fresh_client, CSV, "p.csv").headers["Location"]
    fresh_auth.login("admin")
    assert fresh_client.get(job_url).status_code == 404
    assert fresh_client.get(job_url + "/report").status_code == 404


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"%PDF-1.4 not a table", "名单.pdf", "不支持"),
        (b"\x00\x01\x02 this is no workbook", "名单.xlsx", "不是"),
        (b"", "empty.csv", "是空的"),
    ],
)
def test_non_spreadsheet_is_refused_in_chinese_and_writes_nothing(
    fresh_client, fresh_auth, engine, data, filename, message
):
    """A file that is not a table fails the job with the Chinese reason; no record changes."""
    fresh_auth.login("keeper")
    before = _count(engine)
    response = _upload(fresh_client, data, filename, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "<html" not in page  # htmx gets the job fragment
    assert 'class="card job job-failed"' in page and message in page
    assert "没有写入任何数据" in page
    assert _count(engine) == before


def test_upload_without_a_file_asks_for_one(fresh_client, fresh_auth):
    """Submitting the form empty says what is missing."""
    fresh_auth.login("keeper")
    response = fresh_client.post("/ledgers/person/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "请选择要导入的文件" in response.get_data(as_text=True)


def test_background_import_shows_progress_until_done(fresh_app, fresh_client, fresh_auth, engine):
    """With a real background job the fragment polls every 500 ms, then shows the result."""
    fresh_app.config["JOBS_IN_BACKGROUND"] = True
    fresh_auth.login("keeper")
    fragment = _upload(fresh_client, CSV, "bg.csv", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    job_id = text.split('id="job-', 1)[1].split('"', 1)[0]
    deadline = time.monotonic() + 30
    while 'hx-trigger="every 500ms"' in text and time.monotonic() < deadline:
        time.sleep(0.05)
        text = fresh_client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 500ms"' not in text
    assert "新增 2" in text


# --- hostile files, the error report's cap, private files ---------------------------------------


@pytest.mark.parametrize(
    ("build", "filename", "message"),
    [
        (lambda: bombs.cell_bomb(100), "人员.xlsx", "超过了 4,000,000 个的上限"),
        (bombs.corner_bomb, "人员.xlsx", "超过了 2,000 列的上限"),
        (bombs.xls_corners, "人员.xls", "超过了 4,000,000 个的上限"),
        (lambda: b"1\n" * 200_000, "人员.csv", "超过了 100,000 个的上限"),
    ],
)
def test_a_decompression_bomb_fails_the_job_in_chinese_and_writes_nothing(
    fresh_app, fresh_client, fresh_auth, engine, monkeypatch, build, filename, message
):
    """A small file that would take gigabytes to parse is refused before it is parsed."""
    if filename.endswith(".csv"):  # millions of tiny rows: here fewer, under a lower limit
        monkeypatch.setenv("IMPORT_MAX_CELLS", "100000")
    fresh_auth.login("keeper")
    before = _count(engine)
    response = _upload(fresh_client, build(), filename, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert 'class="card job job-failed"' in page and message in page and "没有写入任何数据" in page
    assert _count(engine) == before
    assert not list(Path(fresh_app.config["UPLOAD_DIR"]).iterdir()), "the upload is deleted"
    reports = Path(fresh_app.config["REPORT_DIR"])
    assert not reports.exists() or not list(reports.iterdir()), "no error report"


def test_the_error_report_lists_the_first_rows_and_counts_the_rest(
    fresh_app, fresh_client, fresh_auth, engine, monkeypatch
):
    """A file of many bad rows gets a report of the first N, then a line saying how many more."""
    monkeypatch.setenv("ERROR_REPORT_MAX_ROWS", "4")
    fresh_auth.login("keeper")
    bad = [f"{n},王{n},12345,男,1985-03-05,中山路街道,萱花社区,5001180019990002,户主,," for n in range(10)]
    data = "\n".join([CSV.decode().splitlines()[0], *bad]).encode()
    job_url = _upload(fresh_client, data, "坏.csv").headers["Location"]
    assert "<dt>拒绝</dt><dd>10</dd>" in fresh_client.get(job_url).get_data(as_text=True)
    with fresh_client.get(job_url + "/report") as report:
        sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert sum(1 for r in rows if any(str(c).startswith("王") for c in r)) == 4
    assert "另有 6 行被拒绝" in str(rows[-1][0])


def test_uploads_and_error_reports_are_readable_by_their_owner_only(fresh_app, fresh_client, fresh_auth):
    """The files the app keeps under its folders are 0600, the folders 0700."""
    fresh_auth.login("keeper")
    job_url = _upload(fresh_client, CSV, "p.csv").headers["Location"]
    assert fresh_client.get(job_url).status_code == 200
    reports = Path(fresh_app.config["REPORT_DIR"])
    (report,) = reports.iterdir()
    assert report.stat().st_mode & 0o777 == 0o600
    for folder in ("REPORT_DIR", "UPLOAD_DIR", "EXPORT_DIR"):
        assert Path(fresh_app.config[folder]).stat().st_mode & 0o777 == 0o700, folder


def test_the_blank_template_downloads_fills_and_imports_back(fresh_client, fresh_auth, engine, specs):
    """The import page's blank template: standard names, formats in comments, drop-downs, text ID column."""
    fresh_auth.login("keeper")
    assert "下载空白导入模板" in fresh_client.get("/ledgers/person/import").get_data(as_text=True)
    with fresh_client.get("/ledgers/person/template") as response:
        assert response.status_code == 200
        data = response.data
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    person = specs.ledgers["person"]
    header = [cell.value for cell in sheet[1]]
    assert header == [f.title for f in person.fields]
    key = header.index(person.by_name[person.key].title)
    assert "关键列" in sheet.cell(1, key + 1).comment.text
    gender = header.index(person.by_name["gender"].title) + 1
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert any(ref.startswith(sheet.cell(2, gender).coordinate) and "男" in f for ref, f in lists.items())
    letter = sheet.cell(1, key + 1).column_letter
    assert sheet.column_dimensions[letter].number_format == "@", "ID numbers stay text: no digit is lost"
    assert sheet.freeze_panes == "A2"
    assert book.sheetnames[1] == "填写说明"

    # Filled in and imported back, it creates the person.
    values = {"name": "模板甲", "id_number": GOOD_1, "gender": "男", "birth_date": "1990-01-02"}
    values |= {"township_code": "中山路街道", "village_code": "萱花社区", "relation_to_head": "户主"}
    values |= {"household_no": "5001180019990001"}
    for name, value in values.items():
        if name in person.by_name:
            sheet.cell(2, header.index(person.by_name[name].title) + 1, value)
    filled = io.BytesIO()
    book.save(filled)
    before = _count(engine)
    response = _upload(fresh_client, filled.getvalue(), "模板.xlsx")
    page = fresh_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "新增 1" in page, page[page.find("共 ") : page.find("共 ") + 80]
    assert _count(engine) == before + 1
    with fresh_client.get("/ledgers/person/template") as response:
        assert response.status_code == 200
    fresh_auth.logout()
    fresh_auth.login("canlian")
    assert fresh_client.get("/ledgers/person/template").status_code == 403
