"""Houses and contracted land of demo households."""

from __future__ import annotations

import random

from .households import Household, VillagePlan
from .places import FIELD_NAMES
from .tables import CITY, RURAL, SEAT, Weighted, label, labelled

STRUCTURES = {
    CITY: labelled("house.structure", {"钢混": 85, "砖混": 15}),
    SEAT: labelled("house.structure", {"砖混": 55, "钢混": 33, "砖木": 9, "土木": 3}),
    RURAL: labelled("house.structure", {"砖混": 58, "砖木": 15, "土木": 12, "钢混": 10, "其他": 5}),
}
# Years a structure was built in, per structure.
BUILT = {
    "钢混": (1998, 2025),
    "砖混": (1985, 2025),
    "砖木": (1975, 2008),
    "土木": (1960, 1998),
    "其他": (1970, 2020),
}
RESIDENTIAL = label("house.usage", "住宅")
COMMERCIAL = label("house.usage", "商业")
INDUSTRIAL = label("house.usage", "工业")
OFFICE = label("house.usage", "办公")
# Safety grade: mud-and-timber and old houses are more often dangerous (C, D).
SAFETY_MUD = labelled("house.safety_level", {"A": 15, "B": 55, "C": 25, "D": 5})
SAFETY_OLD = labelled("house.safety_level", {"A": 50, "B": 42, "C": 7, "D": 1})
SAFETY_NEW = labelled("house.safety_level", {"A": 78, "B": 20.5, "C": 1.3, "D": 0.2})
APARTMENT_FLOORS = Weighted({6: 10, 7: 8, 11: 10, 18: 12, 24: 10, 26: 8, 30: 8, 32: 10, 33: 12})

PARCELS = Weighted({1: 25, 2: 35, 3: 25, 4: 15})
LAND_USE = labelled(
    "land.land_use", {"耕地": 70, "园地": 10, "林地": 12, "草地": 1, "养殖水面": 4, "其他": 3}
)
# Rent in yuan per mu and year, by land use.
PRICE = {
    "耕地": (400, 900),
    "园地": (600, 1200),
    "林地": (300, 600),
    "草地": (300, 500),
    "养殖水面": (700, 1200),
    "其他": (300, 800),
}
FARMER, FAMILY_FARM, COOPERATIVE, COMPANY, OTHER = (
    label("land.transferee_type", v) for v in ("农户", "家庭农场", "农民专业合作社", "企业", "其他")
)
TRANSFEREE = Weighted({FARMER: 30, FAMILY_FARM: 20, COOPERATIVE: 25, COMPANY: 20, OTHER: 5})
FORMS = {
    FARMER: labelled("land.transfer_form", {"出租": 40, "转包": 35, "互换": 15, "其他": 10}),
    FAMILY_FARM: labelled("land.transfer_form", {"出租": 85, "转包": 15}),
    COOPERATIVE: labelled("land.transfer_form", {"入股": 35, "出租": 60, "其他": 5}),
    COMPANY: labelled("land.transfer_form", {"出租": 85, "入股": 10, "转让": 5}),
    OTHER: labelled("land.transfer_form", {"出租": 70, "入股": 30}),
}
START_YEAR = Weighted(
    {
        y: w
        for y, w in zip(
            range(2008, 2027), (1, 1, 2, 2, 3, 4, 5, 6, 7, 7, 7, 7, 6, 6, 5, 5, 4, 4, 3), strict=True
        )
    }
)
TERM = Weighted({3: 15, 5: 30, 10: 30, 15: 10, 20: 10, 30: 5})


class Holdings:
    """Make the houses and land parcels of one township's households."""

    def __init__(self, rng: random.Random, township_suffix: str, agri: dict[str, list[str]]):
        self.rng = rng
        self.random = rng.random
        self.suffix = township_suffix
        self.agri = agri  # transferee names by type: family farms, cooperatives, companies
        self.contracts = 0

    def house(self, village: VillagePlan, hh: Household) -> dict | None:
        """Return the house a household lives in, or None (rented, or away for good)."""
        r = self.random
        if r() < (0.25 if hh.away else 0.07):
            return None
        structure = STRUCTURES[village.setting].pick(r())
        low, high = BUILT[structure]
        if village.setting == CITY and structure == "砖混":
            high = 2005
        built = low + int(r() ** 0.8 * (high - low + 1))
        if village.community and structure in ("钢混", "砖混"):
            floors = APARTMENT_FLOORS.pick(r()) if structure == "钢混" else 5 + int(r() * 3)
            area = 55 + r() * 90
        else:
            floors = (
                1
                if structure == "土木" and r() < 0.8
                else 1 + int(r() * (2 if structure in ("土木", "砖木") else 3))
            )
            area = floors * (60 + r() * 80)
        if structure == "土木":
            safety = SAFETY_MUD.pick(r())
        elif built < 1992:
            safety = SAFETY_OLD.pick(r())
        else:
            safety = SAFETY_NEW.pick(r())
        village.houses += 1
        return {
            "house_code": f"{village.code}{village.houses:06d}",
            "address": hh.address,
            "township_code": village.township_code,
            "village_code": village.code,
            "owner_name": hh.head_name,
            "owner_id_number": hh.head_id,
            "structure": structure,
            "floor_area": round(area, 1),
            "floors": floors,
            "built_year": built,
            "usage": RESIDENTIAL,
            "safety_level": safety,
        }

    def premises(
        self, village: VillagePlan, address: str, usage: str, owner: str, owner_id: str | None
    ) -> dict:
        """Return the shop, factory or office building of a business."""
        r = self.random
        structure = "钢混" if r() < 0.6 else "砖混"
        if usage == INDUSTRIAL:
            floors, area = 1 + int(r() * 4), 500 + r() ** 2 * 19500
        elif usage == OFFICE:
            floors, area = 2 + int(r() * 18), 100 + r() ** 2 * 2900
        else:
            floors, area = 1 + int(r() * 3), 30 + r() * 370
        built = 1990 + int(r() * 36)
        village.houses += 1
        record = {
            "house_code": f"{village.code}{village.houses:06d}",
            "address": address,
            "township_code": village.township_code,
            "village_code": village.code,
            "owner_name": owner,
        }
        if owner_id:
            record["owner_id_number"] = owner_id
        record.update(
            {
                "structure": label("house.structure", structure),
                "floor_area": round(area, 1),
                "floors": floors,
                "built_year": built,
                "usage": usage,
                "safety_level": (SAFETY_NEW if built >= 1992 else SAFETY_OLD).pick(r()),
            }
        )
        return record

    def parcels(self, village: VillagePlan, hh: Household) -> list[dict]:
        """Return the contracted parcels of an agricultural household."""
        r = self.random
        records = []
        transfer_share = 0.45 if hh.away or hh.elderly else 0.25
        for _ in range(PARCELS.pick(r())):
            group = hh.group if hh.group and r() < 0.9 else 1 + int(r() * village.groups)
            area = round(min(8.0, max(0.3, 1.1 * 2.718281828 ** (0.6 * self.rng.gauss(0, 1)))), 2)
            land_use = LAND_USE.pick(r())
            record = self._parcel(village, group, hh.head_name, hh.head_id, area, land_use)
            if r() < transfer_share:
                self._transfer(record, village, TRANSFEREE.pick(r()), land_use, area)
            else:
                record["is_transferred"] = False
            records.append(record)
        if hh.head_id and r() < 0.35:
            village.farmers.append((hh.head_name, hh.head_id))
        return records

    def large_parcel(self, village: VillagePlan) -> dict:
        """Return a consolidated parcel of 200 mu or more, transferred to a business."""
        r = self.random
        area = round(200 + r() ** 2 * 1300, 2)
        land_use = ("耕地", "园地", "林地")[int(r() * 3)]
        group = 1 + int(r() * village.groups)
        # Consolidated land is let by the village collective on behalf of its members.
        record = self._parcel(village, group, f"{village.name}股份经济合作联合社", None, area, land_use)
        self._transfer(record, village, COMPANY if r() < 0.6 else COOPERATIVE, land_use, area, whole=True)
        return record

    def _parcel(
        self,
        village: VillagePlan,
        group: int,
        contractor: str,
        contractor_id: str | None,
        area: float,
        land_use: str,
    ) -> dict:
        """Return the contract part of a new parcel record."""
        seq = village.parcels.get(group, 0) + 1
        village.parcels[group] = seq
        r = self.random
        record = {
            "parcel_code": f"{village.code}{group:02d}{seq:05d}",
            "location": f"{village.place}{group}组{FIELD_NAMES[int(r() * len(FIELD_NAMES))]}",
            "township_code": village.township_code,
            "village_code": village.code,
            "contractor_name": contractor,
        }
        if contractor_id:
            record["contractor_id_number"] = contractor_id
        record["contract_area_mu"] = area
        record["land_use"] = land_use
        return record

    def _transfer(
        self, record: dict, village: VillagePlan, kind: str, land_use: str, area: float, whole: bool = False
    ) -> None:
        """Add the transfer fields to a parcel record."""
        r = self.random
        if kind == FARMER:
            others = [f for f in village.farmers if f[0] != record["contractor_name"]]
            name = others[int(r() * len(others))][0] if others else None
            if name is None:
                kind = FAMILY_FARM
        if kind == OTHER:
            name = f"{village.name}股份经济合作社"
        elif kind != FARMER:
            names = self.agri[kind]
            name = names[int(r() * len(names))]
        transfer_area = area if whole or r() < 0.85 else round(area * (0.3 + r() * 0.65), 2)
        year = START_YEAR.pick(r())
        month = 1 + int(r() * (10 if year == 2026 else 12))
        day = 1 + int(r() * 28)
        low, high = PRICE[land_use]
        price = (low + int(r() * (high - low + 1))) // 10 * 10
        end = year + TERM.pick(r())
        if end < 2027 and r() < 0.85:
            end += 5 * (1 + (2026 - end) // 5)  # renewed; the rest have lapsed unrenewed
        self.contracts += 1
        record.update(
            {
                "is_transferred": True,
                "transferee_name": name,
                "transferee_type": kind,
                "transfer_area_mu": transfer_area,
                "transfer_form": FORMS[kind].pick(r()),
                "transfer_start": f"{year}-{month:02d}-{day:02d}",
                "transfer_end": f"{end}-{month:02d}-{day:02d}",
                "transfer_price": price,
                "rent_arrears": (round(price * transfer_area * (0.5 + r() * 1.5), 2) if r() < 0.05 else 0),
                "contract_no": f"YCLZ{self.suffix}{year}{self.contracts:05d}",
            }
        )
