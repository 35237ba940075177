"""`yibiaotong check-specs`: the shipped specs pass, broken specs are reported by file and place."""

import json
import shutil

from runtime.cli import main


def test_the_shipped_specs_pass(specs, capsys):
    assert main(["check-specs", str(specs.root)]) == 0
    assert "规格检查通过" in capsys.readouterr().out


def test_broken_specs_are_reported(specs, tmp_path, capsys):
    root = tmp_path / "specs"
    shutil.copytree(specs.root, root)
    person = root / "ledgers" / "person.json"
    doc = json.loads(person.read_text(encoding="utf-8"))
    doc["properties"]["name"]["x-element"] = "person.nickname"
    doc["x-key"] = "id_no"
    person.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    catalog = root / "catalog" / "house.json"
    cat = json.loads(catalog.read_text(encoding="utf-8"))
    cat["elements"][0]["sensitivity"] = "top-secret"
    cat["elements"][2]["aliases"].append(" ".join(cat["elements"][1]["name"]))  # spaced out
    catalog.write_text(json.dumps(cat, ensure_ascii=False), encoding="utf-8")
    assert main(["check-specs", str(root)]) == 1
    out = capsys.readouterr().out
    assert "catalog/house.json: elements/0/sensitivity" in out
    second, third = cat["elements"][1]["code"], cat["elements"][2]["code"]
    assert f"catalog/house.json: {third}: 名称或别名" in out and f"与 {second} 的名称" in out
    assert "ledgers/person.json: properties/name: 未知的数据元 person.nickname" in out
    assert "ledgers/person.json: x- 关键字引用的字段 id_no 不在 properties 中" in out


def test_every_element_has_an_owner_a_sharing_type_and_a_known_source(specs):
    """Owners as the district's practice has them; a secret is never shared unconditionally."""
    elements, names = specs.elements, {d.name for d in specs.departments.values()}
    assert all(e.department in names and e.sharing for e in elements.values())
    owner = {code: elements[code].department for code in elements}
    assert owner["person.disability_category"] == owner["person.disability_grade"] == "区残联"
    assert owner["person.assistance_type"] == "区民政局"
    assert (
        elements["person.name"].source == elements["person.residence_status"].source == "区公安分局户籍系统"
    )
    assert specs.systems["区公安分局户籍系统"].department == "gongan"
    assert {e.department for e in elements.values() if e.group == "land"} == {"区农业农村委"}
    assert elements["person.bank_account"].sharing == "不予共享"
    assert elements["person.disability_grade"].sharing == "有条件共享"
    assert elements["person.township_code"].sharing == "无条件共享"


def test_owners_sources_and_sharing_are_checked(specs, tmp_path, capsys):
    root = tmp_path / "specs"
    shutil.copytree(specs.root, root)
    catalog = root / "catalog" / "person.json"
    cat = json.loads(catalog.read_text(encoding="utf-8"))
    by_code = {e["code"]: e for e in cat["elements"]}
    by_code["person.name"]["department"] = "区档案馆"
    by_code["person.phone"]["source"] = "网上抓取"
    by_code["person.bank_account"]["sharing"] = "无条件共享"
    by_code["person.gender"]["sharing"] = "部分共享"
    del by_code["person.ethnicity"]["sharing"]
    catalog.write_text(json.dumps(cat, ensure_ascii=False), encoding="utf-8")
    departments = root / "departments.json"
    doc = json.loads(departments.read_text(encoding="utf-8"))
    doc["systems"][0]["department"] = "dangan"
    departments.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert main(["check-specs", str(root)]) == 1
    out = capsys.readouterr().out
    assert "catalog/person.json: person.name: 所有者部门“区档案馆”不在 departments.json 的部门清单中" in out
    assert (
        "catalog/person.json: person.phone: 数据来源“网上抓取”不是 departments.json 中的系统、部门或采集渠道"
        in out
    )
    assert "person.bank_account: 机密（secret）数据元不能无条件共享" in out
    assert "'部分共享' is not one of" in out and "'sharing' is a required property" in out
    assert "departments.json: 区公安分局户籍系统: 运行该系统的部门 dangan 不在部门清单中" in out


def test_specs_without_a_departments_file_are_refused(specs, tmp_path, capsys):
    root = tmp_path / "specs"
    shutil.copytree(specs.root, root)
    (root / "departments.json").unlink()
    assert main(["check-specs", str(root)]) == 1
    assert "departments.json: 缺少部门与数据来源文件" in capsys.readouterr().out


def test_field_edit_is_checked(specs, tmp_path, capsys):
    """`field_edit` is proposal or direct, and a secret element is never changed without its owner."""
    root = tmp_path / "specs"
    shutil.copytree(specs.root, root)
    catalog = root / "catalog" / "person.json"
    cat = json.loads(catalog.read_text(encoding="utf-8"))
    by_code = {e["code"]: e for e in cat["elements"]}
    by_code["person.bank_account"]["field_edit"] = "direct"
    by_code["person.occupation"]["field_edit"] = "whenever"
    catalog.write_text(json.dumps(cat, ensure_ascii=False), encoding="utf-8")
    assert main(["check-specs", str(root)]) == 1
    out = capsys.readouterr().out
    assert (
        "person.bank_account: 机密（secret）数据元的修改须经所有者部门审核，field_edit 不能为 direct" in out
    )
    assert "'whenever' is not one of ['proposal', 'direct']" in out


def test_phones_and_addresses_may_be_changed_from_field_work(specs):
    """Contact details field work verifies apply at once; what an owner's system holds is proposed."""
    direct = {code for code, e in specs.elements.items() if e.direct_edit}
    assert direct == {
        "person.phone",
        "person.current_address",
        "person.guardian_phone",
        "household.phone",
        "household.address",
    }
    assert specs.elements["person.residence_status"].field_edit == "proposal"
