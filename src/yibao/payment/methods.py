"""Single-disease (单病种, LY-36..LY-40, G-LY-9) and capitation (按人头, EH-34) payment."""

from __future__ import annotations

from decimal import Decimal

from yibao.money import round_half_up
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


def capitation_fen(persons: int, months: int, terms: CapitationTerms) -> int:
    """Rate per head per year × contracted persons × months / 12, rounded half-up once."""
    if persons < 0 or not 0 <= months <= 12:
        raise ValueError("need persons >= 0 and 0 <= months <= 12")
    return round_half_up(Decimal(terms.rate_per_head_year.fen * persons * months) / 12)
