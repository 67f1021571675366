"""Flexible employment (灵活就业, Liaoyang LY-09 to LY-12) and 单建统筹 (Erenhot EH-04).

A flexible worker pays a rate on a base that is a share of last year's city average wage;
retirement benefits need a minimum number of contribution years (prior work years count,
工龄视为保龄); a late joiner waits before benefits start and gets no account after retirement.
A 单建统筹 member pays at least 80% of the employer rate on the own base and has no account.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from yibao.contributions.bill import Bill, BillLine, Period, cites
from yibao.contributions.employee import employer_rate
from yibao.contributions.schema import ContributionRates, FlexibleRates
from yibao.errors import InputError
from yibao.money import round_half_up, yuan_to_fen


def _flexible_rates(rates: ContributionRates) -> FlexibleRates:
    if rates.flexible is None:
        raise InputError(f"region: {rates.region} has no flexible-employment rates")
    return rates.flexible


def flexible_bill(
    rates: ContributionRates, psn_no: str, average_wage: Decimal | None, period: Period
) -> Bill:
    """A flexible worker's contribution for a month or a year (pooling only)."""
    flexible = _flexible_rates(rates)
    if average_wage is None:
        raise InputError("city_average_wage: required for a flexible worker (LY-10)")
    wage = yuan_to_fen(average_wage)
    share, rate = flexible.base_share_of_average_wage, flexible.rate
    # The base of the period is shown; the amount is rounded once from the exact product.
    base = round_half_up(Decimal(wage) * share.value * period.months / 12)
    amount = round_half_up(Decimal(wage) * share.value * rate.value * period.months / 12)
    line = BillLine(
        "flexible_contribution", "personal", amount, psn_no, base, rate.value,
        cites(flexible, share, rate),
        f"base {share.value:%} of last year's city average wage, per {_unit(period)}",
    )  # fmt: skip
    return Bill(rates.region, "person", psn_no, str(period), (line,))


def _unit(period: Period) -> str:
    return "month" if period.month else "year"


@dataclass(frozen=True)
class Enrollment:
    """When a flexible worker's benefits start, and whether the account follows retirement."""

    benefits_from: dt.date
    late: bool
    account_after_retirement: bool
    sources: tuple[str, ...]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def enrollment(rates: ContributionRates, deadline: dt.date, enrolled_on: dt.date) -> Enrollment:
    """LY-12: joining more than N months after the deadline → benefits after W months, and no
    account after retirement; otherwise benefits from the enrollment day."""
    flexible = _flexible_rates(rates)
    late = enrolled_on > add_months(deadline, flexible.late_after_months.value)
    if late:
        start = add_months(enrolled_on, flexible.waiting_months.value)
        account = flexible.account_after_late_enrollment.value
        sources = cites(flexible.late_after_months, flexible.waiting_months)
        sources += cites(flexible.account_after_late_enrollment)
    else:
        start, account = enrolled_on, flexible.account_after_retirement.value
        sources = cites(flexible.late_after_months, flexible.account_after_retirement)
    return Enrollment(start, late, account, sources)


@dataclass(frozen=True)
class YearsCheck:
    """LY-11: enough contribution years at retirement? (`short_*` are the missing years)."""

    qualifies: bool
    counted_years: int
    short_total: int
    short_paid: int
    sources: tuple[str, ...]


def retirement_years(rates: ContributionRates, paid_years: int, deemed_years: int) -> YearsCheck:
    """Paid years plus prior work years (工龄视为保龄, LY-09) against the required totals."""
    flexible = _flexible_rates(rates)
    total_needed, paid_needed = flexible.years_required.value, flexible.paid_years_required.value
    counted = paid_years + deemed_years
    short_total = max(0, total_needed - counted)
    short_paid = max(0, paid_needed - paid_years)
    sources = cites(flexible.years_required, flexible.paid_years_required)
    sources += cites(flexible.account_after_retirement)
    return YearsCheck(short_total == short_paid == 0, counted, short_total, short_paid, sources)


def single_pooling_bill(
    rates: ContributionRates, psn_no: str, base_yuan: Decimal | None, period: Period
) -> Bill:
    """单建统筹: the member pays share × the employer rate on the own monthly base; no account."""
    employee = rates.employee
    if employee is None or employee.single_pooling is None:
        raise InputError(f"region: {rates.region} has no 单建统筹 (single pooling) scheme")
    if base_yuan is None:
        raise InputError("person.base: required for a 单建统筹 member (own monthly base)")
    pooling = employee.single_pooling
    base = yuan_to_fen(base_yuan)
    employer, parts = employer_rate(employee, "normal", period)
    rate = employer * pooling.share_of_employer_rate.value
    amount = round_half_up(Decimal(base) * rate * period.months)
    line = BillLine(
        "single_pooling_contribution", "personal", amount, psn_no, base, rate,
        cites(pooling.share_of_employer_rate, *parts, pooling.account_while_contributing),
        "pooling only: no personal account while contributing",
    )  # fmt: skip
    return Bill(rates.region, "person", psn_no, str(period), (line,))
