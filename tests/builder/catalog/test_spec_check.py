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
