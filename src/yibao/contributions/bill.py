"""A contribution bill: itemized payment lines, each with the rule it comes from.

Each line is one payment rounded half-up once; the bill's total is the plain sum of its lines
and the totals by payer partition it. Memos (what the money funds, what the centre keeps)
are shown but never added to the total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from yibao.money import fen_to_yuan
from yibao.policy.provenance import Cites

Payer = Literal["employer", "personal", "government", "medical_assistance"]
PAYERS: tuple[Payer, ...] = ("employer", "personal", "government", "medical_assistance")


@dataclass(frozen=True)
class BillLine:
    """One payment (or memo): what, who pays, how much, computed from what, and why.

    The amount is base × rate, or, for a yearly base per person (the levy's average wage),
    base × rate × `heads` × `months` / 12, rounded half-up once."""

    item: str
    payer: Payer | None
    amount_fen: int
    member: str | None = None
    base_fen: int | None = None
    rate: Decimal | None = None
    sources: tuple[str, ...] = ()
    note: str = ""
    heads: int | None = None
    months: int | None = None

    def as_dict(self) -> dict[str, Any]:
        shown = {
            "item": self.item,
            "payer": self.payer,
            "member": self.member,
            "base": None if self.base_fen is None else fen_to_yuan(self.base_fen),
            "rate": self.rate,
            "amount": fen_to_yuan(self.amount_fen),
            "amount_fen": self.amount_fen,
            "sources": list(self.sources),
            "note": self.note,
        }
        # Only on lines that have them: the other lines (and their issued bills' digests)
        # stay as they were.
        if self.heads is not None:
            shown["heads"] = self.heads
        if self.months is not None:
            shown["months"] = self.months
        return shown


@dataclass(frozen=True)
class Bill:
    """A unit's or a person's bill for one period (a month `2021-06` or a year `2021`)."""

    region: str
    kind: Literal["unit", "person"]
    payer_id: str
    period: str
    lines: tuple[BillLine, ...]
    memos: tuple[BillLine, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    def totals_by_payer(self) -> dict[str, int]:
        """Each payer's share; the shares add up to `total_fen` exactly."""
        totals = dict.fromkeys(PAYERS, 0)
        for line in self.lines:
            totals[line.payer or "personal"] += line.amount_fen
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "kind": self.kind,
            "payer_id": self.payer_id,
            "period": self.period,
            "total": fen_to_yuan(self.total_fen),
            "total_fen": self.total_fen,
            "by_payer": {k: fen_to_yuan(v) for k, v in self.totals_by_payer().items()},
            "lines": [line.as_dict() for line in self.lines],
            "memos": [memo.as_dict() for memo in self.memos],
            "info": self.info,
        }


def cites(*nodes: Cites | None) -> tuple[str, ...]:
    """The non-empty citations of the given policy values, in order, without repeats."""
    out: list[str] = []
    for node in nodes:
        text = node.cite() if node is not None else ""
        if text and text not in out:
            out.append(text)
    return tuple(out)


@dataclass(frozen=True)
class Period:
    """A bill period: one month (`2021-06`) or one calendar year (`2021`)."""

    year: int
    month: int | None = None

    @classmethod
    def parse(cls, text: str) -> Period:
        parts = text.split("-")
        try:
            if len(parts) == 1 and len(parts[0]) == 4:
                return cls(int(parts[0]))
            if len(parts) == 2 and len(parts[0]) == 4 and len(parts[1]) == 2:
                month = int(parts[1])
                if 1 <= month <= 12:
                    return cls(int(parts[0]), month)
        except ValueError:
            pass
        raise ValueError(f"{text!r} is not a period YYYY-MM or YYYY")

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, 1)

    @property
    def months(self) -> int:
        return 1 if self.month else 12

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" if self.month else f"{self.year:04d}"
