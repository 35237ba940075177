"""Generate the demo district: persons, households, houses, land and market entities.

Pure and deterministic: the same spec set, scale and seed give byte-identical records. Every
township draws from its own random stream (seeded from the seed and the township code by
SHA-512, never `hash()`), and the records come out township by township in chunks, so the
district scale (≈1.15 million persons) runs in bounded memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from builder.catalog.specs import OrgUnit, SpecSet
from runtime.errors import ErrorCode, InvalidRequest

from .enterprises import Enterprises
from .holdings import Holdings
from .households import HouseholdMaker, VillagePlan
from .identity import Identities, IdNumbers
from .places import CITY_ROADS, TOWN_STREETS
from .tables import CITY, RURAL, SEAT, STATUS_REGISTERED, USED_LABELS

DEFAULT_SEED = 20260101
#: Target person count of each scale; townships share it by their population.
SCALES = {"tiny": 600, "demo": 20_000, "district": 1_150_000}
#: Persons per yielded chunk at most (plus one household).
CHUNK_PERSONS = 50_000
PERSONS_PER_ENTERPRISE = 18
#: One consolidated parcel of ≥ 200 mu per this many persons of a town (at least one).
PERSONS_PER_LARGE_PARCEL = 25_000
LEDGERS = ("person", "household", "house", "land", "enterprise")

# GB/T 4754 sections, used when a spec set has no industry element.
_SECTIONS = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}

Chunk = tuple[str, list[dict[str, Any]]]


def generate(specs: SpecSet, scale: str, seed: int = DEFAULT_SEED) -> Iterator[Chunk]:
    """Yield `(ledger code, records)` chunks of the demo district, township by township."""
    if scale not in SCALES:
        raise InvalidRequest(ErrorCode.DEMO_UNKNOWN_SCALE, scale=scale, choices="、".join(SCALES))
    industries = check_catalog(specs)
    townships = sorted(specs.townships(), key=lambda u: u.code)
    if not townships:
        raise InvalidRequest(ErrorCode.DEMO_NO_TOWNSHIPS)
    quotas = apportion(SCALES[scale], [u.population for u in townships])
    plans = {u.code: village_plans(specs, u, seed) for u in townships}
    relocations = [(v.place, v.roads) for vs in plans.values() for v in vs if v.setting == CITY]
    used_names: set[str] = set()
    for index, (township, quota) in enumerate(zip(townships, quotas, strict=True)):
        villages = plans[township.code]
        if not villages:
            raise InvalidRequest(ErrorCode.DEMO_NO_VILLAGES, township=township.name)
        for village, share in zip(
            villages, apportion(quota, [_village_weight(v) for v in villages]), strict=True
        ):
            village.quota = share
        yield from _township(
            township, index, len(townships), villages, quota, seed, relocations, industries, used_names
        )


def check_catalog(specs: SpecSet) -> dict[str, str]:
    """Check every label the generator emits against the catalog; return section → industry."""
    for code, labels in sorted(USED_LABELS.items()):
        element = specs.elements.get(code)
        allowed = element.schema.get("enum") if element else None
        if allowed is None:
            continue
        missing = sorted(labels - set(allowed))
        if missing:
            raise InvalidRequest(ErrorCode.DEMO_VALUES_MISSING, element=code, missing="、".join(missing))
    element = specs.elements.get("enterprise.industry")
    enum = element.schema.get("enum") if element else None
    if not enum:
        return {letter: f"{letter} {name}" for letter, name in _SECTIONS.items()}
    by_code = {k: v for k, v in element.codes.items() if k in _SECTIONS and v in enum}
    industries = {}
    for letter, name in _SECTIONS.items():
        found = by_code.get(letter) or next(
            (v for v in enum if v.startswith(letter) or v.endswith(name)), None
        )
        if found is None:
            raise InvalidRequest(ErrorCode.DEMO_INDUSTRY_MISSING, letter=letter, name=name)
        industries[letter] = found
    return industries


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` by `weights` with the largest-remainder method (equal if all weights are 0)."""
    if not any(w > 0 for w in weights):
        weights = [1.0] * len(weights)
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def village_plans(specs: SpecSet, township: OrgUnit, seed: int) -> list[VillagePlan]:
    """Return the villages of a township with their setting, village groups and roads."""
    street = township.kind == "街道" or township.name.endswith("街道")
    plans = []
    for unit in sorted(specs.villages(township.code), key=lambda u: u.code):
        rng = random.Random(f"{seed}:{unit.code}:place")
        community = unit.kind in ("社区", "community") or unit.name.endswith("社区")
        setting = CITY if street and community else RURAL if not (street or community) else SEAT
        pool = CITY_ROADS if setting == CITY else TOWN_STREETS
        groups = (3 + rng.randrange(4)) if community else (5 + rng.randrange(10))
        plans.append(
            VillagePlan(
                code=unit.code,
                name=unit.name,
                township_code=township.code,
                township_name=township.name,
                setting=setting,
                community=community,
                farming=not street,
                groups=groups,
                roads=tuple(rng.sample(pool, 2 + rng.randrange(3))),
                quota=0,
                group_doors=[0] * (groups + 1),
            )
        )
    return plans


def _village_weight(village: VillagePlan) -> float:
    """Return a village's share of its township when the org units carry no population."""
    return {CITY: 3.0, SEAT: 1.8 if village.community else 1.0, RURAL: 1.0}[village.setting]


def _township(
    township: OrgUnit,
    index: int,
    count: int,
    villages: list[VillagePlan],
    quota: int,
    seed: int,
    relocations: list[tuple[str, tuple[str, ...]]],
    industries: dict[str, str],
    used_names: set[str],
) -> Iterator[Chunk]:
    """Yield the chunks of one township."""
    rng = random.Random(f"{seed}:{township.code}")
    r = rng.random
    people = Identities(rng)
    maker = HouseholdMaker(rng, IdNumbers(index, count), people, relocations)
    street = township.kind == "街道" or township.name.endswith("街道")
    entities = Enterprises(rng, people, index, township.name, street, industries, used_names)
    farming = [v for v in villages if v.farming and not v.community]
    agri = entities.plan_agriculture(quota) if farming else {}
    holdings = Holdings(rng, township.code[-3:], agri)
    large: dict[str, int] = {}
    if farming:
        for _ in range(1 + quota // PERSONS_PER_LARGE_PARCEL):
            code = farming[int(r() * len(farming))].code
            large[code] = large.get(code, 0) + 1

    persons: list[dict] = []
    households: list[dict] = []
    houses: list[dict] = []
    parcels: list[dict] = []
    reps: list[tuple[str, str, str]] = []
    made = target = 0
    for village in villages:
        # Aim at the running total, so one household's overshoot is not repeated per village.
        target += village.quota
        while made < target:
            hh = maker.make(village)
            persons += hh.members
            made += len(hh.members)
            households.append(hh.record)
            house = holdings.house(village, hh)
            if house:
                houses.append(house)
            if village.farming and hh.agricultural and (village.setting == RURAL or r() < 0.5):
                parcels += holdings.parcels(village, hh)
            for p in hh.members:
                if (
                    r() < 0.12
                    and p["residence_status"] == STATUS_REGISTERED
                    and "1955" <= p["birth_date"][:4] <= "2004"
                ):
                    reps.append((p["name"], p["id_number"], p.get("phone", "")))
            if len(persons) >= CHUNK_PERSONS:
                yield from _flush(persons, households, houses, parcels)
                persons, households, houses, parcels = [], [], [], []
        for _ in range(large.get(village.code, 0)):
            parcels.append(holdings.large_parcel(village))
    yield from _flush(persons, households, houses, parcels)

    records, premises = entities.make(max(1, round(quota / PERSONS_PER_ENTERPRISE)), villages, reps, holdings)
    yield from _flush([], [], premises, [], records)


def _flush(
    persons: list[dict],
    households: list[dict],
    houses: list[dict],
    parcels: list[dict],
    enterprises: list[dict] | None = None,
) -> Iterator[Chunk]:
    """Yield the non-empty record lists in ledger order."""
    for code, records in zip(LEDGERS, (persons, households, houses, parcels, enterprises or []), strict=True):
        if records:
            yield code, records
