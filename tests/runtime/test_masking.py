"""Masking: one function per kind, applied by sensitivity and role; audited reveals."""

import pytest
from sqlalchemy import select

from runtime.access import Viewer
from runtime.masking import (
    ID_SENSITIVITY,
    mask_address,
    mask_bank_account,
    mask_birth_date,
    mask_hidden,
    mask_id,
    mask_name,
    mask_phone,
    masked_names,
    present,
    replaceable,
    reveal,
    searching,
)
from runtime.models import AuditEntry
from tests.conftest import make_id_number

TOWNSHIP = Viewer(7, "township", township="500118001")
DEPARTMENT = Viewer(8, "department")
KEEPER = Viewer(9, "keeper")


def test_each_kind_keeps_only_what_the_rule_allows():
    assert mask_id("500118199001011237") == "**************1237", "the address code went with the birth date"
    assert mask_id("500118900101123") == "***********1123"
    assert mask_hidden("50011819900101123742") == "*" * 20, "a certificate number shows nothing"
    assert mask_birth_date("1966-07-14") == "1966年"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_bank_account("6222020200112233445") == "***************3445"
    street = "重庆市永川区中山路街道萱花社区人民大道"
    assert mask_address(street + "12号3单元401") == street + "***"
    assert mask_address("重庆市永川区来苏镇观音井村3组45号") == "重庆市永川区来苏镇观音井村***"


@pytest.mark.parametrize(
    "viewer, name, address, phone, bank_account",
    [
        (TOWNSHIP, "张三丰", "重庆市永川区中山路街道萱花社区人民大道12号", "138****5678", None),
        (KEEPER, "张三丰", "重庆市永川区中山路街道萱花社区人民大道12号", "138****5678", "*" * 15 + "3445"),
        (DEPARTMENT, "张**", "重庆市永川区中山路街道萱花社区人民大道***", None, None),
    ],
)
def test_present_masks_by_sensitivity_and_role(
    specs, make_person, viewer, name, address, phone, bank_account
):
    """Masked by sensitivity; a 有条件共享 phone not shown to a department without a grant, a
    不予共享 bank account to no one but its owner and the keepers."""
    row = make_person(
        name="张三丰",
        phone="13812345678",
        bank_account="6222020200112233445",
        household_address="重庆市永川区中山路街道萱花社区人民大道12号",
    )
    shown = present(specs.ledgers["person"], [row], viewer)[0]
    assert shown["id_number"] == mask_id(row["id_number"]), "ID numbers are masked for everyone"
    assert shown["phone"] == phone
    assert shown["bank_account"] == bank_account
    assert shown["name"] == name
    assert shown["household_address"] == address
    assert shown["gender"] == "男"
    assert row["phone"] == "13812345678", "the stored row is not changed"


def test_reveal_is_audited_and_refused_to_other_roles(engine, specs, make_person):
    row = make_person() | {"_key": "k", "_township": "500118001", "_village": "500118001001"}
    ledger = specs.ledgers["person"]
    with engine.begin() as conn:
        assert reveal(conn, ledger, row, "id_number", KEEPER) == row["id_number"]
        with pytest.raises(PermissionError):
            reveal(conn, ledger, row, "id_number", TOWNSHIP)
    with engine.connect() as conn:
        entries = conn.execute(select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.detail)).all()
    assert [tuple(e) for e in entries] == [("reveal", 9, {"field": "id_number"})]


@pytest.mark.parametrize("viewer", [TOWNSHIP, DEPARTMENT, KEEPER])
def test_beside_a_masked_id_number_a_birth_date_shows_its_year_and_a_certificate_nothing(
    specs, make_person, viewer
):
    """The rule of runtime.masking: the ID's last 4 and the birth year cannot make the whole number."""
    ledger = specs.ledgers["person"]
    row = make_person(
        birth_date="1966-07-14",
        id_number=make_id_number("19660714", 611),
        disability_cert_no=make_id_number("19660714", 611) + "42",
    )
    shown = present(ledger, [row], viewer)[0]
    assert shown["id_number"] == "*" * 14 + row["id_number"][-4:]
    assert shown["birth_date"] == "1966年"
    # 有条件共享: a department without a grant does not see it at all.
    assert shown["disability_cert_no"] == (None if viewer is DEPARTMENT else "*" * 20)
    assert masked_names(ledger, viewer, row) >= {"id_number", "birth_date", "disability_cert_no"}
    without = present(ledger, [make_person(id_number=None, birth_date="1966-07-14")], viewer)[0]
    assert without["birth_date"] == "1966-07-14", "a record without an ID number has nothing to complete"
    change = present(ledger, [{"birth_date": "1966-07-15"}], viewer, record=row)[0]
    assert change["birth_date"] == "1966年", "a version's changed date is masked as its record is"


def test_a_birth_date_masked_may_not_be_typed_over_other_masked_values_may(specs):
    persons = specs.ledgers["person"]
    assert not replaceable(persons.by_name["birth_date"], TOWNSHIP)
    assert replaceable(persons.by_name["phone"], TOWNSHIP)
    assert replaceable(persons.by_name["name"], DEPARTMENT)


@pytest.mark.parametrize(
    ("viewer", "text", "match", "notice"),
    [
        (DEPARTMENT, "郑强", "none", "姓名对您脱敏，不能按姓名查找"),
        (DEPARTMENT, "郑", "none", "姓名对您脱敏，不能按姓名查找"),
        (TOWNSHIP, "郑强", "prefix", ""),
        (TOWNSHIP, "500118196607146116", "none", "公民身份号码对您脱敏，只能按末 4 位查找"),
        (TOWNSHIP, "5001181966", "none", "公民身份号码对您脱敏，只能按末 4 位查找"),
        (TOWNSHIP, "611x", "suffix", "公民身份号码对您脱敏，已按末 4 位查找"),
        (DEPARTMENT, "6116", "suffix", "公民身份号码对您脱敏，已按末 4 位查找"),
        (KEEPER, "500118196607146116", "exact", ""),
        (KEEPER, "5001181966", "none", "按公民身份号码查找请输入完整的号码，或只输入末 4 位"),
    ],
)
def test_a_viewer_searches_only_by_what_they_see(specs, viewer, text, match, notice):
    found = searching(specs.ledgers["person"], text, viewer)
    assert (found.match, found.notice) == (match, notice)


def test_households_are_searched_by_their_number_and_masked_heads_not_by_name(specs):
    households = specs.ledgers["household"]
    assert searching(households, "5001180010010001", DEPARTMENT).match == "prefix"
    assert searching(households, "王", DEPARTMENT).match == "none"
    assert searching(households, "王", TOWNSHIP).match == "prefix"


def test_every_id_number_kind_is_as_sensitive_as_the_birth_dates_it_protects(specs):
    """`birth_date` masking follows ID_SENSITIVITY: every ID-number element must have that level."""
    kinds = [e for e in specs.elements.values() if e.mask == "id_number"]
    assert {e.code for e in kinds} == {
        "person.id_number",
        "household.head_id_number",
        "house.owner_id_number",
        "land.contractor_id_number",
    }
    assert {e.sensitivity for e in kinds} == {ID_SENSITIVITY}


@pytest.mark.parametrize(
    "department, clear, masked",
    [
        ("区残联", {"disability_category", "disability_grade"}, {"assistance_type", "disability_cert_no"}),
        ("区民政局", {"assistance_type", "guardian_name"}, {"disability_category", "disability_grade"}),
        (None, set(), {"assistance_type", "disability_category", "disability_grade"}),
    ],
)
def test_a_department_reads_the_elements_it_owns_in_clear(specs, make_person, department, clear, masked):
    """Its own data, district-wide, without asking; what other departments own stays masked.

    A certificate number holds the holder's ID number: it stays as masked as the ID, even for its owner.
    """
    ledger = specs.ledgers["person"]
    holder = make_id_number("19700101", 13)
    row = make_person(
        id_number=holder,
        phone="13812345678",
        disability_cert_no=holder + "42",
        disability_category="肢体",
        disability_grade="二级",
        assistance_type="低保",
        guardian_name="王监护",
    )
    viewer = Viewer(8, "department", department=department)
    shown = present(ledger, [row], viewer)[0]
    assert {name for name in clear | masked if shown[name] == row[name]} == clear
    assert shown["phone"] is None and shown["id_number"] == mask_id(holder), "owned elsewhere"
    assert masked_names(ledger, viewer, row) >= masked
    assert not masked_names(ledger, viewer, row) & clear
