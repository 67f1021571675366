"""DRG grouping and pricing of an inpatient stay (EH-34 按疾病诊断相关分组付费).

A stay falls into the first group whose main-diagnosis prefix matches; surgical groups (those
listing procedures) are tried first and also need one of their procedures. The group price is
base rate (by hospital level) × weight; a stay costing above `high_outlier` × price or below
`low_outlier` × price is an outlier and is paid fee for service, its own itemized cost.
What the fund pays is the payment less what the patient paid, never below zero.
A stay with no diagnosis recorded (settled through 2207 without a 2401/2402 visit) cannot be
tried against any group: it is paid fee for service and flagged `drg_no_diagnoses`, not
`drg_ungroupable`, which is kept for stays whose diagnoses match no group.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from yibao.money import round_half_up, yuan_str
from yibao.payment.lines import Line
from yibao.payment.terms import DrgGroup, DrgTerms


@dataclass(frozen=True)
class Stay:
    """An inpatient stay as the grouper sees it; amounts in fen."""

    diagnoses: tuple[str, ...]  # ICD-10, main diagnosis first
    procedures: tuple[str, ...]  # ICD-9-CM-3 codes (or fee-line codes)
    total_fen: int  # itemized medical cost (medfee_sumamt)
    patient_fen: int  # what the patient paid (cash + account)
    level: int  # hospital level 1..3


@dataclass(frozen=True)
class StayPayment:
    method: str  # drg, drg_outlier, single_disease, ffs
    group: str | None
    payment_fen: int  # what the institution receives for the stay, patient part included
    fund_fen: int
    lines: tuple[Line, ...]
    flag: str | None = None


def matches_prefix(code: str, prefixes: list[str]) -> bool:
    code = code.upper().replace(" ", "")
    return any(code.startswith(p.upper()) for p in prefixes)


def group_stay(
    diagnoses: tuple[str, ...], procedures: tuple[str, ...], terms: DrgTerms
) -> DrgGroup | None:
    """The stay's group, or None when no group matches its main diagnosis (and procedure)."""
    if not diagnoses:
        return None
    main = diagnoses[0]
    surgical = [g for g in terms.groups if g.procedures]
    medical = [g for g in terms.groups if not g.procedures]
    for group in surgical:
        if matches_prefix(main, group.icd_prefixes) and any(
            matches_prefix(p, group.procedures) for p in procedures
        ):
            return group
    for group in medical:
        if matches_prefix(main, group.icd_prefixes):
            return group
    return None


def group_price_fen(group: DrgGroup, level: int, terms: DrgTerms) -> int:
    """Base rate of the hospital level × the group's weight, rounded half-up once."""
    return round_half_up(Decimal(terms.base_rate.fen(level)) * group.weight.value)


def price_stay(stay: Stay, terms: DrgTerms) -> StayPayment:
    """Group and price one stay; ungroupable stays are paid fee for service and flagged."""
    _check(stay)
    fund_ffs = stay.total_fen - stay.patient_fen
    if not stay.diagnoses:
        return _without_diagnoses(stay, fund_ffs)
    group = group_stay(stay.diagnoses, stay.procedures, terms)
    if group is None:
        line = Line(
            "ffs", "按项目 ungroupable stay", fund_ffs, "no DRG group matches: fee for service"
        )
        return StayPayment("ffs", None, stay.total_fen, fund_ffs, (line,), "drg_ungroupable")
    price = group_price_fen(group, stay.level, terms)
    high = round_half_up(Decimal(price) * terms.high_outlier.value)
    low = round_half_up(Decimal(price) * terms.low_outlier.value)
    base = terms.base_rate.fen(stay.level)
    price_line = Line(
        "drg_price",
        f"{group.code} {group.name} price",
        price,
        f"base rate {yuan_str(base)} × weight {group.weight.value} [{group.weight.cite()}; "
        f"{terms.base_rate.cite()}]",
    )
    if stay.total_fen > high or stay.total_fen < low:
        side = "high" if stay.total_fen > high else "low"
        bound = high if side == "high" else low
        multiple = terms.high_outlier if side == "high" else terms.low_outlier
        why = (
            f"{side} outlier: cost {yuan_str(stay.total_fen)} {'>' if side == 'high' else '<'} "
            f"{multiple.value} × price = {yuan_str(bound)}: fee for service [{multiple.cite()}]"
        )
        line = Line("drg_outlier_fund", "DRG outlier fund (fee for service)", fund_ffs, why)
        return StayPayment("drg_outlier", group.code, stay.total_fen, fund_ffs, (price_line, line))
    fund = max(0, price - stay.patient_fen)
    line = Line("drg_fund", "DRG fund payment", fund, "max(0, price − patient paid)")
    return StayPayment("drg", group.code, price, fund, (price_line, line))


def _without_diagnoses(stay: Stay, fund_ffs: int) -> StayPayment:
    """No diagnosis recorded: the grouper has nothing to try, which says nothing of whether
    the stay would group."""
    why = "no diagnoses recorded for the stay (settled without a 2401/2402 visit): fee for service"
    line = Line("ffs", "按项目 stay without diagnoses", fund_ffs, why)
    return StayPayment("ffs", None, stay.total_fen, fund_ffs, (line,), "drg_no_diagnoses")


def _check(stay: Stay) -> None:
    if stay.total_fen < 0 or stay.patient_fen < 0 or stay.patient_fen > stay.total_fen:
        raise ValueError("need 0 <= patient paid <= total cost")
    if stay.level not in (1, 2, 3):
        raise ValueError(f"hospital level {stay.level} must be 1, 2 or 3")
