"""Single-disease (单病种, LY-36..LY-40, G-LY-9) and capitation (按人头, EH-34) payment."""

from __future__ import annotations

import calendar
import datetime as dt
from fractions import Fraction

from yibao.payment.drg import Stay, StayPayment, matches_prefix
from yibao.payment.lines import Line
from yibao.payment.terms import CapitationTerms, SingleDisease


def single_disease_for_stay(stay: Stay, entries: list[SingleDisease]) -> SingleDisease | None:
    """The institution's single-disease entry matching the stay's main diagnosis, if any."""
    if not stay.diagnoses:
        return None
    for entry in entries:
        if matches_prefix(stay.diagnoses[0], entry.icd_prefixes):
            return entry
    return None


def price_single_disease(stay: Stay, entry: SingleDisease) -> StayPayment:
    """The configured price for the disease; without one (G-LY-9) fee for service, flagged."""
    fund_ffs = stay.total_fen - stay.patient_fen
    if entry.price is None:
        line = Line(
            "single_disease_unpriced",
            f"单病种 {entry.disease} (no price)",
            fund_ffs,
            f"G-LY-9: no configured price: fee for service [{entry.cite()}]",
        )
        return StayPayment(
            "ffs", entry.disease, stay.total_fen, fund_ffs, (line,), "single_disease_unpriced"
        )
    price = entry.price.fen
    fund = max(0, price - stay.patient_fen)
    line = Line(
        "single_disease_fund",
        f"单病种 {entry.disease}",
        fund,
        f"max(0, price {price} − patient paid) [{entry.price.cite()}]",
    )
    return StayPayment("single_disease", entry.disease, price, fund, (line,))


def months_covered(valid_from: dt.date, valid_to: dt.date, year: int) -> Fraction:
    """Months of `year` an agreement term covers: a whole calendar month counts 1, a part
    month its days covered / days in that month (`part_month` of the terms). A Fraction, as
    17/31 has no exact Decimal; the payment built from it is rounded once."""
    months = Fraction(0)
    for month in range(1, 13):
        first = dt.date(year, month, 1)
        days = calendar.monthrange(year, month)[1]
        last = first + dt.timedelta(days=days - 1)
        covered = (min(valid_to, last) - max(valid_from, first)).days + 1
        months += Fraction(max(0, covered), days)
    return months


def capitation_fen(person_months: Fraction, terms: CapitationTerms) -> int:
    """Rate per head per year × contracted person-months / 12 (Σ persons × months covered of
    each agreement of the year), rounded half-up once."""
    if person_months < 0:
        raise ValueError("need person-months >= 0")
    amount = terms.rate_per_head_year.fen * Fraction(person_months) / 12
    return (2 * amount.numerator + amount.denominator) // (2 * amount.denominator)
