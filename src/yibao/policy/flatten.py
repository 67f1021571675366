"""A policy version as a flat list of (path, value, provenance) rows: for `policy show`
and `policy diff`, so a reader sees every effective number and where it comes from.

A block's plain settings (a tilt's categories, a waiver's conditions, a benefit's med_types)
decide who is paid as much as its numbers do, so each has a row too, `uncited`: a diff that
listed cited values only would miss a reform that changes them."""

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


def flatten(version: PolicyVersion, settings: bool = False) -> list[Row]:
    """Every cited value of `version`; with `settings`, its plain settings too (a diff needs
    them; `policy show` lists what is cited, each value with its source)."""
    rows: list[Row] = []
    _walk(version, "", rows, settings)
    return rows


def _walk(node: Any, path: str, rows: list[Row], settings: bool) -> None:
    if isinstance(node, Provenance) or (isinstance(node, Cites) and node.cite()):
        rows.append(Row(path, describe(node), node.cite(), _kind(node)))
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            if name in ("source", "assumed", "reason", "overlay"):
                continue
            child = getattr(node, name)
            # `levels_cited` is the citation of `levels`: the reader sees it as `levels`
            label = name.removesuffix("_cited")
            where = f"{path}.{label}" if path else label
            if _is_setting(node, name, child):
                if settings:
                    rows.append(Row(where, _setting(child), UNCITED, "uncited"))
            elif isinstance(child, BaseModel | list | dict):
                _walk(child, where, rows, settings)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            key = getattr(item, "id", None) or getattr(item, "code", None) or str(i)
            _walk(item, f"{path}[{key}]", rows, settings)
    elif isinstance(node, dict):
        for key, item in node.items():
            _walk(item, f"{path}.{key}", rows, settings)


UNCITED = "uncited setting"
# what names a block or a version rather than setting a rule
NAMES = frozenset({"id", "name", "code", "product", "valid_from", "valid_to", "label"})


def _is_setting(node: BaseModel, name: str, value: Any) -> bool:
    """A plain value of a rule that is set (not a default left off, not a name); a value with
    a citation beside it (`levels` of `levels_cited`) has its cited row instead."""
    if name in NAMES or name.endswith("_cited") or getattr(node, f"{name}_cited", None):
        return False
    if isinstance(node, Provenance) and name == "value":  # the cited row describes it
        return False
    if isinstance(value, list):
        return bool(value) and not any(isinstance(item, BaseModel | dict) for item in value)
    return isinstance(value, str | int) and value is not False


def _setting(value: Any) -> str:
    return ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)


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
