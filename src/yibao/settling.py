"""Use case: settle a claim file against its region's policy (plus reform overlays)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from yibao.catalog.load import catalogs_for
from yibao.engine.inputs import ClaimFile
from yibao.engine.result import Settlement
from yibao.engine.settle import SettlementError, settle_history
from yibao.engine.state import YearToDate
from yibao.engine.ytd_keys import unknown_ytd_key
from yibao.errors import InputError
from yibao.policy.loader import UnknownRegion, load_with_overlays


def settle_file(
    claim_file: ClaimFile, overlays: tuple[Path, ...] = ()
) -> tuple[list[Settlement], YearToDate]:
    try:
        policy, catalogs = policy_and_catalogs(claim_file.region, overlays)
    except UnknownRegion as exc:
        raise InputError(f"region: {exc.reason}") from None
    carried = claim_file.person.ytd
    if carried is not None and (problem := unknown_ytd_key(carried, policy)):
        raise InputError(f"person.ytd.{problem}")
    try:
        return settle_history(claim_file, policy, catalogs)
    except SettlementError as exc:
        raise InputError(str(exc)) from None


@lru_cache(maxsize=32)
def policy_and_catalogs(region: str, overlays: tuple[Path, ...] = ()):
    """A region's policy (with reform overlays) and each version's catalogue, loaded once."""
    policy = load_with_overlays(region, overlays)
    return policy, catalogs_for(policy)
