"""An itemized result: each amount with the rule that produced it and where the rule comes from."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any

from yibao.money import fen_to_yuan


@dataclass(frozen=True)
class Line:
    """One amount of a calculation (`fen`, may be negative) and the rule that produced it."""

    key: str
    label: str
    fen: int
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "fen": self.fen, "rule": self.rule}


def _width(text: str) -> int:
    """Terminal columns of `text`: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def lines_text(lines: list[dict[str, Any]]) -> str:
    """Stored lines as aligned text: label, amount in yuan, rule."""
    width = max((_width(line["label"]) for line in lines), default=0)
    return "\n".join(
        line["label"]
        + " " * (width - _width(line["label"]))
        + f"  {fen_to_yuan(line['fen']):>16,}  {line['rule']}"
        for line in lines
    )


def yuan_view(value: Any) -> Any:
    """A copy for output with money in yuan: `x_fen` keys become `x`, a line's `fen` its
    `amount` (the dicts of `totals` hold only fen, so their keys lose the suffix too);
    dates become ISO text."""
    if isinstance(value, list):
        return [yuan_view(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "fen" and isinstance(item, int):
            out["amount"] = fen_to_yuan(item)
        elif key.endswith("_fen") and isinstance(item, int):
            out[key.removesuffix("_fen")] = fen_to_yuan(item)
        else:
            out[key] = yuan_view(item)
    return out
