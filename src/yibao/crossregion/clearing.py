"""Clearing arithmetic (清算), pure: gross flows per ordered pair of regions, nets per pair.

gross(X → Y) is what region X's fund owes region Y: the fund part of the settlements of X's
insured at Y's institutions (rules.yaml `clearing.amount`, TL-23). For the pair {A, B} with
A < B, net = gross(A → B) − gross(B → A): positive means A pays B that much. A region's
position is what it receives minus what it owes; the positions of all regions sum to zero.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from yibao.errors import InputError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
Pair = tuple[str, str]


@dataclass(frozen=True)
class Flow:
    """One settlement's contribution: insured region, treating region, fees, fund part (fen)."""

    insured: str
    treating: str
    medfee_fen: int
    fund_fen: int
    visits: int = 1


@dataclass(frozen=True)
class PairGross:
    insured: str
    treating: str
    visits: int
    medfee_fen: int
    gross_fen: int


@dataclass(frozen=True)
class PairNet:
    """Net between `a` and `b` (a < b): positive → a pays b, negative → b pays a."""

    a: str
    b: str
    gross_a_to_b: int
    gross_b_to_a: int
    net_fen: int


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2023-03' → (2023-03-01, 2023-03-31); anything else is an input error."""
    found = MONTH.match(month or "")
    if not found:
        raise InputError(f"month: {month!r} is not YYYY-MM")
    year, number = int(found.group(1)), int(found.group(2))
    if not 1900 <= year <= 9998:
        raise InputError(f"month: {month!r} is out of range (years 1900 to 9998)")
    first = dt.date(year, number, 1)
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def gross_by_pair(flows: Iterable[Flow]) -> dict[Pair, PairGross]:
    """Sum the flows per ordered (insured, treating) pair; same-region flows are not cleared."""
    sums: dict[Pair, list[int]] = {}
    for f in flows:
        if f.insured == f.treating:
            continue
        acc = sums.setdefault((f.insured, f.treating), [0, 0, 0])
        acc[0] += f.visits
        acc[1] += f.medfee_fen
        acc[2] += f.fund_fen
    return {
        pair: PairGross(pair[0], pair[1], visits, medfee, gross)
        for pair, (visits, medfee, gross) in sorted(sums.items())
    }


def nets(gross: Mapping[Pair, int]) -> list[PairNet]:
    """One net per unordered pair that has any flow, sorted by (a, b)."""
    pairs = sorted({tuple(sorted(pair)) for pair in gross if pair[0] != pair[1]})
    out = []
    for a, b in pairs:
        ab, ba = gross.get((a, b), 0), gross.get((b, a), 0)
        out.append(PairNet(a, b, ab, ba, ab - ba))
    return out


def positions(pair_nets: Iterable[PairNet]) -> dict[str, int]:
    """Each region's net position (receives − owes), from the pair nets."""
    out: dict[str, int] = {}
    for n in pair_nets:
        out[n.a] = out.get(n.a, 0) - n.net_fen
        out[n.b] = out.get(n.b, 0) + n.net_fen
    return dict(sorted(out.items()))
