"""Flags shaped like `yibao supervise --format json` prints them, and the people who act."""

from __future__ import annotations

from typing import Any

from yibao.cases.flags import Flag
from yibao.service.principal import Principal

BUREAU = Principal("clerk", "bureau")
AUDITOR = Principal("inspector", "auditor")
AUDITOR_2 = Principal("inspector-2", "auditor")
HOSPITAL = Principal("H001", "institution", "H001")
OTHER = Principal("H002", "institution", "H002")


def flag(
    rule: str = "duplicate_charge",
    person: str = "P1",
    institution: str | None = "H001",
    claims: tuple[str, ...] = ("C1",),
    amount_fen: int = 10_000,
    region: str = "erenhot",
    **extra: Any,
) -> dict[str, Any]:
    """One flag as JSON, with the fields of `supervision.engine.FLAG_SCHEMA`."""
    return {
        "rule": rule,
        "name_zh": "重复收费",
        "name_en": "duplicate charge",
        "severity": "medium",
        "region": region,
        "person_id": person,
        "institution": institution,
        "claim_ids": list(claims),
        "lines": [
            {"claim_id": c, "line_no": 1, "code": "X01", "amount_fen": amount_fen} for c in claims
        ],
        "evidence": {"measure": "lines_of_item_on_day", "value": 4, "threshold": 3},
        "amount_at_risk_fen": amount_fen,
        "basis": "assumed (G-ALL-6)",
        **extra,
    }


def flags(*raw: dict[str, Any]) -> list[Flag]:
    return [Flag.model_validate(f) for f in raw]
