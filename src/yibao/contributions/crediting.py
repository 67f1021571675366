"""Monthly personal-account credits (个人账户划入), Erenhot after the 2022 reform: pure.

In service: the own 2% on the own monthly base (EH-02). Retired (and 单建统筹 members once
retired and exempt, EH-04): a fixed monthly amount, 3% from 2022-10-01 then 2% from
2023-01-01 of last year's regional average basic pension (EH-03; the base is G-EH-2's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from yibao.contributions.bill import cites
from yibao.contributions.schema import AccountRates, ContributionRates, RateError, in_force
from yibao.money import apply_ratio

Basis = Literal["in_service", "retiree"]


@dataclass(frozen=True)
class Credit:
    """One month's credit for one person: how much, from which base and rate, and why."""

    basis: Basis
    amount_fen: int
    base_fen: int
    rate: Decimal
    sources: tuple[str, ...]


def account_rates(rates: ContributionRates) -> AccountRates:
    """The region's crediting rules; a region without them is refused, naming the gap that
    gives them when there is one (Liaoyang: G-LY-2, not implemented)."""
    if rates.accounts is not None:
        return rates.accounts
    gap = rates.accounts_not_implemented
    if gap is None:
        raise RateError(f"region: {rates.region} has no personal-account crediting rules")
    raise RateError(
        f"region: {rates.region} personal-account crediting is gap {gap.gap} "
        f"({gap.gives}), not implemented: {gap.missing}"
    )


def pension_base_fen(accounts: AccountRates, year: int) -> tuple[int, tuple[str, ...]]:
    """上年度全区平均基本养老金 used in `year`: the base of year − 1."""
    for base in accounts.pension_base:
        if base.year == year - 1:
            return base.fen, cites(base)
    raise RateError(f"accounts.pension_base: no average pension of {year - 1} for {year}")


def monthly_credit(
    accounts: AccountRates, basis: Basis, month: dt.date, base_fen: int | None = None
) -> Credit:
    """The credit of the month starting `month`; in service needs the member's own base."""
    if basis == "in_service":
        if base_fen is None:
            raise RateError("base: an in-service credit needs the member's monthly base")
        rate = in_force(accounts.in_service_rate, month, "accounts.in_service_rate")
        return Credit(basis, apply_ratio(base_fen, rate.value), base_fen, rate.value, cites(rate))
    rate = in_force(accounts.retiree_rate, month, "accounts.retiree_rate")
    pension, pension_sources = pension_base_fen(accounts, month.year)
    amount = apply_ratio(pension, rate.value)
    return Credit(basis, amount, pension, rate.value, cites(rate) + pension_sources)
