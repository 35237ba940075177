"""Who lives together: the make-up of a demo household, head first, with ages and surnames."""

from __future__ import annotations

import random

from . import tables as t
from .identity import Identities, age_between
from .tables import CITY, RURAL, SEAT, Weighted

MALE, FEMALE = t.GENDERS

(
    ELDER_SINGLE,
    ELDER_COUPLE,
    YOUNG_COUPLE,
    NUCLEAR,
    STEM,
    WITH_PARENTS,
    SINGLE_ADULT,
    SINGLE_PARENT,
    GRANDCARE,
) = range(9)
TEMPLATES = {
    RURAL: Weighted(dict(enumerate((14, 20, 3, 19, 22, 8, 8, 4, 2)))),
    SEAT: Weighted(dict(enumerate((11, 16, 6, 27, 15, 9, 10, 4, 2)))),
    CITY: Weighted(dict(enumerate((9, 14, 10, 35, 8, 9, 11, 4, 0.01)))),
}
HUSBAND_AGES = {
    ELDER_COUPLE: (58, 95),
    YOUNG_COUPLE: (22, 38),
    NUCLEAR: (30, 58),
    STEM: (50, 82),
    WITH_PARENTS: (28, 62),
    GRANDCARE: (55, 80),
}
SPOUSE_PRESENT = {STEM: 0.85, WITH_PARENTS: 0.8, GRANDCARE: 0.7}
SPOUSE_GAP = Weighted(
    {-3: 1, -2: 2, -1: 4, 0: 8, 1: 12, 2: 14, 3: 13, 4: 10, 5: 8, 6: 5, 7: 3, 8: 2, 9: 1, 10: 1}
)
FIRST_BIRTH = Weighted(
    {
        a: w
        for a, w in zip(range(19, 36), (2, 5, 9, 12, 13, 12, 11, 9, 7, 6, 4, 3, 2, 2, 1, 1, 1), strict=True)
    }
)
BIRTH_GAP = Weighted({1: 5, 2: 20, 3: 25, 4: 20, 5: 12, 6: 8, 7: 5, 8: 3, 9: 2})
CHILD_COUNT = {
    CITY: Weighted({1: 60, 2: 36, 3: 4}),
    SEAT: Weighted({1: 48, 2: 43, 3: 9}),
    RURAL: Weighted({1: 40, 2: 47, 3: 13}),
}
MARRIED_AWAY = Weighted({t.MARRIED: 60, t.label("person.marital_status", "离婚"): 30, t.WIDOWED: 10})
GRANDCHILD_COUNT = Weighted({1: 50, 2: 42, 3: 8})


class Member:
    """One person of a household while it is being made."""

    __slots__ = ("role", "sex", "age", "surname", "marital", "record", "status", "phone", "minder")

    def __init__(self, role: str, sex: str, age: int, surname: str, marital: str | None = None):
        self.role, self.sex, self.age, self.surname = role, sex, age, surname
        self.marital = marital
        self.record: dict = {}
        self.status = t.STATUS_REGISTERED
        self.phone = ""
        self.minder = False  # intellectual or mental disability: needs a guardian


class Families:
    """Compose households with one township's random stream."""

    def __init__(self, rng: random.Random, people: Identities):
        self.random = rng.random
        self.people = people

    def _children(
        self, mother_age: int, count: int, surname: str, role: str = "C", leave: bool = True
    ) -> list[Member]:
        """Return up to `count` children of a mother, eldest first."""
        r = self.random
        kids = []
        age = mother_age - FIRST_BIRTH.pick(r())
        for _ in range(count):
            if age < 0:
                break
            sex = MALE if r() < 0.515 else FEMALE
            # Grown children have mostly married out or set up their own households.
            if not leave or not (
                (sex == FEMALE and age >= 24 and r() < 0.6) or (sex == MALE and age >= 28 and r() < 0.55)
            ):
                kids.append(Member(role, sex, age, surname))
            age -= BIRTH_GAP.pick(r())
        return kids

    def compose(self, setting: int) -> list[Member]:
        """Return the members of a new household, head first."""
        r, people = self.random, self.people
        kind = TEMPLATES[setting].pick(r())
        fam = people.surname()
        if kind == ELDER_SINGLE:
            sex = FEMALE if r() < 0.6 else MALE
            return [Member("H", sex, age_between(r(), 60, 100), fam)]
        if kind in (SINGLE_ADULT, SINGLE_PARENT):
            male = r() < (0.7 if kind == SINGLE_ADULT else 0.45)
            low, high = (20, 59) if kind == SINGLE_ADULT else (28, 60)
            head = Member("H", MALE if male else FEMALE, age_between(r(), low, high), fam)
            members = [head]
            if kind == SINGLE_PARENT:
                head.marital = MARRIED_AWAY.pick(r())
                kids_surname = fam if male or r() < 0.3 else people.surname()
                members += self._children(
                    head.age - (2 if male else 0), 1 + (r() < 0.35), kids_surname, leave=False
                )
                return members
            u = r()
            if u < 0.10:
                age = max(16, head.age + int(r() * 21) - 10)
                members.append(Member("B", MALE if r() < 0.5 else FEMALE, age, fam))
            elif u < 0.14 and head.age + 45 <= 100:
                age = min(100, head.age + 45 + int(r() * 18))
                sex = MALE if r() < 0.35 else FEMALE
                members.append(Member("GP", sex, age, fam if sex == MALE else people.surname()))
            elif u < 0.19 and head.age + 22 <= 100:
                age = min(100, head.age + 22 + int(r() * 15))
                sex = MALE if r() < 0.35 else FEMALE
                members.append(Member("P", sex, age, fam if sex == MALE else people.surname()))
            return members

        low, high = HUSBAND_AGES[kind]
        husband_age = age_between(r(), low, high)
        wife_age = max(18, husband_age - SPOUSE_GAP.pick(r()))
        wife_surname = people.surname()
        head_male = r() < (0.9 if kind == ELDER_COUPLE else 0.85)
        with_spouse = r() < SPOUSE_PRESENT.get(kind, 1.0)
        if head_male:
            head = Member("H", MALE, husband_age, fam)
            spouse = Member("S", FEMALE, wife_age, wife_surname)
        else:
            head = Member("H", FEMALE, wife_age, wife_surname)
            spouse = Member("S", MALE, husband_age, fam)
        members = [head]
        if with_spouse:
            head.marital = spouse.marital = t.MARRIED
            members.append(spouse)
        if kind in (NUCLEAR, WITH_PARENTS):
            count = CHILD_COUNT[setting].pick(r())
            if kind == WITH_PARENTS and r() < 0.3:
                count = 0
            members += self._children(wife_age, count, fam if r() < 0.95 else wife_surname)
        if kind == WITH_PARENTS:
            both = r() < 0.4
            mother_age = head.age + FIRST_BIRTH.pick(r()) + int(r() * 5)
            father_age = mother_age + SPOUSE_GAP.pick(r())
            parents = []
            if (both or r() < 0.35) and father_age <= 100:
                parents.append(Member("P", MALE, father_age, head.surname))
            if (both or not parents) and mother_age <= 100:
                parents.append(Member("P", FEMALE, mother_age, people.surname()))
            if len(parents) == 2:
                for p in parents:
                    p.marital = t.MARRIED
            members += parents
        elif kind == STEM:
            self._stem(members, wife_age, fam, setting)
        elif kind == GRANDCARE:
            surname = fam if r() < 0.75 else people.surname()
            for _ in range(1 + (r() < 0.4)):
                members.append(Member("G", MALE if r() < 0.515 else FEMALE, 3 + int(r() * 15), surname))
        return members

    def _stem(self, members: list[Member], wife_age: int, fam: str, setting: int) -> None:
        """Add a married child, the child's spouse and grandchildren (三代同堂)."""
        r, people = self.random, self.people
        son = r() < 0.8
        age = age_between(r(), 22, max(22, min(wife_age - 19, 60)))
        child = Member("C", MALE if son else FEMALE, age, fam)
        members.append(child)
        partner_age = max(18, age - SPOUSE_GAP.pick(r())) if son else age + SPOUSE_GAP.pick(r())
        if r() < 0.75:
            partner = Member("N", FEMALE if son else MALE, partner_age, people.surname())
            child.marital = partner.marital = t.MARRIED
            members.append(partner)
            kids_surname = fam if son else partner.surname
        else:
            child.marital = MARRIED_AWAY.pick(r())
            kids_surname = fam if son or r() < 0.3 else people.surname()
        mother_age = partner_age if son else age
        count = GRANDCHILD_COUNT.pick(r()) if setting == RURAL else 1 + (r() < 0.4)
        members += self._children(mother_age, count, kids_surname, role="G")
        if r() < 0.15 and wife_age - 19 >= 18:
            members.append(
                Member("C", MALE if r() < 0.55 else FEMALE, age_between(r(), 18, min(wife_age - 19, 45)), fam)
            )
