"""The contribution policy of a region as strict, cited models (one YAML file per region).

Every number is a `Cited*` value of `yibao.policy.provenance`; values that change over time
are timelines of dated values (`effective_from` / `effective_to`, contiguous, only the last
open-ended), so a rate in force on any day is a lookup, never an `if` in code.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, Field, model_validator

from yibao.policy.provenance import (
    CitedCount,
    CitedFlag,
    CitedMoney,
    CitedPoints,
    CitedRatio,
    Cites,
    Provenance,
    Strict,
)
from yibao.policy.schema import Category


class RateError(ValueError):
    """A policy value asked for a day it does not cover (e.g. crediting before the reform)."""


class Dated(Strict):
    """When a value is in force; `dates_reason` names the gap when the dates are assumed."""

    effective_from: dt.date
    effective_to: dt.date | None = None
    dates_reason: str | None = Field(default=None, pattern=r"^G-[A-Z]+-\d+")

    def covers(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class DatedRatio(CitedRatio, Dated):
    """A ratio in force from `effective_from` to `effective_to` (inclusive)."""


class DatedMoney(CitedMoney, Dated):
    """An amount in yuan in force over a date range."""


class DatedPoints(CitedPoints, Dated):
    """A change of a rate in percentage points over a window (Qingdao's −1 point)."""


class CitedYears(CitedCount):
    """A whole number of years or months (minimum contribution years, waiting months)."""

    value: int = Field(ge=0, le=100)


def _contiguous(items: list[Dated]) -> list[Dated]:
    """Sorted, day-by-day contiguous, only the last one open-ended."""
    for i, item in enumerate(items):
        if item.effective_to is not None and item.effective_to < item.effective_from:
            raise ValueError(f"[{i}] effective_to is before effective_from")
        if item.effective_to is None and i != len(items) - 1:
            raise ValueError(f"[{i}] only the last value may be open-ended")
        if i:
            expected = items[i - 1].effective_to + dt.timedelta(days=1)  # type: ignore[operator]
            if item.effective_from != expected:
                kind = "overlaps" if item.effective_from < expected else "leaves a gap after"
                raise ValueError(f"[{i}] {item.effective_from} {kind} the value before it")
    return items


def _disjoint(items: list[Dated]) -> list[Dated]:
    """Windows (a temporary cut) may leave gaps but never overlap."""
    ordered = sorted(items, key=lambda x: x.effective_from)
    for before, after in itertools.pairwise(ordered):
        if before.effective_to is None or after.effective_from <= before.effective_to:
            raise ValueError(
                f"the windows from {before.effective_from} and {after.effective_from} overlap"
            )
    return items


RatioTimeline = Annotated[list[DatedRatio], Field(min_length=1), AfterValidator(_contiguous)]
MoneyTimeline = Annotated[list[DatedMoney], Field(min_length=1), AfterValidator(_contiguous)]
PointWindows = Annotated[list[DatedPoints], AfterValidator(_disjoint)]
MoneyWindows = Annotated[list[DatedMoney], AfterValidator(_disjoint)]


T = TypeVar("T", bound=Dated)


def in_force(timeline: list[T], day: dt.date, what: str) -> T:
    """The value of `timeline` in force on `day`, or a RateError naming `what`."""
    for item in timeline:
        if item.covers(day):
            return item
    raise RateError(f"{what}: no value in force on {day.isoformat()}")


def windows_on(windows: list[T], day: dt.date) -> list[T]:
    """The temporary changes in force on `day` (none, or one since windows are disjoint)."""
    return [w for w in windows if w.covers(day)]


# --- employees ------------------------------------------------------------------------------


class DifficultEnterprise(Cites):
    """困难企业: a lower employer rate; benefits and retirees' accounts unchanged (LY-06)."""

    employer_rate: RatioTimeline


class RiskLevy(Cites):
    """风险调剂金 on retirees above `threshold_share` of in-service staff (LY-05)."""

    threshold_share: CitedRatio
    rate_of_average_wage: CitedRatio  # per excess retiree per year


class BankruptRetirees(Cites):
    """Retirees of enterprises bankrupt before the reform: government pays a fixed amount
    per retiree (LY-07); pooling only, no personal account (LY-08)."""

    amount_per_retiree_year: CitedMoney
    account: CitedFlag


class EntrustedWithholding(Cites):
    """Large enterprises under entrusted management (LY-04): the centre keeps a share of the
    pooling part and returns the rest."""

    pooling_share_of_employer: CitedRatio  # the employer part not credited to accounts
    withheld_share: CitedRatio


class SinglePooling(Cites):
    """单建统筹: at least `share_of_employer_rate` × the employer rate, no account (EH-04)."""

    share_of_employer_rate: CitedRatio
    account_while_contributing: CitedFlag


class EmployeeRates(Strict):
    employer_rate: RatioTimeline
    personal_rate: RatioTimeline
    employer_rate_cuts: PointWindows = Field(default_factory=list)
    difficult: DifficultEnterprise | None = None
    risk_levy: RiskLevy | None = None
    bankrupt: BankruptRetirees | None = None
    entrusted: EntrustedWithholding | None = None
    single_pooling: SinglePooling | None = None


# --- residents ------------------------------------------------------------------------------


class CategorySubsidy(Cites):
    """A subsidy of the individual resident contribution for special categories: a fixed
    `amount` or a `share` of the individual contribution; `booked_to` says which budget pays."""

    categories: list[Category] = Field(min_length=1)
    amount: CitedMoney | None = None
    share: CitedRatio | None = None
    booked_to: Literal["government", "medical_assistance"] = "government"
    booking: Provenance | None = None  # where `booked_to` comes from (FX-06)

    @model_validator(mode="after")
    def _one_kind(self) -> CategorySubsidy:
        if (self.share is None) == (self.amount is None):
            raise ValueError("give exactly one of `amount:` or `share:`")
        return self


class ResidentRates(Strict):
    individual: MoneyTimeline
    fiscal_subsidy: MoneyTimeline
    fiscal_subsidy_increases: MoneyWindows = Field(default_factory=list)
    category_subsidies: list[CategorySubsidy] = Field(default_factory=list)
    critical_illness_per_head: MoneyTimeline | None = None


# --- flexible employment --------------------------------------------------------------------


class FlexibleRates(Cites):
    """灵活就业: base = a share of last year's city average wage; minimum years; waiting period."""

    base_share_of_average_wage: CitedRatio
    rate: CitedRatio
    years_required: CitedYears
    paid_years_required: CitedYears
    late_after_months: CitedYears
    waiting_months: CitedYears
    account_after_retirement: CitedFlag
    account_after_late_enrollment: CitedFlag


# --- personal accounts ----------------------------------------------------------------------


class PensionBase(CitedMoney):
    """上年度全区平均基本养老金 of `year` (monthly yuan), the base of the next year's credits."""

    year: int = Field(ge=1990, le=2100)


Relation = Literal["self", "spouse", "parent", "child"]


class AccountUse(Cites):
    """A purpose the personal account may pay, and for whom (relation to the holder); a
    contribution to one scheme (居民医保, 职工大额) is only for a person enrolled in it."""

    purpose: str = Field(pattern=r"^[a-z_]+$")
    relations: list[Relation] = Field(min_length=1)
    beneficiary_scheme: Literal["employee", "resident"] | None = None


class ForbiddenUse(Cites):
    purpose: str = Field(pattern=r"^[a-z_]+$")


class AccountUses(Strict):
    allowed: list[AccountUse] = Field(min_length=1)
    forbidden: list[ForbiddenUse] = Field(default_factory=list)


class AccountRates(Strict):
    """个人账户划入: in-service a share of the own base; retirees a fixed amount."""

    in_service_rate: RatioTimeline
    retiree_rate: RatioTimeline
    pension_base: list[PensionBase] = Field(min_length=1)
    uses: AccountUses


class NotImplementedGap(Strict):
    """Rules a gap gives as an ASSUMPTION that yibao does not apply yet: what the gap gives and
    what is missing to apply it, so a refusal says so instead of "no rules"."""

    gap: str = Field(pattern=r"^G-[A-Z]+-\d+$")
    gives: str = Field(min_length=1)
    missing: str = Field(min_length=1)


class ContributionRates(Strict):
    """Everything a region's seed (and its gaps) says about contributions and accounts."""

    region: str
    name: str
    seed: str
    description: str
    employee: EmployeeRates | None = None
    resident: ResidentRates | None = None
    flexible: FlexibleRates | None = None
    accounts: AccountRates | None = None
    accounts_not_implemented: NotImplementedGap | None = None
