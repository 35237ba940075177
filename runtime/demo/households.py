"""Households of a demo village: who lives together, each member's record, the household record."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from . import tables as t
from .families import FEMALE, MALE, Families, Member
from .identity import DAYS, DAYS_PER_YEAR, Identities, IdNumbers
from .places import (
    ADDRESS_PREFIX,
    DESTINATION_ROADS,
    DESTINATIONS,
    DISTRICT_CODE,
    OLD_NATIVE_CODE,
    ORIGINS_ELSEWHERE,
    ORIGINS_MINORITY,
    TOWN_STREETS,
)
from .tables import CITY, RURAL, SEAT, Weighted
from .trades import OCCUPATIONS

R = t.RELATIONS

DESTINATION = Weighted(DESTINATIONS)
ORIGIN = Weighted(ORIGINS_ELSEWHERE)
ORIGIN_MINORITY = Weighted(ORIGINS_MINORITY)
# Share born outside the district, by role.
BORN_ELSEWHERE = {"H": 0.05, "S": 0.2, "N": 0.35, "C": 0.02, "G": 0.02, "P": 0.06, "GP": 0.05, "B": 0.04}
UNEMPLOYED = t.label("person.employment_status", "失业")
INCOME_MEDIAN = {CITY: 42000, SEAT: 28000, RURAL: 20500}
# Household shares of assistance before the weights for disability and old age.
TEKUN_SHARE = {CITY: 0.07, SEAT: 0.12, RURAL: 0.15}
DIBAO_SHARE = {CITY: 0.02, SEAT: 0.03, RURAL: 0.038}
EDGE_SHARE = 0.01


@dataclass(slots=True)
class VillagePlan:
    """One village (or community) of a township and the counters its records draw on."""

    code: str
    name: str
    township_code: str
    township_name: str
    setting: int
    community: bool
    farming: bool
    groups: int
    roads: tuple[str, ...]
    quota: int
    households: int = 0
    houses: int = 0
    group_doors: list[int] = field(default_factory=list)
    parcels: dict[int, int] = field(default_factory=dict)
    farmers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def place(self) -> str:
        """Return the address prefix down to the village."""
        return f"{ADDRESS_PREFIX}{self.township_name}{self.name}"


@dataclass(slots=True)
class Household:
    """A made household: its member records, its own record and what land and houses need."""

    members: list[dict]
    record: dict
    head_name: str
    head_id: str
    address: str
    group: int
    agricultural: bool
    away: bool
    elderly: bool


class HouseholdMaker:
    """Make households for the villages of one township."""

    def __init__(
        self,
        rng: random.Random,
        ids: IdNumbers,
        people: Identities,
        relocations: list[tuple[str, tuple[str, ...]]],
    ):
        self.rng = rng
        self.random = rng.random
        self.ids = ids
        self.people = people
        self.relocations = relocations
        self.families = Families(rng, people)

    # -- the household -------------------------------------------------------------------------

    def address(self, village: VillagePlan) -> tuple[str, int]:
        """Return a new door address in the village and its village group (0 for none)."""
        r = self.random
        if not village.community:
            group = 1 + int(r() * village.groups)
            village.group_doors[group] += 1 + int(r() * 3)
            return f"{village.place}{group}组{village.group_doors[group]}号", group
        # Doors are handed out in order so that no two households share one.
        slot = village.households - 1
        if village.setting == CITY:
            # Estates of 12 blocks × 2 stairwells × 18 floors × 4 flats.
            estate, flat = divmod(slot, 1728)
            road = village.roads[estate % len(village.roads)]
            number = 1 + (estate // len(village.roads)) * 40 + int(r() * 40)
            return (
                f"{village.place}{road}{number}号{flat // 144 + 1}幢{flat // 72 % 2 + 1}单元"
                f"{flat // 4 % 18 + 1}-{flat % 4 + 1}"
            ), 0
        road = village.roads[slot % len(village.roads)]
        return f"{village.place}{road}{slot // len(village.roads) + 1}号", 0

    def outside_address(self) -> str:
        """Return an address outside the district."""
        r = self.random
        return (
            f"{DESTINATION.pick(r())}{DESTINATION_ROADS[int(r() * len(DESTINATION_ROADS))]}"
            f"{1 + int(r() * 600)}号"
        )

    def town_address(self) -> str:
        """Return an address in the urban streets of the district."""
        r = self.random
        if not self.relocations:
            return (
                f"{ADDRESS_PREFIX}中山路街道{TOWN_STREETS[int(r() * len(TOWN_STREETS))]}"
                f"{1 + int(r() * 300)}号"
            )
        place, roads = self.relocations[int(r() * len(self.relocations))]
        return f"{place}{roads[int(r() * len(roads))]}{1 + int(r() * 400)}号"

    def make(self, village: VillagePlan) -> Household:
        """Make one household of `village` with its member records."""
        r = self.random
        setting = village.setting
        members = self.families.compose(setting)
        village.households += 1
        household_no = f"{village.code}{village.households:04d}"
        address, group = self.address(village)
        base_hukou = t.HUKOU[setting].pick(r())
        for m in members:
            self._person(m, village, household_no, address, base_hukou)
        self._guardians(members)
        head = members[0]
        hr = head.record
        return self._household(
            members, village, household_no, address, group, hr["hukou_type"] == t.AGRICULTURAL
        )

    def _person(
        self, m: Member, village: VillagePlan, household_no: str, address: str, base_hukou: str
    ) -> None:
        """Fill the member's record."""
        r = self.random
        setting = village.setting
        age = m.age
        band = t.BAND_OF_AGE[age]
        male = m.sex == MALE
        ethnicity = t.ETHNICITY.pick(r())
        if ethnicity != "汉族" and r() < 0.5:
            origin = ORIGIN_MINORITY.pick(r())
        elif r() < BORN_ELSEWHERE[m.role]:
            origin = ORIGIN.pick(r())
        elif 21 <= age <= 76 and r() < 0.15:
            origin = OLD_NATIVE_CODE
        else:
            origin = DISTRICT_CODE
        id_number, day = self.ids.issue(origin, int((age + r()) * DAYS_PER_YEAR), male)
        birth = DAYS[day][0]
        role = m.role
        relation = (R["子"] if male else R["女"]) if role == "C" else ROLE_RELATION[role]
        name = m.surname + self.people.given(int(birth[:4]), m.sex)

        # Life situation: school, working away, moved out, died.
        student = 6 <= age <= 17 or (band == 3 and r() < t.STUDENT_SHARE_18_22[setting])
        migrant = not student and role != "P" and r() < t.MIGRANT_SHARE[setting][band]
        status = t.STATUS_REGISTERED
        if role != "H":
            if age >= 70 and r() < 0.06:
                status = t.STATUS_DEAD
            elif 18 <= age <= 40 and r() < (0.06 if not male else 0.025):
                status = t.STATUS_MOVED
        if status == t.STATUS_REGISTERED and (
            (migrant and r() < 0.55) or (student and age >= 18 and r() < 0.3)
        ):
            status = t.STATUS_AWAY
        m.status = status
        alive = status != t.STATUS_DEAD

        rec = {
            "name": name,
            "id_number": id_number,
            "gender": m.sex,
            "birth_date": birth,
            "ethnicity": ethnicity,
        }
        if alive and age >= 16 and r() < (0.86 if age < 80 else 0.55):
            m.phone = rec["phone"] = self.people.mobile()
        rec["household_address"] = address
        if alive:
            u = r()
            if status == t.STATUS_MOVED or migrant:
                if u < 0.75:
                    rec["current_address"] = self.outside_address() if r() < 0.8 else self.town_address()
            elif u < 0.8:
                rec["current_address"] = self.town_address() if setting != CITY and u < 0.08 else address
        rec["township_code"] = village.township_code
        rec["village_code"] = village.code
        rec["household_no"] = household_no
        rec["relation_to_head"] = relation
        rec["hukou_type"] = base_hukou if r() < 0.95 else t.HUKOU[setting].pick(r())

        # Education: the level reached, or the one being studied for.
        if age >= 6 and r() < 0.97:
            if student:
                if age <= 11:
                    education = t.EDU_PRIMARY
                elif age <= 14:
                    education = t.EDU_JUNIOR
                elif age <= 17:
                    education = t.EDU_SENIOR.pick(r())
                else:
                    education = t.EDU_COLLEGE.pick(r())
            elif band < 3:
                education = t.EDU_JUNIOR
            else:
                education = t.EDUCATION[setting][m.sex][band].pick(r())
            rec["education"] = education
        else:
            education = ""
        if age >= 18:
            rec["marital_status"] = m.marital or t.UNPARTNERED[band].pick(r())
        elif age >= 16:
            rec["marital_status"] = t.SINGLE
        rec["political_status"] = self._political(age, male, student, education)

        # Work.
        if student:
            employment = t.STUDENT
        elif age < 16:
            employment = ""
        elif migrant:
            employment = t.MIGRANT_WORK
        elif band < 3:
            employment = UNEMPLOYED
        else:
            employment = t.EMPLOYMENT[setting][band].pick(r())
        if employment and alive and (age < 16 or r() < 0.8):
            rec["employment_status"] = employment
            if employment in t.EMPLOYED_LIKE and r() < 0.75:
                jobs = OCCUPATIONS[(employment, "city" if setting == CITY else "rural")]
                rec["occupation"] = jobs[int(r() * len(jobs))]

        # Health and disability.
        disabled = r() < t.DISABILITY_SHARE[band]
        if disabled:
            category = (t.DISABILITY_YOUNG if age < 45 else t.DISABILITY_OLD).pick(r())
            grade = t.DISABILITY_GRADE.pick(r())
            rec["health_status"] = t.DISABLED_HEALTH
        elif r() < 0.97:
            rec["health_status"] = t.HEALTH[band].pick(r())
        rec["residence_status"] = status
        rec["is_veteran"] = male and age >= 30 and r() < 0.022
        if disabled:
            rec["disability_cert_no"] = id_number + category + grade
            rec["disability_category"] = t.CATEGORY_LABELS[category]
            rec["disability_grade"] = t.GRADE_LABELS[grade]
            m.minder = category in t.NEEDS_GUARDIAN
        rec["assistance_type"] = t.ASSIST_NONE

        # Insurance.
        if age >= 16 and not student:
            rec["pension_insurance"] = self._pension(setting, age, employment, migrant)
            worker = rec["pension_insurance"] == t.PENSION_WORKER
        else:
            worker = False
        u = r()
        if u < 0.97:
            rec["medical_insurance"] = t.MEDICAL_WORKER if worker and u < 0.9 else t.MEDICAL_RESIDENT
        elif u < 0.995:
            rec["medical_insurance"] = t.MEDICAL_NONE
        if age >= 18 and r() < 0.7:
            rec["bank_account"] = self.people.bank_account()
        m.record = rec

    def _political(self, age: int, male: bool, student: bool, education: str) -> str:
        """Return the political status, by age, sex and schooling."""
        r = self.random
        if age < 14:
            return t.MASSES
        u = r()
        degree = education in t.DEGREES
        if age <= 28:
            if age >= 18 and u < (0.04 if degree else 0.012):
                return t.PARTY
            if age >= 18 and u < (0.05 if degree else 0.016):
                return t.PROBATIONARY
            if u < (0.6 if student else 0.3):
                return t.LEAGUE
            return t.MASSES
        share = (0.09 if male else 0.045) if age < 60 else (0.14 if male else 0.035)
        if degree:
            share *= 2.5
        if u < share:
            return t.PARTY
        if degree and u < share + 0.004:
            return t.DEMOCRATIC
        return t.MASSES

    def _pension(self, setting: int, age: int, employment: str, migrant: bool) -> str:
        """Return the pension insurance of an adult out of school."""
        u = self.random()
        if setting == CITY:
            worker = 0.85 if employment == "退休" else 0.7 if employment == "在业" else 0.25
        else:
            worker = 0.35 if migrant else 0.45 if employment in ("在业", "退休") else 0.05
        if u < worker:
            return t.PENSION_WORKER
        if u < worker + (0.15 if age < 40 else 0.07 if age < 60 else 0.03):
            return t.PENSION_NONE
        return t.PENSION_RESIDENT

    def _guardians(self, members: list[Member]) -> None:
        """Name a guardian for minors and for people with intellectual or mental disability."""
        for m in members:
            if m.age >= 18 and not m.minder or m.status == t.STATUS_DEAD:
                continue
            guardian = self._guardian_of(m, members)
            rec = m.record
            if guardian is None:
                r = self.random
                rec["guardian_name"] = m.surname + self.people.given(
                    1960 + int(r() * 25), MALE if r() < 0.5 else FEMALE
                )
                if r() < 0.9:
                    rec["guardian_phone"] = self.people.mobile()
                continue
            rec["guardian_name"] = guardian.record["name"]
            phone = guardian.phone or members[0].phone
            if phone:
                rec["guardian_phone"] = phone

    def _guardian_of(self, m: Member, members: list[Member]) -> Member | None:
        """Return the household member best placed to be `m`'s guardian."""

        def fit(x: Member) -> bool:
            return x is not m and x.age >= 18 and x.status in (t.STATUS_REGISTERED, t.STATUS_AWAY)

        if m.age < 18:
            parents = {"C": ("H", "S"), "G": ("C", "N"), "B": ("P",)}.get(m.role, ("H", "S"))
            # A grandchild's parents are the married child and that child's spouse, not an
            # unmarried uncle or aunt living in the same household.
            order = [
                x
                for x in members
                if x.role in parents
                and fit(x)
                and not (m.role == "G" and x.role == "C" and x.marital is None)
            ]
            order.sort(key=lambda x: (x.status != t.STATUS_REGISTERED, x.sex == MALE))
            order += [x for x in members if x.role in ("H", "S") and fit(x)]
        else:
            kin = {
                "H": ("S", "P", "C", "B"),
                "S": ("H", "C"),
                "C": ("N", "H", "S", "C"),
                "N": ("C",),
                "P": ("H", "S"),
                "B": ("H",),
                "G": ("C", "N", "H", "S"),
                "GP": ("H",),
            }[m.role]
            order = [x for role in kin for x in members if x.role == role and fit(x)]
        order += [x for x in members if fit(x)]
        return order[0] if order else None

    def _household(
        self,
        members: list[Member],
        village: VillagePlan,
        household_no: str,
        address: str,
        group: int,
        agricultural: bool,
    ) -> Household:
        """Decide assistance and poverty for the whole household and build its record."""
        r = self.random
        setting = village.setting
        head = members[0]
        living = [m for m in members if m.status in (t.STATUS_REGISTERED, t.STATUS_AWAY)]
        disabled = any("disability_grade" in m.record for m in living)
        severe = any(m.record.get("disability_grade") in ("一级", "二级") for m in living)
        elderly = all(m.age >= 60 for m in living)
        weight = 3.0 if severe else 2.0 if disabled else 1.0
        if elderly:
            weight *= 1.6
        alone = (
            len(members) == 1
            and (head.age >= 60 or disabled)
            and head.record.get("marital_status") != t.MARRIED
        )
        u = r()
        assistance = t.ASSIST_NONE
        if alone and u < TEKUN_SHARE[setting]:
            assistance = t.ASSIST_TEKUN
        else:
            u = r()
            dibao = DIBAO_SHARE[setting] * weight
            if u < dibao:
                assistance = t.ASSIST_DIBAO
            elif u < dibao + EDGE_SHARE * weight:
                assistance = t.ASSIST_EDGE
        if assistance != t.ASSIST_NONE:
            for m in living:
                m.record["assistance_type"] = assistance
        v = r()
        if assistance in (t.ASSIST_DIBAO, t.ASSIST_TEKUN):
            poverty = t.POVERTY_LIFTED if v < 0.45 else t.POVERTY_WATCH if v < 0.55 else t.POVERTY_NONE
        else:
            lifted = {CITY: 0.005, SEAT: 0.03, RURAL: 0.06}[setting] * (1.5 if disabled else 1)
            poverty = (
                t.POVERTY_LIFTED if v < lifted else t.POVERTY_WATCH if v < lifted + 0.008 else t.POVERTY_NONE
            )
        if assistance in (t.ASSIST_DIBAO, t.ASSIST_TEKUN):
            income = 5000 + int(r() * 6000)
        else:
            income = INCOME_MEDIAN[setting] * math.exp(0.45 * self.rng.gauss(0.0, 1.0))
            if assistance == t.ASSIST_EDGE:
                income *= 0.5
            if poverty == t.POVERTY_LIFTED:
                income *= 0.65
            elif poverty == t.POVERTY_WATCH:
                income *= 0.5
            income = max(3000, int(income))
        income = income // 10 * 10
        hr = head.record
        record = {
            "household_no": household_no,
            "head_name": hr["name"],
            "head_id_number": hr["id_number"],
            "address": address,
            "size": len(members),
        }
        if head.phone:
            record["phone"] = head.phone
        record["annual_income_per_capita"] = income
        record["poverty_status"] = poverty
        record["township_code"] = village.township_code
        record["village_code"] = village.code
        away = all(m.status != t.STATUS_REGISTERED for m in living)
        return Household(
            [m.record for m in members],
            record,
            hr["name"],
            hr["id_number"],
            address,
            group,
            agricultural,
            away,
            elderly,
        )


ROLE_RELATION = {
    "H": R["户主"],
    "S": R["配偶"],
    "N": R["其他"],
    "G": R["孙子女"],
    "P": R["父母"],
    "GP": R["祖父母"],
    "B": R["兄弟姐妹"],
}
