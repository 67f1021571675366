"""Long-term care assessments, episodes and payment over HTTP.

The bureau records disability assessments; a care institution submits claims for itself (the
bureau for any); the fund's and the person's parts are priced by the packaged terms.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from yibao.api.common import db_of
from yibao.api.errors import ERROR_RESPONSES
from yibao.api.models import Money
from yibao.api.rendering import MoneyJSONResponse, respond
from yibao.api.security import Bureau, Caller
from yibao.ltc import service

router = APIRouter(
    prefix="/ltc",
    tags=["long-term care"],
    responses=ERROR_RESPONSES,
    default_response_class=MoneyJSONResponse,
)


class AssessmentOut(BaseModel):
    id: int
    psn_no: str
    level: int
    level_name: str
    eligible: bool
    assessor: str
    assessed_on: str
    valid_until: str


class ClaimOut(BaseModel):
    claim_id: str
    psn_no: str
    institution_code: str | None
    assessment_id: int
    scheme: str
    level: int
    care_type: str
    start: str
    end: str
    units: int
    billed: Money
    fund_pay: Money
    person_pay: Money
    billed_fen: int
    fund_pay_fen: int
    person_pay_fen: int
    lines: list[dict[str, Any]]


@router.post("/assessments", response_model=AssessmentOut, status_code=201)
def assess(body: service.AssessmentIn, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Record a disability assessment (失能评估, bureau)."""
    return respond(service.assess(db_of(request), who, body), AssessmentOut, status_code=201)


@router.post("/claims", response_model=ClaimOut, status_code=201)
def submit_claim(body: service.ClaimIn, who: Caller, request: Request) -> MoneyJSONResponse:
    """Submit a care episode: priced, stored, audited. A level that is not severe disability
    is refused (400) with the reason."""
    return respond(service.submit_claim(db_of(request), who, body), ClaimOut, status_code=201)


@router.get("/claims", response_model=list[ClaimOut])
def list_claims(
    who: Caller,
    request: Request,
    psn_no: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> MoneyJSONResponse:
    """Care claims (an institution sees its own)."""
    return respond(service.list_claims(db_of(request), who, psn_no, limit), list[ClaimOut])
