"""Flags as `yibao supervise` prints them, their natural key, and how they become cases.

Pure: flags and the stored cases they may overlap in, an import plan out. A flag's natural
key is (rule, region, person, institution, sorted claim ids); flags sharing a key always land
in one case, and a key already opened is never opened again (the service keeps the keys in
`supervision_case_flags`). A later run over grown data flags the same finding with more
claims (a new key): it adds only what the stored cases do not hold (`plan_import`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yibao.errors import format_loc
from yibao.policy.loader import packaged_regions, unknown_region
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

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str | None) -> str | None:
        """A person's ids are regional: a flag without its region would open a case of its
        own beside the same finding's (QA), one of an unknown region no case at all."""
        if region is not None and region not in packaged_regions():
            raise ValueError(unknown_region(region))
        return region

    @model_validator(mode="after")
    def _person_has_region(self) -> Flag:
        if self.person_id is not None and self.region is None:
            raise ValueError("region: a flag naming a person names its region")
        return self

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
    """SHA-256 of (rule, region, person, institution, sorted claim ids): one case per key.

    The region is part of it: person and claim ids are regional, P001 in Tongliao is not P001
    in Qingdao. A flag naming no claim (an institution-level indicator) adds its evidence to
    the key, so the same finding is opened once while next period's opens a case of its own."""
    parts = [
        flag.rule,
        flag.region or "",
        flag.person_id or "",
        flag.institution or "",
        sorted(set(flag.claim_ids)),
    ]
    if not flag.claim_ids:
        parts.append(flag.evidence)
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


Finding = tuple[str, str | None, str | None, str | None]


def finding(
    rule: str, region: str | None, person_id: str | None, institution: str | None
) -> Finding:
    """Where flags of one finding may overlap across runs: the rule's flags of one person in
    one region (a claim is at one institution, whichever one the flag names: a later run's
    `two_places_one_day` may name another place of the same day), or, for institution-level
    flags (no person), the rule's flags of one institution."""
    return (rule, region, person_id, None if person_id is not None else institution)


def finding_of(flag: Flag) -> Finding:
    return finding(flag.rule, flag.region, flag.person_id, flag.institution)


@dataclass(frozen=True)
class HeldCase:
    """A stored case a new flag may overlap: its id, status, finding and stored flag copies."""

    id: int
    status: str
    finding: Finding
    flags: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Part:
    """What one flag adds to the cases: all of it, or, when it overlaps stored cases of its
    finding (a later run over grown data), the claims they do not hold and the amount at
    risk beyond what they hold (never below zero)."""

    flag: Flag
    key: str
    claim_ids: tuple[str, ...]
    amount_at_risk_fen: int
    overlaps: tuple[int, ...] = ()  # the stored cases of its finding sharing a claim

    @property
    def adds_nothing(self) -> bool:
        return bool(self.overlaps) and not self.claim_ids and self.amount_at_risk_fen == 0

    def stored(self) -> dict[str, Any]:
        """The flag as the case keeps it: as printed, and, when it overlaps stored cases,
        what this case counts of it (`counted`), so the next run can subtract it too."""
        copy = self.flag.model_dump(mode="json")
        copy.pop("counted", None)  # ours to write, never taken from the input
        if self.overlaps:
            copy["counted"] = {
                "claim_ids": list(self.claim_ids),
                "amount_at_risk_fen": self.amount_at_risk_fen,
                "overlaps": list(self.overlaps),
            }
        return copy


@dataclass
class PlannedCase:
    """Parts of flags of one key (with `group`: of one rule, region, person and institution)
    that become one new case."""

    parts: list[Part] = field(default_factory=list)

    @property
    def first(self) -> Flag:
        return self.parts[0].flag

    @property
    def keys(self) -> list[str]:
        return list(dict.fromkeys(p.key for p in self.parts))

    @property
    def claim_ids(self) -> list[str]:
        return sorted({c for p in self.parts for c in p.claim_ids})

    @property
    def amount_at_risk_fen(self) -> int:
        return sum(p.amount_at_risk_fen for p in self.parts)

    @property
    def extends(self) -> list[int]:
        """Stored cases of the same finding this case adds to."""
        return sorted({i for p in self.parts for i in p.overlaps})

    def stored_flags(self) -> list[dict[str, Any]]:
        return [p.stored() for p in self.parts]


@dataclass
class ImportPlan:
    """What an import does: new cases, parts added to open cases (by case id), and keys of
    flags whose finding the stored cases already hold whole (key → the newest of them)."""

    new: list[PlannedCase] = field(default_factory=list)
    updates: dict[int, list[Part]] = field(default_factory=dict)
    covered: dict[str, int] = field(default_factory=dict)


def plan_import(
    flags: Iterable[Flag], known: set[str], held: Iterable[HeldCase] = (), group: bool = False
) -> ImportPlan:
    """What importing `flags` does, in the order they came; keys in `known` do nothing.

    A flag sharing a claim with stored cases of its finding (`finding`) adds only its part
    (`Part`): to the oldest of those cases still open, where nobody has reviewed the evidence
    yet; else as a new case naming the ones it extends; or nothing when they hold it whole.
    Otherwise flags with one key share a new case, and with `group` so do all new flags of one
    rule, region, person and institution. Each part is measured against the stored cases
    only, so flags of one key in one import add up as they always have — the same flag given
    twice (two runs' output concatenated) counts once."""
    by_finding: dict[Finding, list[HeldCase]] = {}
    for case in sorted(held, key=lambda c: c.id):
        by_finding.setdefault(case.finding, []).append(case)
    plan, planned = ImportPlan(), {}
    for flag in _each_once(flags):
        key = natural_key(flag)
        if key in known:
            continue
        overlapping = [c for c in by_finding.get(finding_of(flag), []) if _overlaps(flag, c)]
        part = _part(flag, key, overlapping)
        open_case = next((c.id for c in overlapping if c.status == "open"), None)
        if part.adds_nothing:
            plan.covered.setdefault(key, overlapping[-1].id)
        elif open_case is not None:
            plan.updates.setdefault(open_case, []).append(part)
        else:
            by = (flag.rule, flag.region, flag.person_id, flag.institution) if group else (key,)
            planned.setdefault(by, PlannedCase()).parts.append(part)
    plan.new = list(planned.values())
    return plan


def _each_once(flags: Iterable[Flag]) -> Iterator[Flag]:
    seen: set[str] = set()
    for flag in flags:
        text = json.dumps(flag.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        if text not in seen:
            seen.add(text)
            yield flag


def _overlaps(flag: Flag, case: HeldCase) -> bool:
    return any(_shares(flag, stored) for stored in case.flags)


def _shares(flag: Flag, stored: dict[str, Any]) -> bool:
    """A stored flag copy shares a claim with `flag`; for flags naming no claim (institution
    level): the same evidence, which is the same finding whatever key it was stored under."""
    if flag.claim_ids:
        return not set(flag.claim_ids).isdisjoint(stored.get("claim_ids") or ())
    return not stored.get("claim_ids") and stored.get("evidence") == flag.evidence


def _part(flag: Flag, key: str, overlapping: list[HeldCase]) -> Part:
    claims = sorted(set(flag.claim_ids))
    if not overlapping:
        return Part(flag, key, tuple(claims), flag.amount_at_risk_fen)
    held_claims: set[str] = set()
    held_fen = 0
    for case in overlapping:
        for stored in case.flags:
            if _shares(flag, stored):
                stored_claims, stored_fen = _counted(stored)
                held_claims |= stored_claims
                held_fen += stored_fen
    new_claims = tuple(c for c in claims if c not in held_claims)
    new_fen = max(0, flag.amount_at_risk_fen - held_fen)
    return Part(flag, key, new_claims, new_fen, tuple(c.id for c in overlapping))


def _counted(stored: dict[str, Any]) -> tuple[set[str], int]:
    """The claims and amount at risk a stored flag copy counts in its case."""
    part = stored.get("counted") or stored
    return set(part.get("claim_ids") or ()), int(part["amount_at_risk_fen"])


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
