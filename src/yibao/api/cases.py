"""Supervision cases over HTTP (bureau and auditor roles): cases and their steps.

Who may do what is the workflow's rule (`yibao.cases.workflow`): the bureau imports flags,
decides and records recoveries; auditors review and re-review; the institution concerned
appeals and reads its own cases (another institution's case is 404). Money is yuan with two
decimals; the flags copied into a case keep their own `amount_at_risk_fen`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field, StrictBool

from yibao.api.common import db_of
from yibao.api.errors import ERROR_RESPONSES
from yibao.api.models import Money, PositiveYuan, Ratio
from yibao.api.rendering import MoneyJSONResponse, respond
from yibao.api.security import Bureau, Caller, Overseer
from yibao.cases import service, workflow
from yibao.cases.flags import Flag
from yibao.cases.render import with_yuan
from yibao.money import yuan_to_fen
from yibao.supervision.params import RULE_IDS

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=MoneyJSONResponse)

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="case number")]
Note = Annotated[str, Field(min_length=1, max_length=4000)]
CaseStatus = Literal[workflow.STATUSES]  # type: ignore[valid-type]
RuleId = Literal[RULE_IDS]  # type: ignore[valid-type]
CODE = r"^[A-Za-z0-9_.-]+$"  # institution codes: no spaces, no control characters


# --- models -------------------------------------------------------------------------------
class ImportRequest(BaseModel):
    """Flags as `yibao supervise --format json` prints them (the request body limit, 1 MiB,
    bounds their number; larger files go through `yibao cases import`)."""

    flags: list[Flag]
    institution_flags: list[Flag] = Field(
        default_factory=list, description="institution-level flags (no person, no claims)"
    )
    group: StrictBool = Field(
        False, description="one case per rule, person and institution instead of per flag"
    )


class Imported(BaseModel):
    flags: int
    opened: int
    updated: int = Field(description="open cases a later run's flags added claims to")
    already_open: int = Field(
        description="flags whose natural key already has a case, or whose finding the "
        "stored cases already hold whole"
    )
    case_ids: list[int]
    updated_case_ids: list[int]


class ReviewRequest(BaseModel):
    note: Note
    recommendation: Literal["confirm", "dismiss"]


class AppealRequest(BaseModel):
    reason: Note


class DecisionRequest(BaseModel):
    outcome: Literal["confirmed", "dismissed"]
    reason: Note


class RecoveryRequest(BaseModel):
    amount: PositiveYuan
    note: str = Field("", max_length=4000)
    justification: str | None = Field(
        None, max_length=4000, description="needed when the total would exceed the amount at risk"
    )


class CaseSummary(BaseModel):
    id: int
    rule: str
    name_zh: str
    name_en: str
    severity: str
    region: str | None
    person_id: str | None
    institution: str | None
    claim_ids: list[str]
    basis: str
    status: str
    amount_at_risk: Money
    recovered: Money
    reviewed_by: str | None
    re_reviewed_by: str | None
    appeal_deadline: dt.date | None
    decision: str | None
    decision_reason: str | None
    opened_by: str
    next_steps: list[str]


class StepOut(BaseModel):
    seq: int
    action: str
    from_status: str | None
    to_status: str
    actor: str
    role: str
    day: dt.date
    note: str
    outcome: str | None
    amount: Money | None
    detail: dict[str, Any]
    at: str | None = Field(description="when it was recorded, yyyy-MM-dd HH:mm:ss")


class CaseOut(CaseSummary):
    flags: list[dict[str, Any]]
    steps: list[StepOut]


class PrecisionRow(BaseModel):
    rule: str
    confirmed: int
    dismissed: int
    decided: int
    undecided: int
    precision: Ratio | None = Field(description="confirmed / decided; null when none decided")


class RegionPrecisionRow(PrecisionRow):
    region: str | None


class PrecisionOut(BaseModel):
    rules: list[PrecisionRow]
    regions: list[RegionPrecisionRow]


# --- routes -------------------------------------------------------------------------------


def _case(view: dict[str, Any]) -> MoneyJSONResponse:
    return respond(with_yuan(view), CaseOut)


@router.post("/cases/import", response_model=Imported, tags=["cases"])
def import_cases(body: ImportRequest, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Open a case for every flag not seen before (bureau). Importing the same flags again
    opens nothing: a flag's natural key (rule, region, person, institution, claim ids) has
    one case. A flag of a later run sharing claims with cases of its rule, region, person
    and institution adds only what is new: to the case while it is open, else as a case of
    its own."""
    found = body.flags + body.institution_flags
    return respond(service.import_flags(db_of(request), who, found, body.group), Imported)


@router.get("/cases", response_model=list[CaseSummary], tags=["cases"])
def list_cases(
    who: Caller,
    request: Request,
    status: Annotated[CaseStatus | None, Query()] = None,
    rule: Annotated[RuleId | None, Query()] = None,
    institution: Annotated[str | None, Query(max_length=30, pattern=CODE)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> MoneyJSONResponse:
    """Cases, oldest first, filtered by status, rule, institution; institutions see theirs."""
    rows = service.list_cases(db_of(request), who, status, rule, institution, limit, offset)
    return respond([with_yuan(row) for row in rows], list[CaseSummary])


@router.get("/cases/{case_id:int}", response_model=CaseOut, tags=["cases"])
def get_case(case_id: CaseId, who: Caller, request: Request) -> MoneyJSONResponse:
    """One case with its flags (evidence) and every step; another institution's: 404."""
    return _case(service.case_view(db_of(request), who, case_id))


@router.post("/cases/{case_id:int}/review", response_model=CaseOut, tags=["cases"])
def review_case(
    case_id: CaseId, body: ReviewRequest, who: Caller, request: Request
) -> MoneyJSONResponse:
    """First review of an open case (auditor): a note and a recommendation."""
    return _case(service.review(db_of(request), who, case_id, body.note, body.recommendation))


@router.post("/cases/{case_id:int}/re-review", response_model=CaseOut, tags=["cases"])
def re_review_case(
    case_id: CaseId, body: ReviewRequest, who: Caller, request: Request
) -> MoneyJSONResponse:
    """Re-review (an auditor other than the reviewer); opens the appeal window."""
    return _case(service.re_review(db_of(request), who, case_id, body.note, body.recommendation))


@router.post("/cases/{case_id:int}/appeal", response_model=CaseOut, tags=["cases"])
def appeal_case(
    case_id: CaseId, body: AppealRequest, who: Caller, request: Request
) -> MoneyJSONResponse:
    """The institution concerned appeals a re-reviewed case, within the appeal window."""
    return _case(service.appeal(db_of(request), who, case_id, body.reason))


@router.post("/cases/{case_id:int}/decision", response_model=CaseOut, tags=["cases"])
def decide_case(
    case_id: CaseId, body: DecisionRequest, who: Caller, request: Request
) -> MoneyJSONResponse:
    """The bureau's decision, confirmed or dismissed, after the appeal or its window."""
    return _case(service.decide(db_of(request), who, case_id, body.outcome, body.reason))


@router.post("/cases/{case_id:int}/recovery", response_model=CaseOut, tags=["cases"])
def recover_case(
    case_id: CaseId, body: RecoveryRequest, who: Caller, request: Request
) -> MoneyJSONResponse:
    """Money recovered on a confirmed case (bureau); partial recoveries add up."""
    fen = yuan_to_fen(Decimal(body.amount))
    view = service.recover(db_of(request), who, case_id, fen, body.note, body.justification)
    return _case(view)


@router.get("/supervision/precision", response_model=PrecisionOut, tags=["cases"])
def rule_precision(who: Overseer, request: Request) -> MoneyJSONResponse:
    """Each rule's measured precision, confirmed / (confirmed + dismissed), overall and per
    region, with the counts behind it (bureau and auditors)."""
    return respond(service.precision(db_of(request), who), PrecisionOut)
