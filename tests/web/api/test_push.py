"""POST /api/v1/ledgers/{ledger}/records: bulk upsert by key, proposals, dry run, idempotency, jobs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from runtime.models import AuditEntry, FeedEvent, ProposedChange, Record, RecordVersion
from tests.conftest import close_app, make_test_app
from tests.web.api.conftest import ApiCaller, make_token

URL = "/api/v1/ledgers/person/records"


@pytest.fixture
def pushing(engine, tmp_path):
    """Return (app engine, caller factory by department code) on a fresh database."""
    app = make_test_app(engine.url.render_as_string(hide_password=False), tmp_path)
    client = app.test_client()
    yield engine, lambda department: ApiCaller(client, make_token(engine, department))
    close_app(app)


def _counts(engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Record, RecordVersion, ProposedChange, AuditEntry)
        )


def test_created_updated_unchanged_and_provenance(pushing, make_person):
    engine, caller = pushing
    gongan = caller("gongan")
    a, b = make_person(), make_person()
    first = gongan.post(URL, json=[a, b])
    assert first.status_code == 200, first.get_json()
    summary = first.get_json()["summary"]
    assert (summary["total"], summary["created"], summary["rejected"]) == (2, 2, 0)
    again = gongan.post(URL, json=[a | {"name": "李四"}, b])
    body = again.get_json()
    assert (body["summary"]["updated"], body["summary"]["unchanged"]) == (1, 1)
    assert [r["result"] for r in body["rows"]] == ["updated", "unchanged"]
    with engine.connect() as conn:
        sources = conn.execute(select(RecordVersion.source, RecordVersion.source_ref)).all()
        feeds = conn.execute(select(FeedEvent.kind, FeedEvent.rows, FeedEvent.created)).all()
    assert set(sources) == {("api", "gongan 测试系统")}
    assert feeds == [("push", 2, 2), ("push", 2, 0)]


def test_dry_run_writes_nothing(pushing, make_person):
    engine, caller = pushing
    gongan = caller("gongan")
    gongan.post(URL, json=[make_person()])
    before = _counts(engine)
    response = gongan.post(URL, json=[make_person(), make_person(name="")], dry_run="true")
    summary = response.get_json()["summary"]
    assert (summary["created"], summary["rejected"], summary["dry_run"], summary["written"]) == (
        1,
        1,
        True,
        False,
    )
    assert _counts(engine) == before


def test_another_departments_element_becomes_a_proposal(pushing, make_person):
    engine, caller = pushing
    person = make_person()
    caller("gongan").post(URL, json=[person])
    canlian = caller("canlian")
    response = canlian.post(
        URL, json=[{"id_number": person["id_number"], "disability_category": "肢体", "name": "改名"}]
    )
    body = response.get_json()
    assert response.status_code == 200, body
    row = body["rows"][0]
    assert row["proposed"] == ["name"]
    assert body["summary"]["proposals"] == 1
    assert "张" not in str(body)  # the owner's current value is never echoed
    with engine.connect() as conn:
        proposal = conn.execute(select(ProposedChange.field, ProposedChange.source)).one()
    assert tuple(proposal) == ("name", "api")
    # 区残联 cannot create a person: the required identity fields are 区公安分局's.
    created = canlian.post(URL, json=[make_person()]).get_json()["rows"][0]
    assert (created["result"], created["errors"][0]["code"]) == ("rejected", "cannot_create")


def test_rejected_rows_carry_coded_chinese_reasons_and_modes(pushing, make_person):
    engine, caller = pushing
    gongan = caller("gongan")
    rows = [make_person(), make_person(gender="外星"), {"name": "无键"}, {"id_number": "1", "bogus": 1}]
    body = gongan.post(URL, json=rows).get_json()
    results = [(r["result"], [e["code"] for e in r["errors"]]) for r in body["rows"]]
    assert results[0] == ("created", []), body["rows"][0]
    assert results[1][0] == "rejected" and results[1][1] == ["invalid_value"]
    assert "key_missing" in results[2][1] or "required_missing" in results[2][1]
    assert "unknown_field" in results[3][1]
    assert all(
        any("\u4e00" <= c <= "\u9fff" for c in e["message"]) for r in body["rows"] for e in r["errors"]
    )
    before = _counts(engine)
    refused = gongan.post(URL, json=[make_person(), make_person(gender="外星")], mode="all_or_nothing")
    assert refused.status_code == 422
    assert refused.content_type == "application/problem+json"
    assert refused.get_json()["summary"]["written"] is False
    assert _counts(engine)[:3] == before[:3]


def test_idempotent_retry_and_key_reuse(pushing, make_person):
    engine, caller = pushing
    gongan = caller("gongan")
    rows = [make_person()]
    first = gongan.post(URL, json=rows, headers={"Idempotency-Key": "k1"})
    before = _counts(engine)
    retry = gongan.post(URL, json=rows, headers={"Idempotency-Key": "k1"})
    assert retry.status_code == first.status_code == 200
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert _counts(engine) == before
    reused = gongan.post(URL, json=[make_person()], headers={"Idempotency-Key": "k1"})
    assert (reused.status_code, reused.get_json()["code"]) == (409, "idempotency_key_reused")


def test_csv_with_chinese_headers(pushing, make_person):
    _engine, caller = pushing
    p = make_person()
    text = "公民身份号码,姓名,性别,出生日期,所属镇街,所属村（社区）,户编号,与户主关系\n"
    text += ",".join(p[k] for k in ("id_number", "name", "gender", "birth_date")) + ","
    text += ",".join(p[k] for k in ("township_code", "village_code", "household_no", "relation_to_head"))
    response = caller("gongan").post(URL, data=text.encode("gb18030"), content_type="text/csv")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["summary"]["created"] == 1, body


def test_unsupported_type_and_too_large(pushing, engine, tmp_path):
    _engine, caller = pushing
    gongan = caller("gongan")
    assert gongan.post(URL, data=b"x", content_type="application/xml").status_code == 415
    app_limit = 2048
    url = engine.url.render_as_string(hide_password=False)
    app = make_test_app(url, tmp_path / "small", API_PUSH_MAX_BYTES=app_limit)
    small = ApiCaller(app.test_client(), make_token(engine, "gongan", name="小"))
    response = small.post(URL, data=b"[" + b" " * 4096 + b"]", content_type="application/json")
    assert (response.status_code, response.content_type) == (413, "application/problem+json")
    close_app(app)


def test_job_path_with_status_url(pushing, make_person, tmp_path):
    engine, caller = pushing
    gongan = caller("gongan")
    rows = [make_person(), make_person()]
    accepted = gongan.post(URL, json=rows, headers={"Idempotency-Key": "job"}, **{"async": "true"})
    assert accepted.status_code == 202, accepted.get_json()
    url = accepted.get_json()["status_url"]
    status = gongan.get(url).get_json()
    assert status["status"] == "done", status
    assert status["result"]["summary"]["created"] == 2
    assert caller("canlian").get(url).status_code == 404
    # The body went to disk as it arrived; the job deleted it, and a replay saves nothing.
    replay = gongan.post(URL, json=rows, headers={"Idempotency-Key": "job"}, **{"async": "true"})
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (202, "true")
    assert list((tmp_path / "uploads").iterdir()) == []


CSV_TITLES = "公民身份号码,姓名,性别,出生日期,所属镇街,所属村（社区）,户编号,与户主关系"
CSV_FIELDS = (
    "id_number",
    "name",
    "gender",
    "birth_date",
    "township_code",
    "village_code",
    "household_no",
    "relation_to_head",
)


@pytest.mark.parametrize(
    ("encoding", "job"), [("gb18030", False), ("utf-8-sig", False), ("gb18030", True), ("utf-8-sig", True)]
)
def test_csv_is_read_as_a_stream_in_its_encoding(pushing, make_person, encoding, job):
    """A CSV longer than the bytes that decide its encoding: title line, header, a blank line."""
    engine, caller = pushing
    people = [make_person(name="欧阳" + "娜" * 40 + str(i)) for i in range(400)]  # > 64 KiB of text
    lines = ["人口信息推送表", CSV_TITLES]
    lines += [",".join(p[k] for k in CSV_FIELDS) for p in people[:200]]
    lines += [""]
    lines += [",".join(p[k] for k in CSV_FIELDS) for p in people[200:]]
    data = "\r\n".join(lines).encode(encoding)
    assert len(data) > 65536
    extra = {"async": "true"} if job else {}
    response = caller("gongan").post(URL, data=data, content_type="text/csv", **extra)
    body = response.get_json()
    if job:
        assert response.status_code == 202, body
        body = caller("gongan").get(body["status_url"]).get_json()["result"]
    assert body["summary"]["created"] == 400, body["summary"]
    assert body["summary"]["rejected"] == 0
    with engine.connect() as conn:
        names = set(conn.execute(select(Record.label).where(Record.ledger == "person")).scalars())
    assert names == {p["name"] for p in people}


def test_text_with_control_characters_is_rejected_per_row(pushing, make_person):
    engine, caller = pushing
    gongan = caller("gongan")
    good, bad = make_person(), make_person(name="张\u0000三")
    body = gongan.post(URL, json=[good, bad, make_person(name="李\u0085四")]).get_json()
    assert [(r["result"], [e["code"] for e in r["errors"]]) for r in body["rows"]] == [
        ("created", []),
        ("rejected", ["control_character"]),
        ("rejected", ["control_character"]),
    ]
    assert body["rows"][1]["errors"][0]["field"] == "name"
    other = make_person()
    text = CSV_TITLES + "\n" + ",".join(other[k] for k in CSV_FIELDS).replace("张", "张\x00")
    csv_body = gongan.post(URL, data=text.encode(), content_type="text/csv").get_json()
    assert csv_body["rows"][0]["errors"][0]["code"] == "control_character", csv_body
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Record)).scalar_one() == 1
