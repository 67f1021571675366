"""Flags as `yibao supervise` prints them, their natural key, and how they group into cases.

Pure: flags in, planned cases out. A flag's natural key is (rule, person, institution, sorted
claim ids); flags sharing a key always land in one case, and a key already opened is never
opened again (the service keeps the keys in `supervision_case_flags`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from yibao.errors import format_loc
from yibao.service.errors import ServiceError

MAX_FEN = 10**12  # ten billion yuan: far above any flag, far below the BigInteger column's limit
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN, description="integer fen")]


class Flag(BaseModel):
    """One flag (`yibao supervise --format json`); fields added by newer rules are kept."""

    model_config = ConfigDict(extra="allow")

    rule: str = Field(min_length=1, max_length=40)
    name_zh: str = Field("", max_length=100)
    name_en: str = Field("", max_length=200)
    severity: str = Field("medium", min_length=1, max_length=12)
    region: str | None = Field(None, max_length=20)
    person_id: str | None = Field(None, min_length=1, max_length=30)  # None: institution-level
    institution: str | None = Field(None, max_length=30)
    claim_ids: list[str] = Field(default_factory=list)
    lines: list[dict[str, Any]] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)
    amount_at_risk_fen: Fen
    basis: str = ""

    @field_validator(
        "rule",
        "name_zh",
        "name_en",
        "severity",
        "region",
        "person_id",
        "institution",
        "basis",
        "claim_ids",
    )
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("must not contain NUL characters")
        return value


def natural_key(flag: Flag) -> str:
    """SHA-256 of (rule, person, institution, sorted claim ids): one case per key at most.

    A flag naming no claim (an institution-level indicator) adds its evidence to the key, so
    the same finding is opened once while next period's finding opens a case of its own."""
    parts = [flag.rule, flag.person_id or "", flag.institution or "", sorted(set(flag.claim_ids))]
    if not flag.claim_ids:
        parts.append(flag.evidence)
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class PlannedCase:
    """Flags of one rule, person and institution that become one case."""

    flags: list[Flag] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    @property
    def first(self) -> Flag:
        return self.flags[0]

    @property
    def claim_ids(self) -> list[str]:
        return sorted({c for f in self.flags for c in f.claim_ids})

    @property
    def amount_at_risk_fen(self) -> int:
        return sum(f.amount_at_risk_fen for f in self.flags)


def plan_cases(flags: Iterable[Flag], known: set[str], group: bool = False) -> list[PlannedCase]:
    """New cases for the flags whose key is not in `known`, in the order flags came.

    Flags with one natural key share a case; with `group`, so do all new flags of one rule,
    person and institution."""
    planned: dict[tuple, PlannedCase] = {}
    for flag in flags:
        key = natural_key(flag)
        if key in known:
            continue
        by = (flag.rule, flag.person_id, flag.institution) if group else (key,)
        case = planned.setdefault(by, PlannedCase())
        case.flags.append(flag)
        if key not in case.keys:
            case.keys.append(key)
    return list(planned.values())


def parse_flags(raw: Any) -> list[Flag]:
    """`yibao supervise --format json` output (`{"flags": [...], "institution_flags": [...]}`)
    or a bare list → flags; the first bad one → `flags[i].field: why`."""
    if isinstance(raw, list):
        return _parse_list(raw, "flags")
    if not isinstance(raw, dict) or not isinstance(raw.get("flags"), list):
        raise ServiceError('flags: expected {"flags": [...]} as `yibao supervise` prints')
    extra = raw.get("institution_flags") or []
    if not isinstance(extra, list):
        raise ServiceError("institution_flags: expected a list")
    return _parse_list(raw["flags"], "flags") + _parse_list(extra, "institution_flags")


def _parse_list(items: list, name: str) -> list[Flag]:
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Flag.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = format_loc([name, i, *first["loc"]])
            reason = str(first["msg"]).removeprefix("Value error, ")
            raise ServiceError(f"{where}: {reason}") from None
    return out
