"""REST resources: persons, accounts, institutions, settlements, reconciliations, visits,
and the audit log. Each route: parse, call one service use case, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from yibao.api.common import PersonId, db_of
from yibao.api.errors import ERROR_RESPONSES
from yibao.api.models import (
    AuditEntryOut,
    Credited,
    CreditRequest,
    Enrolled,
    EnrollRequest,
    InstitutionCreated,
    InstitutionIn,
    InstitutionOut,
    IsoDate,
    PersonOut,
    Reconciliation,
    SettlementOut,
    SettlementSummary,
    VisitOut,
)
from yibao.api.rendering import MoneyJSONResponse, respond
from yibao.api.security import Bureau, Caller, Overseer
from yibao.money import fen_to_yuan, yuan_to_fen
from yibao.service import audit, institutions, persons, reconcile, settlement, visits

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=MoneyJSONResponse)

Begin = Annotated[IsoDate, Query(description="first settlement date, yyyy-MM-dd")]
End = Annotated[IsoDate, Query(description="last settlement date, yyyy-MM-dd")]
InstitutionFilter = Annotated[
    str | None, Query(max_length=30, description="one institution (institutions: their own)")
]


@router.post("/persons", response_model=Enrolled, tags=["persons"])
def enroll_person(body: EnrollRequest, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Enroll a person, or update one (bureau). The person object of the claim file, plus
    optional `certno` (checked), `name`, dated `category_periods` and `family` links."""
    return respond(persons.enroll(db_of(request), who, body.region, body.person), Enrolled)


@router.get("/persons/{psn_no}", response_model=PersonOut, tags=["persons"])
def get_person(psn_no: PersonId, who: Caller, request: Request) -> MoneyJSONResponse:
    """A person's enrollment and account balance; the ID number is masked for institutions."""
    with db_of(request).sessions() as session:
        view = persons.person_view(session, psn_no, who)
    return respond({**view, "account_balance": fen_to_yuan(view["account_balance_fen"])}, PersonOut)


@router.post("/persons/{psn_no}/account/credits", response_model=Credited, tags=["persons"])
def credit_account(
    psn_no: PersonId, body: CreditRequest, who: Bureau, request: Request
) -> MoneyJSONResponse:
    """Credit the personal account (个人账户划入, bureau); answers the new balance. At most
    1,000,000,000.00 yuan. Not idempotent: each request credits, so a client that timed
    out reads the balance before it sends the credit again."""
    balance = persons.credit_account(
        db_of(request), who, psn_no, yuan_to_fen(body.amount), body.note
    )
    return respond(
        {"person_id": psn_no, "balance": fen_to_yuan(balance), "balance_fen": balance}, Credited
    )


@router.post(
    "/institutions", response_model=InstitutionCreated, status_code=201, tags=["institutions"]
)
def add_institution(body: InstitutionIn, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Register a designated institution (bureau); its API key is in this answer only."""
    key = institutions.add_institution(
        db_of(request), body.code, body.name, body.level, body.kind, body.region, who
    )
    created = {**body.model_dump(), "status": "active", "api_key": key}
    return respond(created, InstitutionCreated, status_code=201)


@router.get("/institutions", response_model=list[InstitutionOut], tags=["institutions"])
def list_institutions(who: Caller, request: Request) -> MoneyJSONResponse:
    """Registered institutions (an institution sees itself)."""
    return respond(institutions.list_institutions(db_of(request), who), list[InstitutionOut])


@router.get("/settlements/{setl_id}", response_model=SettlementOut, tags=["settlements"])
def get_settlement(
    setl_id: Annotated[str, Path(min_length=1, max_length=30)], who: Caller, request: Request
) -> MoneyJSONResponse:
    """One settlement or reversal with its funds and lines; another institution's: 404."""
    return respond(settlement.settlement_view(db_of(request), who, setl_id), SettlementOut)


@router.get("/settlements", response_model=list[SettlementSummary], tags=["settlements"])
def list_settlements(
    begin: Begin,
    end: End,
    who: Caller,
    request: Request,
    fixmedins_code: InstitutionFilter = None,
    psn_no: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> MoneyJSONResponse:
    """Settlements dated in [begin, end], oldest first; an institution sees only its own."""
    rows = settlement.list_settlements(
        db_of(request), who, begin, end, fixmedins_code, psn_no, limit
    )
    return respond(rows, list[SettlementSummary])


@router.get("/reconciliations", response_model=Reconciliation, tags=["settlements"])
def reconciliation(
    begin: Begin,
    end: End,
    who: Caller,
    request: Request,
    fixmedins_code: InstitutionFilter = None,
) -> MoneyJSONResponse:
    """对账: totals by fund type over [begin, end] and every settlement behind them."""
    totals = reconcile.reconcile(db_of(request), who, begin, end, fixmedins_code, with_details=True)
    return respond(totals, Reconciliation)


@router.get("/visits/{mdtrt_id}", response_model=VisitOut, tags=["visits"])
def get_visit(
    mdtrt_id: Annotated[str, Path(min_length=1, max_length=30)], who: Caller, request: Request
) -> MoneyJSONResponse:
    """A visit of the national flow (2201 / 2401) and its uploaded fee lines."""
    return respond(visits.visit_view(db_of(request), who, mdtrt_id), VisitOut)


@router.get("/audit", response_model=list[AuditEntryOut], tags=["audit"])
def audit_log(
    who: Overseer,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[str | None, Query(max_length=40)] = None,
) -> MoneyJSONResponse:
    """The newest audit entries (bureau and auditors); ID numbers are masked in them."""
    return respond(audit.entries(db_of(request), who, limit, action), list[AuditEntryOut])
