"""Contributions and personal-account crediting over HTTP.

Bills are computed (and optionally issued) by the bureau; the monthly crediting run and
the payment of a family member's contribution from an account are bureau actions too.
Institutions get 403. Money is yuan with two decimals; `*_fen` fields are exact integers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from yibao.api.common import PersonId, db_of
from yibao.api.errors import ERROR_RESPONSES
from yibao.api.models import Money, PositiveYuan
from yibao.api.rendering import MoneyJSONResponse, respond
from yibao.api.security import Bureau
from yibao.errors import InputError
from yibao.money import fen_to_yuan, yuan_to_fen
from yibao.policy.loader import PolicyError
from yibao.service.errors import ServiceError

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=MoneyJSONResponse)

MonthText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


# --- models -------------------------------------------------------------------------------
class BillRequest(BaseModel):
    """A unit (`kind: unit`, period YYYY-MM) or a person (`kind: person`, YYYY or YYYY-MM)
    described as in `examples/contributions/`; `issue` stores a unit bill (bureau)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["unit", "person"]
    period: str = Field(pattern=r"^\d{4}(-\d{2})?$")
    description: dict[str, Any]
    issue: bool = False


class BillLineOut(BaseModel):
    item: str
    payer: str | None
    member: str | None
    base: Money | None
    rate: Decimal | None
    heads: int | None = None  # a per-head, part-year line: base × rate × heads × months / 12
    months: int | None = None
    amount: Money
    amount_fen: int
    sources: list[str]
    note: str


class BillOut(BaseModel):
    region: str
    kind: str
    payer_id: str
    period: str
    total: Money
    total_fen: int
    by_payer: dict[str, Money]
    lines: list[BillLineOut]
    memos: list[BillLineOut]
    info: dict[str, Any]
    bill_id: int | None = None
    created: bool | None = None


class CreditingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str = Field(min_length=1, max_length=20)
    month: MonthText
    batch_size: int = Field(500, ge=1, le=100_000)


class CreditingRunOut(BaseModel):
    run_id: int
    region: str
    month: str
    status: str
    credited_now: int = Field(description="accounts credited by this call (0 on a re-run)")
    credited: int
    total: Money
    total_fen: int
    skipped: dict[str, int]
    batches: int


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    beneficiary: str = Field(min_length=1, max_length=30)
    purpose: str = Field(min_length=1, max_length=40)
    year: int = Field(ge=1990, le=2100)
    amount: PositiveYuan | None = Field(None, description="default: the resident share owed")


class PaymentOut(BaseModel):
    payer: str
    beneficiary: str
    relation: str | None
    purpose: str
    year: int
    amount: Money
    amount_fen: int
    balance: Money
    balance_fen: int
    source: str


def _in_body(message: str) -> str:
    """A description's field path as the body's path (`description.members[0].base: ...`)."""
    return message if message.startswith("period:") else f"description.{message}"


# --- routes -------------------------------------------------------------------------------
@router.post("/contributions/bills", response_model=BillOut, tags=["contributions"])
def contribution_bill(body: BillRequest, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Compute a contribution bill, each line with its source (bureau); `issue: true` stores
    a unit's bill and its members' bases (the same bill again: the stored one; 409 if
    different)."""
    from yibao.contributions.compute import compute_person_bill, compute_unit_bill
    from yibao.contributions.service.bills import issue_unit_bill

    if body.issue:
        if body.kind != "unit":
            raise ServiceError("issue: only unit bills are issued")
        done = issue_unit_bill(db_of(request), who, body.description, body.period)
        return respond(
            {**done["bill"], "bill_id": done["bill_id"], "created": done["created"]}, BillOut
        )
    compute = compute_unit_bill if body.kind == "unit" else compute_person_bill
    try:
        bill = compute(body.description, body.period)
    except (InputError, PolicyError) as exc:
        raise ServiceError(_in_body(str(exc))) from None
    return respond(bill.as_dict(), BillOut)


@router.post("/accounts/crediting-runs", response_model=CreditingRunOut, tags=["accounts"])
def crediting_run(body: CreditingRequest, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Credit a region's personal accounts for a month (bureau). Idempotent: a second run of
    the month credits nobody again; a run cut short is continued by the next one."""
    from yibao.contributions.service.crediting import run_crediting

    done = run_crediting(db_of(request), who, body.region, body.month, body.batch_size)
    return respond({**done, "total": fen_to_yuan(done["total_fen"])}, CreditingRunOut)


@router.post("/accounts/{psn_no}/payments", response_model=PaymentOut, tags=["accounts"])
def account_payment(
    psn_no: PersonId, body: PaymentRequest, who: Bureau, request: Request
) -> MoneyJSONResponse:
    """Pay a spouse's, parent's or child's contribution from this person's account (EH-07,
    bureau); forbidden purposes (public health, fitness, wellness: EH-08) are refused."""
    from yibao.contributions.service.payments import pay_contribution

    amount = None if body.amount is None else yuan_to_fen(body.amount)
    done = pay_contribution(
        db_of(request), who, psn_no, body.beneficiary, body.purpose, body.year, amount
    )
    shown = {
        **done,
        "amount": fen_to_yuan(done["amount_fen"]),
        "balance": fen_to_yuan(done["balance_fen"]),
    }
    return respond(shown, PaymentOut)
