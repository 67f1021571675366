"""Cross-region pre-calculation: settle a claim file as if treated in another region.

Nothing is written. The filing is either given (`filing`: a kind, or "none") or looked up
among the person's stored filings valid on each claim's settlement date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, get_args

from pydantic import ValidationError

from yibao.crossregion.filings import filing_in_force
from yibao.crossregion.rules import FilingKind
from yibao.crossregion.settle import CrossSettlement, Filing, settle_file_cross_region
from yibao.engine.inputs import ClaimFile
from yibao.engine.state import YearToDate
from yibao.errors import InputError, first_error
from yibao.render.settlement_json import settlement_dict, ytd_dict
from yibao.service.errors import Forbidden, ServiceError
from yibao.service.principal import Principal
from yibao.store.db import Database
from yibao.store.models import Institution

KINDS = get_args(FilingKind)


def given_filing(kind: str | None) -> Callable[[dt.date], Filing | None]:
    """A filing stated by the caller: one of the kinds, or 'none' (unfiled)."""
    if kind in (None, "none"):
        return lambda _day: None
    if kind not in KINDS:
        raise InputError(f"filing: must be one of {', '.join((*KINDS, 'none'))}, got {kind!r}")
    return lambda _day: Filing(None, kind)  # type: ignore[arg-type]


def preview(db: Database, who: Principal, raw: Any) -> dict[str, Any]:
    """Settle the claim file of `raw` at `raw.treating_region` and answer the settlements."""
    if not isinstance(raw, dict):
        raise ServiceError("body: must be a JSON object")
    body = dict(raw)
    treating = body.pop("treating_region", None)
    kind = body.pop("filing", None)
    if not isinstance(treating, str) or not treating:
        raise ServiceError("treating_region: required")
    try:
        claim_file = ClaimFile.model_validate(body)
    except ValidationError as exc:
        raise ServiceError(first_error(exc)) from None
    with db.sessions() as session:
        if who.role == "institution":
            inst = session.get(Institution, who.institution_code)
            if inst is None or inst.region != treating:
                raise Forbidden("an institution previews only treatment in its own region")
        try:
            filing_on = (
                given_filing(kind) if kind is not None else _stored(session, claim_file, treating)
            )
            results, state = settle_file_cross_region(claim_file, treating, filing_on)
        except InputError as exc:
            raise ServiceError(str(exc)) from None
    return result_dict(claim_file, treating, results, state)


def _stored(session, claim_file: ClaimFile, treating: str) -> Callable[[dt.date], Filing | None]:
    def filing_on(day: dt.date) -> Filing | None:
        return filing_in_force(session, claim_file.person.id, treating, day)

    return filing_on


def result_dict(
    claim_file: ClaimFile, treating: str, results: list[CrossSettlement], state: YearToDate
) -> dict[str, Any]:
    """The `yibao settle` answer plus, per settlement, how the cross-region rule applied."""
    return {
        "region": claim_file.region,
        "treating_region": treating,
        "person_id": claim_file.person.id,
        "settlements": [_one(r) for r in results],
        "year_to_date": ytd_dict(state),
    }


def _one(result: CrossSettlement) -> dict[str, Any]:
    filing = result.filing
    return {
        **settlement_dict(result.settlement),
        "cross_region": {
            "insured_region": result.insured_region,
            "treating_region": result.treating_region,
            "catalogue": result.treating_region,
            "referral": result.referral,
            "filing": None if filing is None else {"id": filing.id, "kind": filing.kind},
            "flags": result.flags,
        },
    }
