"""Weighted tables of the demo district's people, and the catalog labels they emit.

Every label a table can emit is recorded in `USED_LABELS` under its element code, so the
generator can check them against the loaded catalog before it writes a single record.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Any

USED_LABELS: dict[str, set[str]] = {}

CITY, SEAT, RURAL = 0, 1, 2  # settings: urban community, town seat or peri-urban village, village
SETTINGS = (CITY, SEAT, RURAL)

# Age bands: 0–5, 6–14, 15–17, 18–22, 23–29, 30–39, 40–49, 50–59, 60–69, 70–79, 80+.
BAND_STARTS = (0, 6, 15, 18, 23, 30, 40, 50, 60, 70, 80)
MAX_AGE = 105
BAND_OF_AGE = tuple(bisect_right(BAND_STARTS, age) - 1 for age in range(MAX_AGE + 1))


class Weighted:
    """A categorical distribution picked with one uniform draw."""

    __slots__ = ("values", "cum")

    def __init__(self, weights: Mapping[Any, float]):
        total = float(sum(weights.values()))
        acc, cum = 0.0, []
        for weight in weights.values():
            acc += weight
            cum.append(acc / total)
        cum[-1] = 1.0
        self.values = tuple(weights)
        self.cum = tuple(cum)

    def pick(self, u: float) -> Any:
        """Return the value at uniform draw `u` in [0, 1)."""
        return self.values[bisect_right(self.cum, u)]


def label(code: str, value: str) -> str:
    """Record that the generator emits `value` for element `code`, and return it."""
    USED_LABELS.setdefault(code, set()).add(value)
    return value


def labelled(code: str, weights: Mapping[str, float]) -> Weighted:
    """Return a weighted table of catalog labels of element `code`."""
    for value in weights:
        label(code, value)
    return Weighted(weights)


def _rows(code: str, labels: Sequence[str], rows: Sequence[str]) -> list[Weighted]:
    """Return one table per row of space-separated weights."""
    return [labelled(code, dict(zip(labels, map(float, row.split()), strict=True))) for row in rows]


def _blend(a: Weighted, b: Weighted) -> Weighted:
    """Return the even mixture of two tables over the same values."""

    def probabilities(t: Weighted) -> list[float]:
        return [c - p for c, p in zip(t.cum, (0.0, *t.cum[:-1]), strict=True)]

    return Weighted(
        {v: (x + y) / 2 for v, x, y in zip(a.values, probabilities(a), probabilities(b), strict=True)}
    )


GENDERS = (label("person.gender", "男"), label("person.gender", "女"))

ETHNICITY = labelled(
    "person.ethnicity",
    {
        "汉族": 98.42,
        "土家族": 0.6,
        "苗族": 0.4,
        "彝族": 0.1,
        "回族": 0.1,
        "藏族": 0.05,
        "壮族": 0.05,
        "满族": 0.05,
        "布依族": 0.05,
        "侗族": 0.05,
        "蒙古族": 0.03,
        "仡佬族": 0.05,
    },
)

# Education of people out of school, by age band from 18–22 on (bands 3–10), sex and setting.
_EDU = ("研究生", "大学本科", "大学专科", "中专/技校", "高中", "初中", "小学", "文盲或半文盲")
_EDU_RURAL_MALE = (
    "0 1 5 30 20 39 5 0",
    "1 15 22 20 15 25 2 0",
    "0.5 10 14 13 15 41 6 0.5",
    "0 4 7 8 15 50 15 1",
    "0 1 3 4 14 45 30 3",
    "0 0 1 2 9 35 45 8",
    "0 0 0.5 1.5 5 18 55 20",
    "0 0 0 0 3 9 48 40",
)
_EDU_RURAL_FEMALE = (
    "0 2 7 28 18 38 6 1",
    "1 16 24 19 13 24 3 0",
    "0.5 9 14 12 13 41 9 1.5",
    "0 3 5 6 12 48 23 3",
    "0 0.5 2 3 8 40 38 8.5",
    "0 0 0.5 1 5 24 50 19.5",
    "0 0 0 0.5 2 8 45 44.5",
    "0 0 0 0 1 3 26 70",
)
_EDU_CITY_MALE = (
    "0 3 10 35 30 20 2 0",
    "4 35 30 15 10 6 0 0",
    "3 25 25 12 15 18 2 0",
    "1 11 15 12 25 30 5 1",
    "0 5 8 8 28 38 12 1",
    "0 3 4 5 20 35 30 3",
    "0 2 2 4 14 28 40 10",
    "0 2 0 3 10 20 40 25",
)
_EDU_CITY_FEMALE = (
    "0 4 12 34 28 20 2 0",
    "5 37 31 14 8 5 0 0",
    "3 26 26 12 14 17 2 0",
    "1 10 14 12 24 32 6 1",
    "0 4 7 7 24 38 17 3",
    "0 2 3 4 15 32 38 6",
    "0 1 1 2 9 20 45 22",
    "0 1 0 1 5 13 35 45",
)
_edu_rural = {
    "男": _rows("person.education", _EDU, _EDU_RURAL_MALE),
    "女": _rows("person.education", _EDU, _EDU_RURAL_FEMALE),
}
_edu_city = {
    "男": _rows("person.education", _EDU, _EDU_CITY_MALE),
    "女": _rows("person.education", _EDU, _EDU_CITY_FEMALE),
}
# EDUCATION[setting][sex][band] for bands 3–10; indexes below 3 are unused placeholders.
EDUCATION = {
    setting: {
        sex: [None] * 3
        + (
            _edu_city[sex]
            if setting == CITY
            else _edu_rural[sex]
            if setting == RURAL
            else [_blend(c, r) for c, r in zip(_edu_city[sex], _edu_rural[sex], strict=True)]
        )
        for sex in GENDERS
    }
    for setting in SETTINGS
}
EDU_PRIMARY = label("person.education", "小学")
EDU_JUNIOR = label("person.education", "初中")
EDU_SENIOR = labelled("person.education", {"高中": 65, "中专/技校": 35})
EDU_COLLEGE = labelled("person.education", {"大学本科": 48, "大学专科": 44, "中专/技校": 8})
DEGREES = frozenset({"研究生", "大学本科", "大学专科"})

# Marital status of adults with no spouse in the household, by age band (3–10).
_MARITAL = ("未婚", "离婚", "丧偶", "已婚", "未说明")
MARRIED = label("person.marital_status", "已婚")
SINGLE = label("person.marital_status", "未婚")
WIDOWED = label("person.marital_status", "丧偶")
UNPARTNERED = [None] * 3 + _rows(
    "person.marital_status",
    _MARITAL,
    (
        "97 0.5 0 2 0.5",
        "85 4 0.2 10 0.8",
        "55 25 1 18 1",
        "35 38 6 20 1",
        "22 35 20 22 1",
        "12 20 50 17 1",
        "6 10 74 9 1",
        "3 5 87 4 1",
    ),
)

# Employment of people out of school and not working away, by age band (3–10) and setting.
_JOBS = ("在业", "务农", "灵活就业", "失业", "退休", "无劳动能力")
_JOBS_RURAL = _rows(
    "person.employment_status",
    _JOBS,
    (
        "35 10 25 25 0 5",
        "40 15 25 17 0 3",
        "35 30 22 10 0 3",
        "28 45 17 7 0 3",
        "18 62 10 5 0 5",
        "3 70 4 0 8 15",
        "0 45 0 0 8 47",
        "0 8 0 0 7 85",
    ),
)
_JOBS_CITY = _rows(
    "person.employment_status",
    _JOBS,
    (
        "45 2 25 28 0 0",
        "68 1 18 12 0 1",
        "70 2 18 9 0 1",
        "64 4 20 10 0 2",
        "45 5 15 8 25 2",
        "6 5 4 0 80 5",
        "0 3 0 0 85 12",
        "0 0 0 0 75 25",
    ),
)
EMPLOYMENT = {
    CITY: [None] * 3 + _JOBS_CITY,
    SEAT: [None] * 3 + [_blend(c, r) for c, r in zip(_JOBS_CITY, _JOBS_RURAL, strict=True)],
    RURAL: [None] * 3 + _JOBS_RURAL,
}
STUDENT = label("person.employment_status", "在校学生")
MIGRANT_WORK = label("person.employment_status", "外出务工")
EMPLOYED_LIKE = frozenset({"在业", "务农", "外出务工", "灵活就业"})
# Chance that an adult works away from home, by age band and setting.
MIGRANT_SHARE = {
    RURAL: (0, 0, 0, 0.55, 0.55, 0.5, 0.4, 0.2, 0.03, 0, 0),
    SEAT: (0, 0, 0, 0.33, 0.33, 0.3, 0.24, 0.12, 0.02, 0, 0),
    CITY: (0, 0, 0, 0.1, 0.1, 0.1, 0.08, 0.04, 0, 0, 0),
}
# Chance that someone aged 18–22 is still in school.
STUDENT_SHARE_18_22 = {CITY: 0.6, SEAT: 0.5, RURAL: 0.42}

_HEALTH = ("健康", "一般", "长期慢性病", "患有大病")
_HEALTH_ROWS = _rows(
    "person.health_status",
    _HEALTH,
    (
        "96 3 0.7 0.3",
        "90 7 2 1",
        "75 15 8 2",
        "52 22 22 4",
        "35 27 32 6",
        "22 30 40 8",
    ),
)
HEALTH = tuple(_HEALTH_ROWS[i] for i in (0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5))
DISABLED_HEALTH = label("person.health_status", "残疾")

DISABILITY_SHARE = (0.006, 0.013, 0.013, 0.027, 0.027, 0.032, 0.048, 0.07, 0.1, 0.14, 0.19)
# Category digit of the certificate → label; younger people more often intellectual or mental.
DISABILITY_YOUNG = Weighted({"4": 30, "5": 22, "6": 18, "1": 8, "2": 8, "3": 6, "7": 8})
DISABILITY_OLD = Weighted({"4": 48, "1": 13, "2": 17, "3": 1, "5": 3, "6": 8, "7": 10})
DISABILITY_GRADE = Weighted({"1": 12, "2": 23, "3": 30, "4": 35})
CATEGORY_LABELS = {
    d: label("person.disability_category", v)
    for d, v in (
        ("1", "视力"),
        ("2", "听力"),
        ("3", "言语"),
        ("4", "肢体"),
        ("5", "智力"),
        ("6", "精神"),
        ("7", "多重"),
    )
}
GRADE_LABELS = {
    d: label("person.disability_grade", v)
    for d, v in (("1", "一级"), ("2", "二级"), ("3", "三级"), ("4", "四级"))
}
NEEDS_GUARDIAN = frozenset({"5", "6"})  # intellectual and mental disability

HUKOU = {
    CITY: labelled("person.hukou_type", {"居民": 65, "非农业": 20, "农业": 15}),
    SEAT: labelled("person.hukou_type", {"居民": 40, "农业": 45, "非农业": 15}),
    RURAL: labelled("person.hukou_type", {"农业": 85, "居民": 12, "非农业": 3}),
}
AGRICULTURAL = label("person.hukou_type", "农业")

PARTY = label("person.political_status", "中共党员")
PROBATIONARY = label("person.political_status", "中共预备党员")
LEAGUE = label("person.political_status", "共青团员")
DEMOCRATIC = label("person.political_status", "民主党派")
MASSES = label("person.political_status", "群众")

RELATIONS = {
    key: label("person.relation_to_head", key)
    for key in ("户主", "配偶", "子", "女", "孙子女", "父母", "祖父母", "兄弟姐妹", "其他")
}

STATUS_REGISTERED = label("person.residence_status", "在册")
STATUS_AWAY = label("person.residence_status", "外出")
STATUS_MOVED = label("person.residence_status", "迁出")
STATUS_DEAD = label("person.residence_status", "死亡")

ASSIST_NONE = label("person.assistance_type", "无")
ASSIST_DIBAO = label("person.assistance_type", "低保")
ASSIST_TEKUN = label("person.assistance_type", "特困")
ASSIST_EDGE = label("person.assistance_type", "低保边缘")

PENSION_RESIDENT = label("person.pension_insurance", "城乡居民养老保险")
PENSION_WORKER = label("person.pension_insurance", "城镇职工养老保险")
PENSION_NONE = label("person.pension_insurance", "未参保")
MEDICAL_RESIDENT = label("person.medical_insurance", "城乡居民医疗保险")
MEDICAL_WORKER = label("person.medical_insurance", "城镇职工医疗保险")
MEDICAL_NONE = label("person.medical_insurance", "未参保")

POVERTY_NONE = label("household.poverty_status", "一般户")
POVERTY_LIFTED = label("household.poverty_status", "脱贫户")
POVERTY_WATCH = label("household.poverty_status", "监测对象")
