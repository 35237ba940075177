"""Masking: one function per kind, applied by sensitivity and role; audited reveals."""

import pytest
from sqlalchemy import select

from runtime.access import Viewer
from runtime.masking import mask_address, mask_bank_account, mask_id, mask_name, mask_phone, present, reveal
from runtime.models import AuditEntry

TOWNSHIP = Viewer(7, "township", township="500118001")
DEPARTMENT = Viewer(8, "department")
KEEPER = Viewer(9, "keeper")


def test_each_kind_keeps_only_what_the_rule_allows():
    assert mask_id("500118199001011237") == "500118********1237"
    assert mask_id("50011819900101123742") == "500118**********3742"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_bank_account("6222020200112233445") == "***************3445"
    street = "重庆市永川区中山路街道萱花社区人民大道"
    assert mask_address(street + "12号3单元401") == street + "***"
    assert mask_address("重庆市永川区来苏镇观音井村3组45号") == "重庆市永川区来苏镇观音井村***"


@pytest.mark.parametrize("viewer, name, address", [
    (TOWNSHIP, "张三丰", "重庆市永川区中山路街道萱花社区人民大道12号"),
    (KEEPER, "张三丰", "重庆市永川区中山路街道萱花社区人民大道12号"),
    (DEPARTMENT, "张**", "重庆市永川区中山路街道萱花社区人民大道***"),
])
def test_present_masks_by_sensitivity_and_role(specs, make_person, viewer, name, address):
    row = make_person(name="张三丰", phone="13812345678", bank_account="6222020200112233445",
                      household_address="重庆市永川区中山路街道萱花社区人民大道12号")
    shown = present(specs.ledgers["person"], [row], viewer)[0]
    assert shown["id_number"] == mask_id(row["id_number"]), "ID numbers are masked for everyone"
    assert shown["phone"] == "138****5678"
    assert shown["bank_account"].endswith("3445") and shown["bank_account"].startswith("*")
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
