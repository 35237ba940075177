"""Editing a record by hand: a new version from 手工修改, errors next to fields, stale refusal."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from runtime.models import ProposedChange, Record, RecordVersion, User
from tests.conftest import make_id_number

ZHONGSHANLU = "500118001"


def _record(engine, rid):
    with engine.connect() as conn:
        row = conn.execute(select(Record.data, Record.version).where(Record.id == rid)).one()
    return (json.loads(row.data) if isinstance(row.data, str) else row.data), row.version


def _versions(engine, rid):
    with engine.connect() as conn:
        return conn.execute(
            select(RecordVersion.source, RecordVersion.actor_id, RecordVersion.new)
            .where(RecordVersion.record_id == rid)
            .order_by(RecordVersion.version)
        ).all()


@pytest.fixture
def person(engine, find_record):
    """A person of 中山路街道 with a phone number, in the fresh database."""
    return find_record(engine, "person", township=ZHONGSHANLU, has="phone")


@pytest.fixture
def edit_form(fresh_client, fresh_auth, form_values, person):
    """Log in as keeper and return the edit form's values as a browser would submit them."""
    fresh_auth.login("keeper")
    page = fresh_client.get(f"/ledgers/person/records/{person}/edit").get_data(as_text=True)
    return form_values(page)


def test_form_has_a_widget_per_field_and_masks_sensitive_values(fresh_client, edit_form, engine, person):
    """Enums are selects, booleans 是/否/空; sensitive fields start empty; the birth date is shown, fixed."""
    data, version = _record(engine, person)
    page = fresh_client.get(f"/ledgers/person/records/{person}/edit").get_data(as_text=True)
    assert re.search(r'<select id="f-gender" name="gender"', page)
    assert 'name="birth_date"' not in page and data["birth_date"] not in page
    assert re.search(
        r'<p class="readonly" id="f-birth_date">' + data["birth_date"][:4] + "年 "
        r'<small class="muted">（已脱敏，须与公民身份号码一致，不能单独修改）',
        page,
    )
    assert re.search(r'<select id="f-is_veteran"[^>]*>\s*<option value="">（空）</option>', page)
    assert 'name="id_number"' not in page  # the key is read-only
    assert edit_form["version"] == str(version)
    assert edit_form["phone"] == "" and data["phone"] not in page
    assert data["phone"][:3] + "****" + data["phone"][-4:] in page
    assert edit_form["name"] == data["name"]


def test_date_fields_get_a_date_input(fresh_client, fresh_auth, engine, find_record):
    """A date a viewer sees in clear (a land transfer's start) is a date input holding it."""
    land = find_record(engine, "land", has="transfer_start")
    data, _version = _record(engine, land)
    fresh_auth.login("keeper")
    page = fresh_client.get(f"/ledgers/land/records/{land}/edit").get_data(as_text=True)
    assert re.search(r'<input type="date" value="' + data["transfer_start"], page)


def test_saving_the_unchanged_form_changes_nothing(fresh_client, edit_form, engine, person):
    """A form saved as loaded writes no version (empty masked fields keep their values)."""
    before = _record(engine, person)
    response = fresh_client.post(f"/ledgers/person/records/{person}/edit", data=edit_form)
    assert response.status_code == 302
    assert _record(engine, person) == before


#: A value field work may change directly (`field_edit: direct`), and one 区人力社保局 owns.
ADDRESS = "重庆市永川区中山路街道新村路8号"


def test_edit_creates_a_version_from_manual_edit(fresh_client, edit_form, engine, person):
    """A direct element's change becomes version 2 (手工修改, the keeper); another's goes to its owner."""
    data, _version = _record(engine, person)
    form = edit_form | {"current_address": ADDRESS, "occupation": "乡村教师", "is_veteran": "是"}
    response = fresh_client.post(f"/ledgers/person/records/{person}/edit", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/ledgers/person/records/{person}"
    new, version = _record(engine, person)
    assert version == 2
    assert new == data | {"current_address": ADDRESS}, "职业 and 是否退役军人 wait for their owners"
    last = _versions(engine, person)[-1]
    with engine.connect() as conn:
        keeper = conn.execute(select(User.id).where(User.username == "keeper")).scalar_one()
    new_values = json.loads(last.new) if isinstance(last.new, str) else last.new
    assert (last.source, last.actor_id, new_values) == ("edit", keeper, {"current_address": ADDRESS})
    page = fresh_client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "已保存：现居住地址；已提交区人力社保局审核：职业；已提交区退役军人事务局审核：是否退役军人" in page
    )
    history = page[page.index('id="history"') :]
    assert "第 2 版" in history and "手工修改" in history and "数据管理岗 刘敏" in history
    assert f"<ins>{ADDRESS}</ins>" in history
    field_row = page[page.index('id="v-current_address"') :]
    assert "手工修改" in field_row[:600]
    pending = page[page.index('id="pending"') : page.index('id="history"')]
    assert "<ins>乡村教师</ins>" in pending and "待区人力社保局审核" in pending


def test_bad_input_shows_the_message_next_to_the_field_and_keeps_it(fresh_client, edit_form, engine, person):
    """Invalid values are refused field by field in Chinese; what the user typed stays."""
    before = _record(engine, person)
    form = edit_form | {"birth_date": "1990-13-45", "household_no": "abc", "occupation": "木匠"}
    response = fresh_client.post(f"/ledgers/person/records/{person}/edit", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<div class="field-error" id="err-birth_date" role="alert">出生日期已脱敏', page), (
        "a masked birth date is refused whatever is typed"
    )
    assert re.search(
        r'value="abc"[^>]*name="household_no"[^>]*>\s*'
        r'<div class="field-error" id="err-household_no" role="alert">「户编号」',
        page,
    )
    assert 'value="木匠"' in page
    assert "有 2 处填写有误" in page
    assert _record(engine, person) == before


def test_empty_required_field_is_refused(fresh_client, edit_form, engine, person):
    """Clearing a required field names it."""
    response = fresh_client.post(f"/ledgers/person/records/{person}/edit", data=edit_form | {"name": ""})
    assert response.status_code == 422
    assert "「姓名」必须填写" in response.get_data(as_text=True)


def test_stale_edit_is_refused_and_keeps_the_input(fresh_client, edit_form, engine, person):
    """Saving over someone else's newer version is refused with 该记录已被他人修改."""
    url = f"/ledgers/person/records/{person}/edit"
    assert fresh_client.post(url, data=edit_form | {"current_address": "新村路1号"}).status_code == 302
    response = fresh_client.post(url, data=edit_form | {"current_address": "新村路2号", "occupation": "司机"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "该记录已被他人修改" in page
    assert 'value="新村路2号"' in page and 'value="司机"' in page
    assert "<ins>新村路1号</ins>" in page  # what the other change did
    assert 'name="version" value="2"' in page
    data, version = _record(engine, person)
    assert (data["current_address"], version) == ("新村路1号", 2)
    with engine.connect() as conn:
        assert conn.execute(select(ProposedChange)).all() == [], "nothing of a refused edit is proposed"


def test_inline_validation_returns_only_the_message(fresh_client, edit_form, person):
    """Leaving a field posts it and gets back just its message (empty when fine)."""
    url = f"/ledgers/person/records/{person}/check/household_no"
    response = fresh_client.post(url, data={"household_no": "abc"}, headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert text.startswith('<div class="field-error" id="err-household_no"') and "户编号" in text
    fine = fresh_client.post(url, data={"household_no": edit_form["household_no"]})
    assert re.fullmatch(
        r'<div class="field-error" id="err-household_no" role="alert"></div>\s*', fine.get_data(as_text=True)
    )


def test_checking_a_masked_birth_date_confirms_nothing(fresh_client, edit_form, engine, person):
    """The right birth date and a wrong one get the same answer, which would otherwise confirm the ID."""
    data, _version = _record(engine, person)
    url = f"/ledgers/person/records/{person}/check/birth_date"
    answers = {
        fresh_client.post(url, data={"birth_date": day}).get_data(as_text=True)
        for day in (data["birth_date"], "1990-01-01")
    }
    assert len(answers) == 1 and "已脱敏" in answers.pop()


def test_missing_record_cannot_be_edited(fresh_client, fresh_auth):
    """Editing a record that does not exist is 404."""
    fresh_auth.login("keeper")
    assert fresh_client.get("/ledgers/person/records/99999999/edit").status_code == 404


def _village_record(engine, village: str, *, other: bool = False) -> int:
    with engine.connect() as conn:
        stmt = (
            select(Record.id)
            .where(
                Record.ledger == "person",
                Record.township_code == ZHONGSHANLU,
                (Record.village_code != village) if other else (Record.village_code == village),
            )
            .order_by(Record.id)
        )
        return conn.execute(stmt.limit(1)).scalar_one()


def test_a_grid_worker_updates_a_record_of_her_village_as_a_visit(
    fresh_client, fresh_auth, form_values, engine
):
    """日常走访: the village worker's edit is a new version with source visit; other villages 404."""
    mine = _village_record(engine, "500118001001")
    fresh_auth.login("wangge")
    page = fresh_client.get(f"/ledgers/person/records/{mine}/edit")
    assert page.status_code == 200
    form = form_values(page.get_data(as_text=True)) | {"current_address": ADDRESS}
    response = fresh_client.post(f"/ledgers/person/records/{mine}/edit", data=form)
    assert response.status_code == 302
    source, actor, new = _versions(engine, mine)[-1]
    with engine.connect() as conn:
        wangge = conn.execute(select(User.id).where(User.username == "wangge")).scalar_one()
    new = json.loads(new) if isinstance(new, str) else new
    assert (source, actor, new) == ("visit", wangge, {"current_address": ADDRESS})
    other = _village_record(engine, "500118001001", other=True)
    assert fresh_client.get(f"/ledgers/person/records/{other}/edit").status_code == 404


def test_a_township_filler_cannot_edit_ledger_records(fresh_client, fresh_auth, person):
    fresh_auth.login("zhongshanlu")
    assert fresh_client.get(f"/ledgers/person/records/{person}/edit").status_code == 403


def test_a_typed_certificate_number_never_tests_a_guess_of_the_id(
    fresh_client, fresh_auth, engine, find_record
):
    """Its ID part comes from the record: a right and a wrong guess of the hidden ID answer alike."""
    rid = find_record(engine, "person", township=ZHONGSHANLU, has="disability_grade")
    data, _version = _record(engine, rid)
    fresh_auth.login("keeper")
    digits = (data.get("disability_cert_no") or "00")[-2:]
    url = f"/ledgers/person/records/{rid}/check/disability_cert_no"
    answers = {
        fresh_client.post(url, data={"disability_cert_no": guess + digits}).get_data(as_text=True)
        for guess in (data["id_number"], make_id_number("19010101", 1))
    }
    assert len(answers) == 1, answers


@pytest.mark.parametrize(
    "move",
    [
        {"township_code": "500118002", "village_code": "500118002001"},  # another township's village
        {"village_code": "500118001002"},  # another village of her own township
        {"village_code": "500118002001", "township_code": None},  # a village alone carries its township
    ],
)
def test_a_grid_worker_cannot_move_a_record_out_of_her_village(
    fresh_client, fresh_auth, form_values, engine, move
):
    """The org unit of a record is hers to keep: the move is refused next to the field, nothing changes."""
    mine = _village_record(engine, "500118001001")
    before = _record(engine, mine)
    fresh_auth.login("wangge")
    form = form_values(fresh_client.get(f"/ledgers/person/records/{mine}/edit").get_data(as_text=True))
    posted = {k: v for k, v in (form | move | {"occupation": "个体经营"}).items() if v is not None}
    response = fresh_client.post(f"/ledgers/person/records/{mine}/edit", data=posted)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = next(iter(move))
    assert re.search(rf'<div class="field-error" id="err-{field}" role="alert">[^<]*不在您的管辖范围', page)
    assert 'value="个体经营"' in page, "what she typed is kept"
    assert _record(engine, mine) == before
    assert fresh_client.get(f"/ledgers/person/records/{mine}").status_code == 200


def test_a_keeper_may_move_a_record_to_another_township(fresh_client, edit_form, engine, specs, person):
    """Keepers work district-wide: a move between townships is theirs to propose, 区公安分局's to accept."""
    from runtime.sharing.proposals import accept

    before, _version = _record(engine, person)
    move = {"township_code": "500118002", "village_code": "500118002001"}
    response = fresh_client.post(f"/ledgers/person/records/{person}/edit", data=edit_form | move)
    assert response.status_code == 302
    assert _record(engine, person)[0]["township_code"] == before["township_code"], "not moved yet"
    with engine.begin() as conn:
        ids = conn.execute(select(ProposedChange.id).order_by(ProposedChange.id)).scalars().all()
        gongan = conn.execute(select(User.id).where(User.username == "gongan")).scalar_one()
        assert accept(conn, specs, ids, user_id=gongan).done == ids
    data, _version = _record(engine, person)
    assert (data["township_code"], data["village_code"]) == ("500118002", "500118002001")


def test_the_inline_check_tells_a_grid_worker_the_village_is_not_hers(fresh_client, fresh_auth, engine):
    mine = _village_record(engine, "500118001001")
    fresh_auth.login("wangge")
    response = fresh_client.post(
        f"/ledgers/person/records/{mine}/check/village_code",
        data={"township_code": ZHONGSHANLU, "village_code": "500118001002"},
        headers={"HX-Request": "true"},
    )
    assert "不在您的管辖范围" in response.get_data(as_text=True)
