"""Settle a claim of a person insured in region X at an institution of region Y.

The rule (rules.yaml `settlement`): the treating region Y's catalogue decides what is in scope
(甲/乙/丙 class, price limits, 乙类 first self-pay of listed items); the insured region X's
policy decides everything paid (deductible, ratios, caps, layers, accounts) — the claim is an
out-of-region claim for X, referred or not according to the person's filing (备案).

Everything here is pure except `pieces`, which reads the packaged policies once (cached).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from yibao.catalog.model import Catalog
from yibao.crossregion.rules import CrossRegionRules, FilingKind, load_rules
from yibao.engine.inputs import Claim, ClaimFile, Person
from yibao.engine.result import Settlement
from yibao.engine.settle import SettlementError, settle_claim
from yibao.engine.state import YearToDate
from yibao.errors import InputError
from yibao.policy.loader import UnknownRegion
from yibao.policy.schema import RegionPolicy


@dataclass(frozen=True)
class Filing:
    """What settling needs of a valid filing: its id and kind."""

    id: int | None
    kind: FilingKind


@dataclass
class CrossSettlement:
    """One settled claim, and how the cross-region rule shaped it."""

    settlement: Settlement
    insured_region: str
    treating_region: str
    referral: bool
    filing: Filing | None
    flags: list[str] = field(default_factory=list)


def cross_catalogs(
    insured: RegionPolicy,
    treating: RegionPolicy,
    treating_catalogs: Mapping[str, Catalog],
    day: dt.date,
) -> dict[str, Catalog]:
    """The catalogue map the engine is given: every version of the insured region's policy
    sees the treating region's catalogue in force on `day` (the claim's settlement date)."""
    try:
        in_force = treating.version_on(day)
    except LookupError as exc:
        raise SettlementError(f"treating region: {exc}") from None
    catalog = treating_catalogs[treating.version_id(in_force)]
    return {insured.version_id(version): catalog for version in insured.versions}


def referral_of(filing: Filing | None, rules: CrossRegionRules) -> tuple[bool, list[str]]:
    """Whether the claim counts as referred (G-TL-3), and the flags a missing filing raises."""
    if filing is None:
        return rules.filing.unfiled_counts_as_referral.value, ["unfiled"]
    return rules.filing.kinds[filing.kind].counts_as_referral.value, []


def cross_claim(claim: Claim, referral: bool, rules: CrossRegionRules) -> Claim:
    """The claim as the insured region's policy sees it: out of region, referred or not."""
    out = rules.settlement.marks_out_of_region.value
    return claim.model_copy(update={"out_of_region": out, "referral": referral})


def settle_cross_region(
    insured: RegionPolicy,
    treating: RegionPolicy,
    treating_catalogs: Mapping[str, Catalog],
    person: Person,
    claim: Claim,
    state: YearToDate,
    filing: Filing | None,
    rules: CrossRegionRules,
) -> tuple[CrossSettlement, YearToDate]:
    """Settle one claim with X's policy and Y's catalogue (pure)."""
    _check_rule(rules)
    referral, flags = referral_of(filing, rules)
    catalogs = cross_catalogs(insured, treating, treating_catalogs, claim.settle_date)
    settled, after = settle_claim(
        insured, catalogs, person, cross_claim(claim, referral, rules), state
    )
    result = CrossSettlement(settled, insured.region, treating.region, referral, filing, flags)
    return result, after


def _check_rule(rules: CrossRegionRules) -> None:
    """The code implements one split only; a rules file asking for another is refused."""
    s = rules.settlement
    if s.catalogue_from.value != ["treating"] or s.benefits_from.value != ["insured"]:
        raise SettlementError("only catalogue_from [treating] / benefits_from [insured] is built")


def settle_file_cross_region(
    claim_file: ClaimFile,
    treating_region: str,
    filing_on: Callable[[dt.date], Filing | None],
    rules: CrossRegionRules | None = None,
) -> tuple[list[CrossSettlement], YearToDate]:
    """Every claim of the file in settlement-date order (one day's by claim id, as
    `engine.settle.settle_history`), year-to-date carried, each with the filing
    `filing_on(day)` finds valid on its settlement date (None: unfiled)."""
    rules = rules or load_rules()
    if treating_region == claim_file.region:
        raise InputError(f"treating_region: {treating_region} is the insured region")
    insured, _ = _loaded(claim_file.region, "region")
    treating, treating_catalogs = _loaded(treating_region, "treating_region")
    state = YearToDate.for_person(claim_file.person)
    order = sorted(claim_file.claims, key=lambda claim: (claim.settle_date, claim.id))
    results = []
    for claim in order:
        filing = filing_on(claim.settle_date)
        try:
            result, state = settle_cross_region(
                insured, treating, treating_catalogs, claim_file.person, claim, state, filing, rules
            )
        except SettlementError as exc:
            raise InputError(f"claims: {exc}") from None
        results.append(result)
    return results, state


def pieces(
    insured_region: str, treating_region: str, day: dt.date
) -> tuple[RegionPolicy, dict[str, Catalog]]:
    """(policy, catalogs) for `settle_claim` of an X-insured person treated in Y on `day`:
    X's policy with Y's catalogue; the region's own pair when X == Y. Packaged data, cached."""
    from yibao.settling import policy_and_catalogs

    policy, catalogs = policy_and_catalogs(insured_region)
    if treating_region == insured_region:
        return policy, catalogs
    treating, _ = policy_and_catalogs(treating_region)
    try:
        in_force = treating.version_id(treating.version_on(day))
    except LookupError as exc:
        raise SettlementError(f"treating region: {exc}") from None
    return policy, _mapped(insured_region, treating_region, in_force)


@lru_cache(maxsize=256)
def _mapped(insured_region: str, treating_region: str, treating_version: str) -> dict:
    """The composed catalogue map, built once per (insured, treating, treating version)."""
    from yibao.settling import policy_and_catalogs

    policy, _ = policy_and_catalogs(insured_region)
    _, treating_catalogs = policy_and_catalogs(treating_region)
    catalog = treating_catalogs[treating_version]
    return {policy.version_id(version): catalog for version in policy.versions}


def _loaded(region: str, path: str):
    from yibao.settling import policy_and_catalogs

    try:
        return policy_and_catalogs(region)
    except UnknownRegion as exc:
        raise InputError(f"{path}: {exc.reason}") from None
