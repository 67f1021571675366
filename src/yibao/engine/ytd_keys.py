"""The keys a claim file's `person.ytd` may carry: those the engine itself writes.

A carried-in accumulator under a misspelt key would be ignored while the engine starts the
real one at zero — the person would bear a deductible twice with nothing said — so every key
is checked against the patterns of `state.YearToDate`'s writers and the region's own ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from pydantic import BaseModel

from yibao.engine.inputs import YearToDateIn
from yibao.engine.pooling import waiver_codes
from yibao.policy.schema import AssistanceProgram, PoolBenefit, RegionPolicy

# written by the layers under fixed names (pooling.POOL_KEY, large_expense.KEY, ...)
FIXED_AMOUNTS = frozenset(
    {
        "pool",
        "large_expense",
        "civil_servant:burden",
        "critical_illness:burden",
        "critical_illness:paid",
        "commercial:paid",
        "commercial:in_scope:base",
        "commercial:out_of_catalogue:base",
    }
)
DOC = "docs/claim-file.md lists the year_to_date keys"
LEVELS = frozenset({"1", "2", "3", "out"})  # matching.level_key
DX_COUNT = "admissions:dx:"  # pooling._record_use, one per waiver code (pooling.waiver_codes)


def unknown_ytd_key(ytd: YearToDateIn, policy: RegionPolicy) -> str | None:
    """The path and reason of the first key the engine would never read, or None."""
    ids = _ids(policy)
    by_kind = {"deductible": ids.deductibles, "cap": ids.caps, "assistance": ids.groups}
    for key in ytd.amounts:
        if key in FIXED_AMOUNTS:
            continue
        kind, _, rest = key.partition(":")
        own_id, _, disease = rest.partition(":")  # deductibles and caps may be per disease
        known = by_kind.get(kind)
        if known is None:
            return f"amounts.{key}: not an accumulator the engine keeps ({DOC})"
        if kind == "deductible" and own_id in ids.per_admission:
            return f"amounts.{key}: the deductible of {own_id!r} is per admission: no total"
        if own_id not in known:
            listed = ", ".join(sorted(known)) or "none in this region"
            return f"amounts.{key}: no {kind} {own_id!r} in the region's policy (known: {listed})"
        if (problem := _disease_part(kind, own_id, disease, known[own_id])) is not None:
            return f"amounts.{key}: {problem}"
    for key in ytd.counts:
        if not _known_count(key):
            return f"counts.{key}: not a count the engine keeps ({DOC})"
        if key.startswith(DX_COUNT) and key.removeprefix(DX_COUNT) not in ids.dx_codes:
            listed = ", ".join(sorted(ids.dx_codes)) or "none in this region"
            return f"counts.{key}: no waiver counts admissions of this code (known: {listed})"
    return None


def _disease_part(kind: str, own_id: str, disease: str, codes: frozenset[str] | None) -> str | None:
    """Why the `:DISEASE` part is wrong: a per-disease deductible or cap (`codes`: its
    benefit's diseases) is kept per disease code, any other without one."""
    if codes is None:
        return f"{kind} {own_id!r} is not per disease: no ':{disease}'" if disease else None
    if disease not in codes:
        listed = ", ".join(sorted(codes))
        return f"{kind} {own_id!r} is kept per disease: one of {listed} after ':'"
    return None


def _known_count(key: str) -> bool:
    if key == "admissions":
        return True
    head, _, value = key.partition(":")
    sub, _, rest = value.partition(":")
    return head == "admissions" and (
        (sub == "level" and rest in LEVELS) or (sub == "dx" and rest != "")
    )


class Known(NamedTuple):
    """What a region's policy keeps totals of, in any version: annual deductibles, caps and
    assistance limit groups by id, each with the disease codes it is kept per (None: not per
    disease); benefits whose deductible is per admission (no total); the codes admissions
    are counted by."""

    deductibles: dict[str, frozenset[str] | None]
    caps: dict[str, frozenset[str] | None]
    groups: dict[str, frozenset[str] | None]
    per_admission: frozenset[str]
    dx_codes: frozenset[str]


def _ids(policy: RegionPolicy) -> Known:
    nodes = list(_models(policy))
    benefits = [node for node in nodes if isinstance(node, PoolBenefit)]
    deductibles: dict[str, frozenset[str] | None] = {}
    caps: dict[str, frozenset[str] | None] = {}
    per_admission = set()
    for node in benefits:
        match = node.match
        diseases = match.diseases.items if match and match.diseases else []
        codes = frozenset(d.code for d in diseases)
        if node.deductible is not None and node.deductible.basis == "annual":
            deductibles[node.id] = codes if node.deductible.per_disease else None
        elif node.deductible is not None:
            per_admission.add(node.id)
        for cap in node.caps:
            caps[cap.id] = codes if cap.per_disease else None
    groups = {
        node.limit_group or node.id: None for node in nodes if isinstance(node, AssistanceProgram)
    }
    per_admission -= deductibles.keys()  # annual in another version: a total is kept
    return Known(
        deductibles, caps, groups, frozenset(per_admission), frozenset(waiver_codes(benefits))
    )


def _models(node: object) -> Iterator[BaseModel]:
    if isinstance(node, BaseModel):
        yield node
        for name in type(node).model_fields:
            yield from _models(getattr(node, name))
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _models(value)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _models(value)
