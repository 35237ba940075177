"""The demo-district generator: deterministic, valid against the ledgers, and realistic."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from builder.catalog.specs import Element, OrgUnit, SpecSet
from builder.catalog.validation import RowValidator
from builder.checkdigits import (
    DISABILITY_CATEGORY_DIGITS,
    DISABILITY_GRADE_DIGITS,
    disability_cert_problem,
    id_problem,
    uscc_problem,
)
from runtime.config import PROJECT_ROOT
from runtime.demo.generate import SCALES, apportion, check_catalog, generate

LEDGERS = ("person", "household", "house", "land", "enterprise")


def collect(specs, scale="tiny", seed=20260101) -> dict[str, list[dict]]:
    """Return every generated record by ledger."""
    found: dict[str, list[dict]] = {code: [] for code in LEDGERS}
    for code, records in generate(specs, scale, seed):
        found[code] += records
    return found


def digest(specs, scale="tiny", seed=20260101) -> str:
    """Return a hash of the generated chunks, in order."""
    h = hashlib.sha256()
    for code, records in generate(specs, scale, seed):
        h.update(json.dumps([code, records], ensure_ascii=False, sort_keys=False).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def tiny(specs):
    """The tiny district of the standard spec set."""
    return collect(specs)


@pytest.fixture(scope="module")
def demo(specs):
    """The demo-scale district (≈20,000 persons) for the shares that need numbers."""
    return collect(specs, "demo")


def small_specs(tmp_path) -> SpecSet:
    """Return a two-township spec set with no catalog."""
    units = [
        OrgUnit("500118", "永川区", "district", None),
        OrgUnit("500118001", "中山路街道", "township", "500118", "街道", 3),
        OrgUnit("500118001001", "萱花社区", "village", "500118001", "社区"),
        OrgUnit("500118001002", "玉屏社区", "village", "500118001", "社区"),
        OrgUnit("500118108", "来苏镇", "township", "500118", "镇", 2),
        OrgUnit("500118108001", "来苏社区", "village", "500118108", "社区"),
        OrgUnit("500118108002", "观音井村", "village", "500118108", "村"),
    ]
    return SpecSet(root=tmp_path, org_units={u.code: u for u in units})


# -- the interface ---------------------------------------------------------------------------


def test_scales_target_the_documented_person_counts():
    assert SCALES == {"tiny": 600, "demo": 20_000, "district": 1_150_000}


def test_apportion_keeps_the_total_and_follows_the_weights():
    assert apportion(10, [152_000, 29_000, 29_000]) == [7, 2, 1]
    assert sum(apportion(1_150_000, [3, 7, 11, 13])) == 1_150_000
    assert apportion(5, [0, 0]) == [3, 2]


def test_unknown_scale_is_refused(specs):
    with pytest.raises(ValueError, match="未知的规模"):
        next(generate(specs, "huge"))


def test_chunks_come_township_by_township(specs):
    seen: list[str] = []
    for code, records in generate(specs, "tiny"):
        assert code in LEDGERS and records
        townships = {r["township_code"] for r in records}
        assert len(townships) == 1
        if not seen or seen[-1] != next(iter(townships)):
            seen.append(next(iter(townships)))
    assert seen == sorted(u.code for u in specs.townships())


def test_persons_are_shared_by_township_population(specs, demo):
    per_township = Counter(p["township_code"] for p in demo["person"])
    assert abs(len(demo["person"]) - 20_000) < 200
    assert per_township["500118001"] > 3 * per_township["500118100"]  # 152,000 vs 29,000


def test_a_catalog_without_a_label_the_generator_needs_is_refused(tmp_path):
    specs = small_specs(tmp_path)
    specs.elements["person.hukou_type"] = Element(
        code="person.hukou_type",
        name="户口性质",
        sensitivity="internal",
        schema={"type": "string", "enum": ["农业", "非农业"]},
    )
    with pytest.raises(ValueError, match="居民"):
        next(generate(specs, "tiny"))


def test_industry_labels_are_read_from_the_catalog(specs):
    industries = check_catalog(specs)
    assert industries["C"] == "C 制造业"
    assert set(industries.values()) == set(specs.elements["enterprise.industry"].schema["enum"])


def test_works_on_a_small_spec_set_without_a_catalog(tmp_path):
    found = collect(small_specs(tmp_path))
    assert {p["village_code"] for p in found["person"]} >= {"500118001001", "500118108002"}
    assert found["land"] and all(r["township_code"] == "500118108" for r in found["land"])
    assert found["enterprise"][0]["industry"].startswith(("A ", "C ", "F ", "H ", "O "))


# -- determinism -------------------------------------------------------------------------------


def test_same_seed_gives_the_same_records_and_another_seed_others(specs):
    assert digest(specs) == digest(specs)
    assert digest(specs) != digest(specs, seed=7)


def test_output_does_not_depend_on_the_string_hash_seed(specs):
    code = (
        "import sys; sys.path.insert(0, 'tests/runtime/demo'); "
        "from builder.catalog.specs import load_specs; from test_demo_generate import digest; "
        "print(digest(load_specs('form_specs')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == digest(specs)


# -- persons -----------------------------------------------------------------------------------


def test_id_numbers_are_valid_unique_and_agree_with_birth_date_and_gender(tiny):
    persons = tiny["person"]
    ids = [p["id_number"] for p in persons]
    assert len(set(ids)) == len(ids)
    for p in persons:
        number = p["id_number"]
        assert id_problem(number) is None, number
        assert number[6:14] == p["birth_date"].replace("-", "")
        assert (int(number[16]) % 2 == 1) == (p["gender"] == "男")
        assert p["gender"] in ("男", "女")
        assert date.fromisoformat(p["birth_date"]) <= date(2026, 11, 1)
    assert Counter(i[:6] for i in ids).most_common(1)[0][0] == "500118"
    assert sum(not i.startswith("500118") for i in ids) > 0  # some born elsewhere


def test_disability_certificates_agree_with_id_category_and_grade(tiny, demo):
    for persons in (tiny["person"], demo["person"]):
        disabled = [p for p in persons if "disability_cert_no" in p]
        for p in disabled:
            cert = p["disability_cert_no"]
            assert disability_cert_problem(cert) is None
            assert cert[:18] == p["id_number"]
            assert DISABILITY_CATEGORY_DIGITS[cert[18]] == p["disability_category"]
            assert DISABILITY_GRADE_DIGITS[cert[19]] == p["disability_grade"]
            assert p["health_status"] == "残疾"
        assert not any("disability_category" in p and "disability_cert_no" not in p for p in persons)
    assert 0.02 < sum("disability_cert_no" in p for p in tiny["person"]) / len(tiny["person"]) < 0.12
    share = sum("disability_cert_no" in p for p in demo["person"]) / len(demo["person"])
    assert 0.05 < share < 0.07
    categories = Counter(p["disability_category"] for p in demo["person"] if "disability_category" in p)
    assert categories.most_common(1)[0][0] == "肢体"


def test_some_values_are_left_empty_as_in_real_ledgers(tiny):
    adults = [p for p in tiny["person"] if p["birth_date"] <= "2008-11-01"]
    for name in ("phone", "current_address", "employment_status", "bank_account"):
        present = sum(name in p for p in adults) / len(adults)
        assert 0.5 < present < 0.97, name
    assert all(v not in (None, "") for p in tiny["person"] for v in p.values())
    children = [p for p in tiny["person"] if p["birth_date"] > "2012-11-01"]
    assert children and not any("phone" in p for p in children)


def test_minors_and_people_with_intellectual_or_mental_disability_have_guardians(tiny):
    by_household = defaultdict(list)
    for p in tiny["person"]:
        by_household[p["household_no"]].append(p)
    for p in tiny["person"]:
        needs = p["birth_date"] > "2008-11-01" or p.get("disability_category") in ("智力", "精神")
        if not needs or p["residence_status"] == "死亡":
            continue
        assert p.get("guardian_name"), p
        adults = {
            m["name"]
            for m in by_household[p["household_no"]]
            if m["birth_date"] <= "2008-11-01" and m is not p and m["residence_status"] in ("在册", "外出")
        }
        if adults:
            assert p["guardian_name"] in adults


# -- households --------------------------------------------------------------------------------


def test_every_household_has_one_head_and_its_size_is_its_members(tiny):
    members = defaultdict(list)
    for p in tiny["person"]:
        members[p["household_no"]].append(p)
    households = {h["household_no"]: h for h in tiny["household"]}
    assert set(households) == set(members)
    for number, people in members.items():
        heads = [p for p in people if p["relation_to_head"] == "户主"]
        assert len(heads) == 1
        head, household = heads[0], households[number]
        assert household["size"] == len(people)
        assert (household["head_name"], household["head_id_number"]) == (head["name"], head["id_number"])
        assert household["address"] == head["household_address"]
        assert people[0] is head
        for p in people:
            assert p["household_address"] == household["address"]
            if p["relation_to_head"] == "配偶":
                assert p["gender"] != head["gender"]
                assert p["marital_status"] == head["marital_status"] == "已婚"
            if p["relation_to_head"] in ("子", "女"):
                assert p["birth_date"][:4] >= str(int(head["birth_date"][:4]) + 15)
                assert p["gender"] == ("男" if p["relation_to_head"] == "子" else "女")
            if p["relation_to_head"] == "父母":
                assert p["birth_date"][:4] <= str(int(head["birth_date"][:4]) - 15)


def test_household_numbers_and_house_codes_are_unique(tiny):
    numbers = [h["household_no"] for h in tiny["household"]]
    codes = [h["house_code"] for h in tiny["house"]]
    assert len(set(numbers)) == len(numbers)
    assert len(set(codes)) == len(codes)
    assert {h["usage"] for h in tiny["house"]} >= {"住宅", "商业"}


# -- land and enterprises -------------------------------------------------------------------

TRANSFER_FIELDS = {
    "transferee_name",
    "transferee_type",
    "transfer_area_mu",
    "transfer_form",
    "transfer_start",
    "transfer_end",
    "transfer_price",
    "rent_arrears",
    "contract_no",
}


def test_land_transfer_fields_appear_only_on_transferred_parcels(tiny, demo):
    for parcels in (tiny["land"], demo["land"]):
        codes = [p["parcel_code"] for p in parcels]
        assert len(set(codes)) == len(codes)
        for p in parcels:
            assert p["parcel_code"].startswith(p["village_code"])
            if p["is_transferred"]:
                assert TRANSFER_FIELDS <= p.keys()
                assert 0 < p["transfer_area_mu"] <= p["contract_area_mu"]
                assert p["transfer_start"] < p["transfer_end"]
                assert 300 <= p["transfer_price"] <= 1200
            else:
                assert not TRANSFER_FIELDS & p.keys()
    transfers = [p for p in demo["land"] if p["is_transferred"]]
    assert 0.2 < len(transfers) / len(demo["land"]) < 0.45
    assert 0.02 < sum(p["rent_arrears"] > 0 for p in transfers) / len(transfers) < 0.1
    assert any(p["contract_area_mu"] >= 200 for p in demo["land"])
    assert any(p["contract_area_mu"] >= 200 for p in tiny["land"])


def test_credit_codes_are_valid_unique_and_typed(tiny):
    codes = [e["uscc"] for e in tiny["enterprise"]]
    assert len(set(codes)) == len(codes)
    prefix = {"个体工商户": "92", "农民专业合作社": "93"}
    for e in tiny["enterprise"]:
        assert uscc_problem(e["uscc"]) is None, e["uscc"]
        assert e["uscc"][2:8] == "500118"
        assert e["uscc"][:2] == prefix.get(e["entity_type"], "91")
    names = [e["name"] for e in tiny["enterprise"]]
    assert len(set(names)) == len(names)


# -- every record is valid against its ledger ------------------------------------------------


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    for name, problem in (
        ("gb11643", id_problem),
        ("gb32100", uscc_problem),
        ("disability-cert", disability_cert_problem),
    ):
        checker.checks(name)(
            lambda value, problem=problem: not isinstance(value, str) or problem(value) is None
        )
    return checker


@pytest.mark.parametrize("ledger_code", LEDGERS)
def test_records_are_valid_against_the_ledger_spec(specs, tiny, ledger_code):
    ledger = specs.ledgers[ledger_code]
    validator = Draft202012Validator(ledger.row_schema(), format_checker=_format_checker())
    row_validator = RowValidator(ledger)
    records = tiny[ledger_code]
    assert records
    for record in records:
        errors = [e.message for e in validator.iter_errors(record)]
        assert not errors, (record, errors)
        assert not row_validator.errors(record), record
