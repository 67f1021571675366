"""Group and price one stay from plain values (the API's and the CLI's `drg` command)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from yibao.errors import InputError, first_error
from yibao.money import MoneyError, yuan_to_fen
from yibao.payment.drg import Stay, price_stay
from yibao.payment.terms import packaged_terms, region_terms


def price_stay_request(
    region: str,
    level: int,
    diagnoses: list[str],
    procedures: list[str],
    total_fen: int,
    patient_fen: int,
) -> dict[str, Any]:
    """The stay's DRG group and payment with its lines (ValueError on bad input)."""
    try:
        terms = region_terms(region)
    except KeyError as exc:
        raise ValueError(f"region: {exc.args[0]}") from None
    stay = Stay(tuple(diagnoses), tuple(procedures), total_fen, patient_fen, level)
    paid = price_stay(stay, terms.drg)
    return {
        "method": paid.method,
        "group": paid.group,
        "payment_fen": paid.payment_fen,
        "fund_fen": paid.fund_fen,
        "lines": [line.as_dict() for line in paid.lines],
        "flag": paid.flag,
    }


class StayRequest(BaseModel):
    """A stay to group and price, as written in a JSON file (money in yuan)."""

    model_config = ConfigDict(extra="forbid")
    region: str
    level: int = Field(ge=1, le=3)
    diagnoses: list[str] = Field(min_length=1)
    procedures: list[str] = Field(default_factory=list)
    total: Decimal
    patient_paid: Decimal = Decimal(0)


def price_stay_file(raw: Any, where: str) -> dict[str, Any]:
    """Validate a JSON stay and price it; InputError `where.path: reason` otherwise."""
    try:
        req = StayRequest.model_validate(raw)
    except ValidationError as exc:
        raise InputError(first_error(exc, where)) from None
    if req.region not in packaged_terms().regions:
        known = ", ".join(packaged_terms().regions)
        raise InputError(f"{where}.region: no payment terms for {req.region!r} (known: {known})")
    total = _fen(req.total, f"{where}.total")
    patient = _fen(req.patient_paid, f"{where}.patient_paid")
    try:
        return price_stay_request(
            req.region, req.level, req.diagnoses, req.procedures, total, patient
        )
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def _fen(yuan: Decimal, where: str) -> int:
    try:
        fen = yuan_to_fen(yuan)
    except MoneyError as exc:
        raise InputError(f"{where}: {exc}") from None
    if fen < 0:
        raise InputError(f"{where}: must be >= 0")
    return fen
