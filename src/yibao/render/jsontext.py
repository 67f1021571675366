"""A small JSON writer that prints Decimals as exact JSON numbers (805.00, 0.6500).

The standard library would need floats for numbers; money never becomes a float here.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


def dumps(value: Any, indent: int | None = 2) -> str:
    parts: list[str] = []
    _write(value, parts, indent, 0)
    return "".join(parts)


def _write(value: Any, out: list[str], indent: int | None, depth: int) -> None:
    if isinstance(value, Decimal):
        out.append(str(value))
    elif isinstance(value, dict):
        _container(list(value.items()), "{", "}", out, indent, depth, keyed=True)
    elif isinstance(value, list | tuple):
        _container(list(value), "[", "]", out, indent, depth, keyed=False)
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def _container(items, open_, close, out, indent, depth, keyed: bool) -> None:
    if not items:
        out.append(open_ + close)
        return
    out.append(open_)
    pad = "\n" + " " * (indent * (depth + 1)) if indent is not None else ""
    sep = ": " if indent is not None else ":"
    for i, item in enumerate(items):
        out.append(("," if i else "") + pad)
        if keyed:
            key, item = item
            out.append(json.dumps(str(key), ensure_ascii=False) + sep)
        _write(item, out, indent, depth + 1)
    out.append(("\n" + " " * (indent * depth) if indent is not None else "") + close)


def plain(value: Any) -> Any:
    """`value` made of what `dumps` writes: models as dicts, tuples as lists, dates as ISO
    text and times as `yyyy-MM-dd HH:mm:ss` (the national interface's format)."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
