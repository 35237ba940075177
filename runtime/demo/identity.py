"""Identities of demo people: birth dates, unique ID numbers, names, phones and bank accounts."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from datetime import date, timedelta

from builder.checkdigits import id_check_char
from runtime.errors import ErrorCode, InvalidRequest

from .names import GIVEN_NAMES, SURNAMES, era_of
from .tables import MAX_AGE, Weighted
from .trades import BANK_BINS, LANDLINE_PREFIX, MOBILE_PREFIXES

TODAY = date(2026, 11, 1)  # the fixed "today" of the demo district
DAYS_PER_YEAR = 365.2425
_SPAN = int((MAX_AGE + 2) * DAYS_PER_YEAR)
# DAYS[k] = (ISO date, YYYYMMDD) of the day k days before TODAY.
DAYS: tuple[tuple[str, str], ...] = tuple(
    ((d := TODAY - timedelta(days=k)).isoformat(), d.strftime("%Y%m%d")) for k in range(_SPAN)
)
_SEQ = tuple(f"{n:03d}" for n in range(1000))

# Relative size of each single-year age group in 2026 (China, per 5-year census groups).
_POP5 = (45, 75, 85, 80, 75, 80, 110, 120, 95, 95, 120, 120, 105, 80, 70, 45, 27, 15, 5, 1.5, 0.2, 0.05)
POP_CUM = tuple(sum(_POP5[a // 5] for a in range(age + 1)) for age in range(MAX_AGE + 1))


def age_between(u: float, low: int, high: int) -> int:
    """Return an age in [low, high] drawn by cohort size with the uniform draw `u`."""
    base = POP_CUM[low - 1] if low > 0 else 0.0
    return bisect_right(POP_CUM, base + u * (POP_CUM[high] - base), low, high)


class IdNumbers:
    """Issue GB 11643 numbers unique in the district without shared state between townships.

    The three-digit sequence is split into one block per township (as real sequences encode the
    police station), so townships can be generated independently and never collide.
    """

    def __init__(self, township_index: int, township_count: int):
        per_sex = max(1, 480 // max(township_count, 1))
        if township_index >= 480 // per_sex:
            raise InvalidRequest(ErrorCode.DEMO_TOO_MANY_TOWNSHIPS)
        self._base = 1 + 2 * per_sex * township_index
        self._per_sex = per_sex
        # Spread the slots of one birth date with a step coprime to their count.
        self._step = next(s for s in (7, 11, 13, 1) if math.gcd(s, per_sex) == 1)
        self._used: dict[tuple[str, int, bool], int] = {}

    def issue(self, address_code: str, day: int, male: bool) -> tuple[str, int]:
        """Return a fresh ID number and the day index of its birth date (shifted if full)."""
        used, per_sex = self._used, self._per_sex
        while True:
            key = (address_code, day, male)
            n = used.get(key, 0)
            if n < per_sex:
                used[key] = n + 1
                slot = (n * self._step + day) % per_sex
                seq = self._base + 2 * slot + (0 if male else 1)
                first17 = address_code + DAYS[day][1] + _SEQ[seq]
                return first17 + id_check_char(first17), day
            day += 1


class Identities:
    """Draw names, phone numbers and bank accounts with one township's random stream."""

    def __init__(self, rng: random.Random):
        self.random = rng.random
        self.surnames = Weighted(SURNAMES)
        self.mobile_prefixes = Weighted(MOBILE_PREFIXES)
        self.bank_bins = Weighted(BANK_BINS)
        self.given_pools = {
            key: (
                tuple(full.split()),
                first,
                second,
                single,
                single_share,
                single_share + (1 - single_share) * full_share,
            )
            for key, (full, first, second, single, single_share, full_share) in GIVEN_NAMES.items()
        }

    def surname(self) -> str:
        """Return a surname drawn by frequency."""
        return self.surnames.pick(self.random())

    def given(self, birth_year: int, sex: str) -> str:
        """Return a given name in the fashion of the birth year."""
        full, first, second, single, single_cut, full_cut = self.given_pools[(era_of(birth_year), sex)]
        r = self.random
        u = r()
        if u < single_cut:
            return single[int(r() * len(single))]
        if u < full_cut:
            return full[int(r() * len(full))]
        a = first[int(r() * len(first))]
        b = second[int(r() * len(second))]
        return a + b if a != b else a + a  # doubled names (婷婷) are common too

    def mobile(self) -> str:
        """Return an 11-digit mobile number."""
        return self.mobile_prefixes.pick(self.random()) + f"{int(self.random() * 10**8):08d}"

    def landline(self) -> str:
        """Return a Yongchuan fixed-line number."""
        return LANDLINE_PREFIX + f"{int(self.random() * 10**6):06d}"

    def bank_account(self) -> str:
        """Return a bank card number with a valid Luhn digit."""
        bin_, length = self.bank_bins.pick(self.random())
        body = bin_ + f"{int(self.random() * 10 ** (length - 7)):0{length - 7}d}"
        return body + _luhn_digit(body)


_DOUBLED = {str(d): (2 * d - 9 if d > 4 else 2 * d) for d in range(10)}


def _luhn_digit(body: str) -> str:
    """Return the Luhn check digit to append to `body`."""
    doubled = sum(_DOUBLED[c] for c in body[::-1][::2])
    return str(-(doubled + sum(map(int, body[::-1][1::2]))) % 10)
