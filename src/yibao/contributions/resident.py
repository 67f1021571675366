"""Resident contributions (城乡居民医保缴费) for one year, and 大病保险 financing per head.

A resident's financing is the individual contribution plus the fiscal subsidy per person.
Special categories have (part of) the individual contribution paid for them: Tongliao's
registered poor at least 50 yuan (TL-11), Fuxin's 低保/特困/建档立卡 in full (FX-04/05),
booked to medical assistance (FX-06).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from yibao.contributions.bill import Bill, BillLine, Period, cites
from yibao.contributions.schema import (
    CategorySubsidy,
    ContributionRates,
    ResidentRates,
    in_force,
    windows_on,
)
from yibao.errors import InputError
from yibao.money import apply_ratio


def resident_bill(
    rates: ContributionRates, psn_no: str, categories: Iterable[str], period: Period
) -> Bill:
    """A resident's annual bill: who pays the individual share, and the fiscal subsidy."""
    resident = _resident_rates(rates)
    if period.month is not None:
        raise InputError("period: a resident contribution is for one year (YYYY)")
    day = period.first_day
    individual = in_force(resident.individual, day, "resident.individual")
    subsidies = matching_subsidies(resident, categories)
    owed = individual.fen
    paid_for: list[BillLine] = []
    for subsidy in subsidies:
        paid = min(owed, _subsidy_fen(subsidy, individual.fen))
        owed -= paid
        paid_for.append(_subsidy_line(subsidy, psn_no, paid))
    own = BillLine(
        "resident_individual", "personal", owed, psn_no, individual.fen, None,
        cites(individual, *(s.amount or s.share for s in subsidies)),
        "the individual contribution less the subsidies of the person's categories",
    )  # fmt: skip
    lines = [own, *paid_for]
    lines.append(_fiscal_line(resident, psn_no, period))
    memos = _critical_illness_memo(resident, psn_no, period)
    info = {"categories": sorted(set(categories))}
    return Bill(rates.region, "person", psn_no, str(period), tuple(lines), memos, info)


def _resident_rates(rates: ContributionRates) -> ResidentRates:
    if rates.resident is None:
        raise InputError(f"region: {rates.region} has no resident contribution rates")
    return rates.resident


def matching_subsidies(resident: ResidentRates, categories: Iterable[str]) -> list[CategorySubsidy]:
    """The category subsidies a person with `categories` gets, in the file's order."""
    held = set(categories)
    return [s for s in resident.category_subsidies if held & set(s.categories)]


def _subsidy_fen(subsidy: CategorySubsidy, individual_fen: int) -> int:
    if subsidy.amount is not None:
        return subsidy.amount.fen
    assert subsidy.share is not None  # the model requires one of the two
    return apply_ratio(individual_fen, subsidy.share.value)


def _subsidy_line(subsidy: CategorySubsidy, psn_no: str, paid: int) -> BillLine:
    rate = subsidy.share.value if subsidy.share is not None else None
    return BillLine(
        "category_subsidy", subsidy.booked_to, paid, psn_no, None, rate,
        cites(subsidy, subsidy.amount, subsidy.share, subsidy.booking),
        f"individual share paid for {'/'.join(subsidy.categories)}",
    )  # fmt: skip


def fiscal_subsidy(resident: ResidentRates, period: Period) -> tuple[int, tuple[str, ...]]:
    """The fiscal subsidy per person for the year (with any dated increase) and its sources."""
    day = period.first_day
    base = in_force(resident.fiscal_subsidy, day, "resident.fiscal_subsidy")
    increases = windows_on(resident.fiscal_subsidy_increases, day)
    return base.fen + sum(x.fen for x in increases), cites(base, *increases)


def _fiscal_line(resident: ResidentRates, psn_no: str, period: Period) -> BillLine:
    amount, sources = fiscal_subsidy(resident, period)
    return BillLine("fiscal_subsidy", "government", amount, psn_no, None, None, sources)


def critical_illness_financing(
    rates: ContributionRates, period: Period, heads: int
) -> tuple[int, tuple[str, ...]]:
    """大病保险 financing for `heads` insured persons in the year (FX-10: ≥ 55 per head)."""
    resident = _resident_rates(rates)
    if resident.critical_illness_per_head is None:
        raise InputError(f"region: {rates.region} states no 大病保险 financing per head")
    per_head = in_force(
        resident.critical_illness_per_head, period.first_day, "resident.critical_illness_per_head"
    )
    return per_head.fen * heads, cites(per_head)


def _critical_illness_memo(
    resident: ResidentRates, psn_no: str, period: Period
) -> tuple[BillLine, ...]:
    timeline = resident.critical_illness_per_head
    if timeline is None:
        return ()
    per_head = in_force(timeline, period.first_day, "resident.critical_illness_per_head")
    note = "of this person's financing, transferred to 大病保险"
    return (
        BillLine(
            "critical_illness_financing", None, per_head.fen, psn_no, None, Decimal(1),
            cites(per_head), note,
        ),
    )  # fmt: skip
