"""Each rule's measured precision from the decisions on its cases. Pure.

precision = confirmed / (confirmed + dismissed), an exact fraction shown with four decimals
(half-up); None while no case of the rule has been decided. Undecided cases are counted too,
so the supervision team sees how much of a rule's output is still unjudged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from yibao.money import ratio4


def ratio(confirmed: int, decided: int) -> Decimal | None:
    """confirmed / decided with four decimals, or None when nothing is decided."""
    if decided == 0:
        return None
    return ratio4(Decimal(confirmed) / Decimal(decided))


def precision_table(
    counts: Iterable[tuple[str, str | None, str | None, int]],
) -> dict[str, list[dict]]:
    """(rule, region, decision or None, number of cases) → rows per rule and per region."""
    by_rule: Counter[tuple] = Counter()
    by_region: Counter[tuple] = Counter()
    for rule, region, decision, n in counts:
        by_rule[(rule, decision)] += n
        by_region[(rule, region or "", decision)] += n
    rules = sorted({k[0] for k in by_rule})
    regions = sorted({k[:2] for k in by_region})
    return {
        "rules": [_row({"rule": r}, lambda d, r=r: by_rule[(r, d)]) for r in rules],
        "regions": [
            _row({"rule": r, "region": g or None}, lambda d, r=r, g=g: by_region[(r, g, d)])
            for r, g in regions
        ],
    }


def _row(head: dict, count) -> dict:
    confirmed, dismissed, undecided = count("confirmed"), count("dismissed"), count(None)
    decided = confirmed + dismissed
    return {
        **head,
        "confirmed": confirmed,
        "dismissed": dismissed,
        "decided": decided,
        "undecided": undecided,
        "precision": ratio(confirmed, decided),
    }
