"""From a JSON description and a period to a bill: parse, load the region's rates, compute.

Pure: the CLI and the API both call these two functions. Every refusal is an InputError
naming the field (`person.base: required ...`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from yibao.contributions.bill import Bill, Period
from yibao.contributions.employee import unit_bill
from yibao.contributions.flexible import (
    enrollment,
    flexible_bill,
    retirement_years,
    single_pooling_bill,
)
from yibao.contributions.inputs import PersonFile, parse_person_file, parse_unit_file
from yibao.contributions.load import contribution_regions, load_rates
from yibao.contributions.resident import resident_bill
from yibao.contributions.schema import ContributionRates, RateError
from yibao.errors import InputError
from yibao.policy.loader import unknown_region


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise InputError(f"period: {exc}") from None


def _rates(region: str) -> ContributionRates:
    if region not in contribution_regions():
        raise InputError(f"region: {unknown_region(region, contribution_regions())}")
    return load_rates(region)


def compute_unit_bill(raw: Any, period_text: str) -> Bill:
    """The bill of the unit described by `raw` for the month `period_text` (YYYY-MM)."""
    described = parse_unit_file(raw)
    period = parse_period(period_text)
    try:
        return unit_bill(_rates(described.region), described, period)
    except RateError as exc:
        raise InputError(f"period: {exc}") from None


def compute_person_bill(raw: Any, period_text: str) -> Bill:
    """The bill of the person described by `raw` for a year (or a month, for workers)."""
    described = parse_person_file(raw)
    period = parse_period(period_text)
    rates = _rates(described.region)
    person = described.person
    try:
        if person.kind == "resident":
            return resident_bill(rates, person.psn_no, person.categories, period)
        if person.kind == "single_pooling":
            return single_pooling_bill(rates, person.psn_no, person.base, period)
        bill = flexible_bill(rates, person.psn_no, described.city_average_wage, period)
    except RateError as exc:
        raise InputError(f"period: {exc}") from None
    return replace(bill, info=_flexible_info(rates, described))


def _flexible_info(rates: ContributionRates, described: PersonFile) -> dict[str, Any]:
    """The waiting period and the retirement-years check, when the inputs for them are given."""
    person, info = described.person, {}
    if (person.deadline is None) != (person.enrolled_on is None):
        raise InputError("person.enrolled_on: give both enrolled_on and deadline, or neither")
    if person.deadline is not None and person.enrolled_on is not None:
        joined = enrollment(rates, person.deadline, person.enrolled_on)
        info["enrollment"] = {
            "benefits_from": joined.benefits_from.isoformat(),
            "late": joined.late,
            "account_after_retirement": joined.account_after_retirement,
            "sources": list(joined.sources),
        }
    if person.paid_years is not None:
        check = retirement_years(rates, person.paid_years, person.deemed_years or 0)
        info["retirement_years"] = {
            "qualifies": check.qualifies,
            "counted_years": check.counted_years,
            "short_total": check.short_total,
            "short_paid": check.short_paid,
            "sources": list(check.sources),
        }
    return info
