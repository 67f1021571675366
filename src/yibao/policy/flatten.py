"""A policy version as a flat list of (path, value, provenance) rows: for `policy show`
and `policy diff`, so a reader sees every effective number and where it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from yibao.policy.provenance import (
    CitedAge,
    CitedBands,
    CitedEmploymentMoney,
    CitedLevelMoney,
    CitedLevelRatio,
    CitedLevels,
    CitedMoney,
    Cites,
    Provenance,
)
from yibao.policy.schema import DiseaseList, PolicyVersion


@dataclass(frozen=True)
class Row:
    path: str
    value: str
    provenance: str
    kind: str  # source / assumed / overlay


def flatten(version: PolicyVersion) -> list[Row]:
    rows: list[Row] = []
    _walk(version, "", rows)
    return rows


def _walk(node: Any, path: str, rows: list[Row]) -> None:
    if isinstance(node, Provenance) or (isinstance(node, Cites) and node.cite()):
        rows.append(Row(path, describe(node), node.cite(), _kind(node)))
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            if name in ("source", "assumed", "reason", "overlay"):
                continue
            child = getattr(node, name)
            # `levels_cited` is the citation of `levels`: the reader sees it as `levels`
            label = name.removesuffix("_cited")
            if isinstance(child, BaseModel | list | dict):
                _walk(child, f"{path}.{label}" if path else label, rows)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            key = getattr(item, "id", None) or getattr(item, "code", None) or str(i)
            _walk(item, f"{path}[{key}]", rows)
    elif isinstance(node, dict):
        for key, item in node.items():
            _walk(item, f"{path}.{key}", rows)


def _kind(node: Cites) -> str:
    if node.overlay is not None:
        return "overlay"
    return "assumed" if node.assumed else "source"


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def describe(node: Cites) -> str:
    """The value of a cited node in one short line (amounts in 元, ratios in %)."""
    if isinstance(node, CitedMoney):
        return f"{_num(node.value)} 元"
    if isinstance(node, CitedLevelMoney):
        return " / ".join(f"L{lv} {_num(v)} 元" for lv, v in sorted(node.by_level.items()))
    if isinstance(node, CitedLevelRatio):
        return " / ".join(f"L{lv} {v:.0%}" for lv, v in sorted(node.by_level.items()))
    if isinstance(node, CitedEmploymentMoney):
        return f"在职 {_num(node.in_service)} 元 / 退休 {_num(node.retired)} 元"
    if isinstance(node, CitedBands):
        return "; ".join(
            f"{_num(b.lower)}–{_num(b.upper) if b.upper is not None else '∞'}: {b.ratio:.0%}"
            for b in node.bands
        )
    if isinstance(node, DiseaseList):
        return f"{node.name}: " + "、".join(d.name for d in node.items)
    if isinstance(node, CitedLevels):
        only = " only" if len(node.value) == 1 else ""
        return "level " + ", ".join(str(level) for level in node.value) + only
    if isinstance(node, CitedAge):
        return f"up to age {node.value}"
    value = getattr(node, "value", None)
    if isinstance(value, Decimal):
        return f"{value:.0%}" if abs(value) <= 1 else _num(value)
    if isinstance(value, list):
        return " → ".join(str(item) for item in value)
    if value is not None:
        return str(value)
    return str(getattr(node, "name", "")) or _plain_fields(node)


def _plain_fields(node: BaseModel) -> str:
    """A block's own settings (`med_types 21, 14; categories civil_servant`), not its class:
    its numbers have rows of their own."""
    parts = []
    for name in type(node).model_fields:
        value = getattr(node, name)
        if name in ("source", "assumed", "reason", "overlay") or isinstance(value, BaseModel):
            continue
        if isinstance(value, list) and value and not isinstance(value[0], BaseModel):
            parts.append(f"{name} {', '.join(str(item) for item in value)}")
        elif isinstance(value, str | int) and value is not False:
            parts.append(f"{name} {value}")
    return "; ".join(parts) or type(node).__name__
