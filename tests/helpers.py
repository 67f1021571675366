"""Small builders for claim files, so each test states only what it is about."""

from __future__ import annotations

from typing import Any

from yibao.engine.inputs import ClaimFile
from yibao.engine.result import Settlement
from yibao.engine.state import YearToDate
from yibao.settling import settle_file


def item(price: str, category: str = "A", quantity: int | str = 1, **extra: Any) -> dict:
    """One claim line; `price` in yuan as the claim file writes it."""
    return {
        "code": extra.pop("code", "T"),
        "name": "t",
        "category": category,
        "price": price,
        "quantity": quantity,
        **extra,
    }


def claim(
    claim_id: str, date: str, med_type: str = "21", level: int = 3, *, items: list, **extra: Any
) -> dict:
    return {
        "id": claim_id,
        "date": date,
        "med_type": med_type,
        "hospital_level": level,
        "items": items,
        **extra,
    }


def person(scheme: str = "resident", **extra: Any) -> dict:
    return {"id": "P", "scheme": scheme, **extra}


def settle(region: str, who: dict, claims: list[dict]) -> tuple[list[Settlement], YearToDate]:
    return settle_file(
        ClaimFile.model_validate({"region": region, "person": who, "claims": claims})
    )


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}" if isinstance(fen, int) else str(fen)


def fen(value: str) -> int:
    """'2046.77' → 204677 (test expectations are written in yuan, as a clerk reads them)."""
    whole, _, cents = value.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((cents + "00")[:2]))
