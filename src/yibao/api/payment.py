"""Institution agreements, budgets, payment methods and statements over HTTP.

The bureau writes; auditors read everything; an institution reads only its own agreements,
deposit ledger and statements. Money is yuan with two decimals in and out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from yibao.api.common import db_of
from yibao.api.errors import ERROR_RESPONSES
from yibao.api.models import IsoDate, Money, Number, PositiveYuan, Region
from yibao.api.rendering import MoneyJSONResponse, respond
from yibao.api.security import Bureau, Caller
from yibao.money import MoneyError, entered_yuan, yuan_to_fen
from yibao.payment import service
from yibao.payment.lines import yuan_view
from yibao.payment.pricing import price_stay_request
from yibao.service.errors import ServiceError

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=MoneyJSONResponse)

Code = Annotated[str, Path(min_length=1, max_length=30, description="institution code")]
Year = Annotated[int, Path(ge=2000, le=2100, description="calendar year")]


def _yuan_or_zero(value: Any) -> Decimal:
    """Read as every amount a person enters (`money.entered_yuan`), 0 included."""
    try:
        return entered_yuan(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


Yuan = Annotated[
    Decimal,
    BeforeValidator(_yuan_or_zero),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"},
                {"type": "number", "minimum": 0, "exclusiveMaximum": 1_000_000_000_000},
            ],
            "description": "yuan, at most two decimals (a string keeps it exact)",
        }
    ),
]


class MethodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["drg", "single_disease", "capitation"]
    persons: int = Field(
        default=0, ge=0, le=10_000_000, strict=True, description="capitation: persons"
    )


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["hospital", "pharmacy", "outpatient_pooling"]
    ownership: Literal["public", "private"]
    valid_from: IsoDate
    valid_to: IsoDate
    methods: list[MethodIn] = Field(default_factory=list, max_length=3)


class AgreementOut(BaseModel):
    id: int
    institution_code: str
    kind: str
    ownership: str
    valid_from: dt.date
    valid_to: dt.date
    status: str
    suspended_until: dt.date | None
    methods: list[MethodIn]


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100, strict=True)
    score: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
    veto: bool = Field(default=False, strict=True, description="pharmacy one-vote veto (LY-25)")
    sanctions: list[str] = Field(default_factory=list, max_length=10)
    deposit_deduction: Yuan = Decimal(0)
    note: str = Field(default="", max_length=200)


class AssessmentOut(BaseModel):
    institution_code: str
    year: int
    score: Number
    veto: bool
    sanctions: list[str]
    deposit_deduction: Money
    status: str
    reasons: list[str]


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    institution_code: str = Field(min_length=1, max_length=30)
    year: int = Field(ge=2000, le=2100, strict=True)
    budget: PositiveYuan
    vbp_budget: Yuan | None = None  # left out: the stored figure is kept (new: 0)
    vbp_paid: Yuan | None = None


class BudgetOut(BaseModel):
    institution_code: str
    year: int
    budget: Money
    vbp_budget: Money
    vbp_paid: Money


class YearEndRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: Region
    year: int = Field(ge=2000, le=2100, strict=True)


class YearEndRunOut(BaseModel):
    region: str
    year: int
    written: list[str]
    skipped: list[str]


class LineOut(BaseModel):
    key: str
    label: str
    amount: Money
    rule: str


class StatementOut(BaseModel):
    institution_code: str
    year: int
    region: str
    totals: dict[str, Money]
    lines: list[LineOut]
    flags: dict[str, int]


class DepositEntryOut(BaseModel):
    month: int | None
    kind: str
    amount: Money
    note: str


class StayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: Region
    level: int = Field(ge=1, le=3, strict=True, description="hospital level")
    diagnoses: list[str] = Field(min_length=1, max_length=20, description="ICD-10, main first")
    procedures: list[str] = Field(default_factory=list, max_length=50)
    total: Yuan = Field(description="itemized cost of the stay (medfee_sumamt)")
    patient_paid: Yuan = Decimal(0)


class StayOut(BaseModel):
    method: str
    group: str | None
    payment: Money
    fund: Money
    lines: list[LineOut]
    flag: str | None


@router.post(
    "/institutions/{code}/agreements",
    response_model=AgreementOut,
    status_code=201,
    tags=["payment"],
)
def add_agreement(
    code: Code, body: AgreementIn, who: Bureau, request: Request
) -> MoneyJSONResponse:
    """Sign a service agreement (协议) with its term and payment methods (bureau)."""
    methods = [service.MethodSpec(m.method, m.persons) for m in body.methods]
    view = service.add_agreement(
        db_of(request),
        who,
        code,
        body.kind,
        body.ownership,
        body.valid_from,
        body.valid_to,
        methods,
    )
    return respond(view, AgreementOut, status_code=201)


@router.get("/institutions/{code}/agreements", response_model=list[AgreementOut], tags=["payment"])
def list_agreements(code: Code, who: Caller, request: Request) -> MoneyJSONResponse:
    """An institution's agreements, oldest first (an institution: only its own)."""
    return respond(service.list_agreements(db_of(request), who, code), list[AgreementOut])


@router.post(
    "/institutions/{code}/assessments",
    response_model=AssessmentOut,
    status_code=201,
    tags=["payment"],
)
def add_assessment(
    code: Code, body: AssessmentIn, who: Bureau, request: Request
) -> MoneyJSONResponse:
    """Record the annual assessment (bureau): the score gives normal / exposed / suspended
    (G-LY-8, LY-32); sanctions are the QD-28 outcome types; a deduction is taken from the
    deposit at year-end."""
    view = service.record_assessment(
        db_of(request), who, code, body.year, body.score, body.veto, body.sanctions,
        yuan_to_fen(body.deposit_deduction), body.note,
    )  # fmt: skip
    return respond(yuan_view(view), AssessmentOut, status_code=201)


def _fen_or_none(amount: Decimal | None) -> int | None:
    return None if amount is None else yuan_to_fen(amount)


@router.post("/budgets", response_model=BudgetOut, tags=["payment"])
def set_budget(body: BudgetIn, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Set an institution-year's global budget (总额), VBP budget and what the fund paid
    manufacturers for its VBP items (bureau); a year with a statement is closed (409)."""
    view = service.set_budget(
        db_of(request), who, body.institution_code, body.year, yuan_to_fen(body.budget),
        _fen_or_none(body.vbp_budget), _fen_or_none(body.vbp_paid),
    )  # fmt: skip
    return respond(yuan_view(view), BudgetOut)


@router.post("/year-end-runs", response_model=YearEndRunOut, tags=["payment"])
def year_end_run(body: YearEndRunIn, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Write the year-end statement of every institution of a region with an agreement in
    the year (bureau). Re-running writes nothing new; after a crash it finishes the rest."""
    return respond(service.run_year_end(db_of(request), who, body.region, body.year), YearEndRunOut)


@router.get("/institutions/{code}/statements/{year}", response_model=StatementOut, tags=["payment"])
def get_statement(code: Code, year: Year, who: Caller, request: Request) -> MoneyJSONResponse:
    """An institution's year-end statement, itemized (an institution: only its own)."""
    view = service.statement_view(db_of(request), who, code, year)
    return respond(yuan_view(view), StatementOut)


@router.get("/institutions/{code}/deposits", response_model=list[DepositEntryOut], tags=["payment"])
def get_deposits(
    code: Code,
    who: Caller,
    request: Request,
    year: Annotated[int, Query(ge=2000, le=2100, description="calendar year")],
) -> MoneyJSONResponse:
    """The deposit (保证金) ledger of an institution-year (an institution: only its own)."""
    rows = service.deposit_ledger(db_of(request), who, code, year)
    return respond(yuan_view(rows), list[DepositEntryOut])


@router.post("/payment/drg/group", response_model=StayOut, tags=["payment"])
def drg_group(body: StayIn, who: Caller) -> MoneyJSONResponse:
    """Group and price one inpatient stay under the region's DRG terms (pure, writes nothing)."""
    try:
        paid = price_stay_request(
            body.region, body.level, body.diagnoses, body.procedures,
            yuan_to_fen(body.total), yuan_to_fen(body.patient_paid),
        )  # fmt: skip
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    return respond(yuan_view(paid), StayOut)
