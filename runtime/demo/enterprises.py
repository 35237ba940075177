"""Market entities of a demo township: companies, sole traders and cooperatives."""

from __future__ import annotations

import random
from collections.abc import Callable

from builder.checkdigits import USCC_ALPHABET, uscc_check_char

from .holdings import COMMERCIAL, COMPANY, COOPERATIVE, FAMILY_FARM, INDUSTRIAL, OFFICE, Holdings
from .households import VillagePlan
from .identity import Identities
from .places import DISTRICT_CODE, PARKS
from .tables import Weighted, label, labelled
from .trades import BRAND_CHARS, BRANDS, COMPANY_WORDS, FARM_PRODUCTS, SHOP_WORDS

LLC, JOINT_STOCK, SOLE, PARTNERSHIP, TRADER, COOP, OTHER = (
    label("enterprise.entity_type", v)
    for v in (
        "有限责任公司",
        "股份有限公司",
        "个人独资企业",
        "合伙企业",
        "个体工商户",
        "农民专业合作社",
        "其他",
    )
)
ENTITY_TYPES = {
    True: Weighted({TRADER: 65, LLC: 28, SOLE: 3, PARTNERSHIP: 1, JOINT_STOCK: 0.6, COOP: 0.4, OTHER: 2}),
    False: Weighted({TRADER: 68, LLC: 17, COOP: 8, SOLE: 3, PARTNERSHIP: 1, JOINT_STOCK: 0.2, OTHER: 2.8}),
}
# Type digit of the unified social credit code (registration authority 9 = market regulation).
USCC_TYPE = {TRADER: "2", COOP: "3"}
TRADER_SECTIONS = Weighted(
    {
        "F": 48,
        "H": 20,
        "O": 14,
        "G": 5,
        "A": 5,
        "C": 4,
        "R": 2,
        "Q": 1,
        "P": 0.5,
        "E": 0.5,
        "I": 0.3,
        "L": 0.3,
        "K": 0.2,
    }
)
COMPANY_SECTIONS = Weighted(
    {
        "C": 22,
        "F": 22,
        "E": 12,
        "L": 8,
        "M": 6,
        "I": 5,
        "G": 5,
        "A": 5,
        "K": 3,
        "H": 3,
        "O": 2,
        "N": 2,
        "R": 2,
        "Q": 1.5,
        "P": 1,
        "D": 0.8,
        "B": 0.3,
        "J": 0.3,
    }
)
CAPITAL = {
    LLC: Weighted(
        {10: 8, 20: 6, 30: 5, 50: 12, 100: 20, 200: 12, 300: 8, 500: 10, 1000: 8, 2000: 5, 5000: 4, 10000: 2}
    ),
    JOINT_STOCK: Weighted({500: 10, 1000: 25, 2000: 20, 5000: 25, 10000: 15, 20000: 5}),
    SOLE: Weighted({1: 10, 5: 25, 10: 30, 20: 15, 50: 12, 100: 8}),
    PARTNERSHIP: Weighted({10: 15, 50: 25, 100: 30, 500: 20, 1000: 10}),
    COOP: Weighted({5: 10, 10: 20, 20: 20, 50: 25, 100: 15, 200: 7, 500: 3}),
}
STATUS = labelled("enterprise.status", {"存续": 62, "在业": 25, "停业": 2, "吊销": 3, "注销": 8})
CLOSED = frozenset({"吊销", "注销"})
FOUNDED = Weighted({y: 1 + max(0, y - 2005) * (3 if y >= 2014 else 1) for y in range(1995, 2027)})
LIVESTOCK = frozenset({"生猪", "肉兔", "蛋鸡", "渔业"})
_ORG_SPACE = 31**6


class Enterprises:
    """Make the market entities of one township, with unique names and credit codes."""

    def __init__(
        self,
        rng: random.Random,
        people: Identities,
        township_index: int,
        township_name: str,
        street: bool,
        industries: dict[str, str],
        used_names: set[str],
    ):
        self.rng = rng
        self.random = rng.random
        self.people = people
        self.serial = township_index * 1_000_000
        self.township_name = township_name
        self.street = street
        self.industries = industries
        self.used_names = used_names
        self.planned: list[tuple[str, str, str, str]] = []  # (type, section, name, legal rep)

    def plan_agriculture(self, persons: int) -> dict[str, list[str]]:
        """Create the farms, cooperatives and agri-companies that take in transferred land."""
        r = self.random
        names: dict[str, list[str]] = {FAMILY_FARM: [], COOPERATIVE: [], COMPANY: []}
        for _ in range(max(1, persons // 2000)):
            owner = self._person_name()
            name = self._unique(lambda o=owner: f"永川区{self.township_name}{o}家庭农场")
            names[FAMILY_FARM].append(self._plan(TRADER if r() < 0.7 else SOLE, name, owner))
        for _ in range(max(1, persons // 2500)):
            name = self._unique(self._coop_name)
            names[COOPERATIVE].append(self._plan(COOP, name, self._person_name()))
        for _ in range(max(1, persons // 6000)):
            name = self._unique(lambda: self._company_name(LLC, "A"))
            names[COMPANY].append(self._plan(LLC, name, self._person_name()))
        return names

    def _plan(self, kind: str, name: str, rep: str) -> str:
        """Remember a planned entity and return its name."""
        self.planned.append((kind, "A", name, rep))
        return name

    def make(
        self, count: int, villages: list[VillagePlan], reps: list[tuple[str, str, str]], holdings: Holdings
    ) -> tuple[list[dict], list[dict]]:
        """Return `count` entity records (the planned ones first) and their business premises."""
        r = self.random
        records, premises = [], []
        weights = Weighted({i: (3 if v.community else 1) for i, v in enumerate(villages)})
        farmland = [v for v in villages if not v.community] or villages
        planned = list(self.planned)
        for n in range(max(count, len(planned))):
            village = villages[weights.pick(r())]
            rep = reps[int(r() * len(reps))] if reps else (self._person_name(), None, "")
            if n < len(planned):
                kind, section, name, rep_name = planned[n]
                rep = (rep_name, None, "")
            else:
                kind = ENTITY_TYPES[self.street].pick(r())
                section = (
                    "A"
                    if kind == COOP
                    else TRADER_SECTIONS.pick(r())
                    if kind == TRADER
                    else COMPANY_SECTIONS.pick(r())
                )
                name = self._unique(lambda k=kind, s=section, o=rep[0]: self._name(k, s, o))
            if section == "A" and village.community:
                village = farmland[int(r() * len(farmland))]
            record, house = self._entity(kind, section, name, rep, village, holdings)
            records.append(record)
            if house:
                premises.append(house)
        return records, premises

    def _entity(
        self,
        kind: str,
        section: str,
        name: str,
        rep: tuple[str, str | None, str],
        village: VillagePlan,
        holdings: Holdings,
    ) -> tuple[dict, dict | None]:
        """Return the record of one entity and, sometimes, its premises."""
        r = self.random
        year = FOUNDED.pick(r())
        if kind == COOP and year < 2007:
            year = 2007 + int(r() * 19)  # cooperatives exist since 2007
        month = 1 + int(r() * (10 if year == 2026 else 12))
        founded = f"{year}-{month:02d}-{1 + int(r() * 28):02d}"
        status = STATUS.pick(r())
        if year >= 2024 and status in CLOSED:
            status = "存续"
        closed = status in CLOSED
        address = self._address(kind, section, village)
        record = {
            "uscc": self._uscc(kind, year),
            "name": name,
            "township_code": village.township_code,
            "legal_rep": rep[0],
        }
        u = r()
        if u < 0.78:
            record["phone"] = rep[2] or self.people.mobile()
        elif u < 0.88:
            record["phone"] = self.people.landline()
        record["address"] = address
        record["industry"] = self.industries[section]
        record["entity_type"] = kind
        if kind in CAPITAL:
            record["registered_capital"] = CAPITAL[kind].pick(r())
        elif kind == TRADER and r() < 0.6:
            record["registered_capital"] = round(1 + r() ** 3 * 49, 1)
        record["established_date"] = founded
        if kind == TRADER:
            employees = 1 + int(r() ** 2 * 8)
        elif kind == JOINT_STOCK:
            employees = 30 + int(r() ** 2 * 1500)
        elif kind == COOP:
            employees = 2 + int(r() * 18)
        elif kind == LLC:
            employees = (5 + int(r() ** 3 * 300)) if section == "C" else 1 + int(r() ** 3 * 80)
        else:
            employees = 1 + int(r() * 30)
        if not closed:
            record["employees"] = employees
            if r() < 0.75:
                per_head = (5 + r() * 20) if kind == TRADER else (10 + r() * 40)
                record["annual_revenue"] = round(employees * per_head, 1)
        else:
            record["employees"] = 0
        record["status"] = status
        house = None
        if not closed and r() < (0.3 if kind == TRADER else 0.35 if kind != COOP else 0.1):
            usage = (
                INDUSTRIAL
                if section == "C" and kind != TRADER
                else COMMERCIAL
                if section in ("F", "H", "O") or kind == TRADER
                else OFFICE
            )
            owner, owner_id = (rep[0], rep[1]) if kind == TRADER else (name, None)
            house = holdings.premises(village, address, usage, owner, owner_id)
        return record, house

    def _uscc(self, kind: str, year: int) -> str:
        """Return a unique unified social credit code (GB 32100)."""
        self.serial += 1
        if year >= 2016 or kind in (TRADER, COOP):
            # New-style organisation part: "MA" + 6 symbols + a seventh derived symbol.
            n = (self.serial * 887_503 + 104_729) % _ORG_SPACE
            body = ""
            for _ in range(6):
                n, digit = divmod(n, 31)
                body = USCC_ALPHABET[digit] + body
            org = "MA" + body + USCC_ALPHABET[sum(map(USCC_ALPHABET.index, body)) % 31]
        else:
            digits = f"{(self.serial * 7_654_321 + 13_579) % 10**8:08d}"
            check = 11 - sum(int(d) * w for d, w in zip(digits, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
            org = digits + ("X" if check == 10 else "0" if check == 11 else str(check))
        first17 = "9" + USCC_TYPE.get(kind, "1") + DISTRICT_CODE + org
        return first17 + uscc_check_char(first17)

    def _unique(self, make: Callable[[], str]) -> str:
        """Return a name from `make` that no other entity in the district has."""
        for _ in range(50):
            name = make()
            if name not in self.used_names:
                break
        else:
            base, n = name, 2
            while (name := f"{base}（{n}）") in self.used_names:
                n += 1
        self.used_names.add(name)
        return name

    def _brand(self) -> str:
        """Return a trade name (字号): a well-worn one, or two auspicious characters."""
        r = self.random
        if r() < 0.3:
            return BRANDS[int(r() * len(BRANDS))]
        a, b = BRAND_CHARS[int(r() * len(BRAND_CHARS))], BRAND_CHARS[int(r() * len(BRAND_CHARS))]
        return a + b if a != b else a + "源"

    def _person_name(self) -> str:
        """Return the name of someone from outside the ledgers."""
        r = self.random
        return self.people.surname() + self.people.given(1960 + int(r() * 35), "男" if r() < 0.7 else "女")

    def _company_name(self, kind: str, section: str) -> str:
        """Return a company-style name for an entity type and section."""
        r = self.random
        brand = self._brand()
        words = COMPANY_WORDS[section]
        word = words[int(r() * len(words))]
        region = "重庆" if r() < 0.4 else "重庆市永川区"
        if kind == JOINT_STOCK:
            return f"重庆{brand}{word}股份有限公司"
        if kind == SOLE:
            return f"重庆市永川区{brand}{word}{'厂' if section == 'C' else '经营部'}"
        if kind == PARTNERSHIP:
            return f"重庆{brand}{word}中心（有限合伙）"
        if kind == OTHER:
            return f"重庆{brand}{word}有限公司永川分公司"
        return f"{region}{brand}{word}有限公司"

    def _coop_name(self) -> str:
        """Return the name of a farmers' cooperative."""
        r = self.random
        product = FARM_PRODUCTS[int(r() * len(FARM_PRODUCTS))]
        trade = "养殖" if product in LIVESTOCK else "种植" if r() < 0.6 else ""
        place = self.township_name.removesuffix("镇").removesuffix("街道")
        if r() < 0.5:
            place = self._brand()
        return f"重庆市永川区{place}{product}{trade}专业合作社"

    def _name(self, kind: str, section: str, rep_name: str) -> str:
        """Return a name for a new entity."""
        if kind == COOP:
            return self._coop_name()
        if kind != TRADER:
            return self._company_name(kind, section)
        r = self.random
        words = SHOP_WORDS.get(section) or SHOP_WORDS["F"]
        word = words[int(r() * len(words))]
        u = r()
        if u < 0.45:
            return f"永川区{self.township_name}{rep_name}{word}"
        if u < 0.6:
            return f"永川区{self.township_name}{rep_name[0]}记{word}"
        return f"永川区{self.township_name}{self._brand()}{word}"

    def _address(self, kind: str, section: str, village: VillagePlan) -> str:
        """Return the registered address of an entity."""
        r = self.random
        if section == "C" and kind in (LLC, JOINT_STOCK) and r() < 0.4:
            return f"{PARKS[int(r() * len(PARKS))]}{1 + int(r() * 300)}号"
        if village.community:
            road = village.roads[int(r() * len(village.roads))]
            extra = f"附{1 + int(r() * 20)}号" if r() < 0.2 else ""
            return f"{village.place}{road}{1 + int(r() * 400)}号{extra}"
        return f"{village.place}{1 + int(r() * village.groups)}组"
