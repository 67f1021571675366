"""Volume-based procurement (带量采购, QD-23/QD-24) at year-end.

The fund pays manufacturers directly for VBP items, so the institution's payable is reduced
by that amount; a public institution retains a share of the VBP budget it did not spend
(结余留用). Both amounts are lines of the year-end statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.money import apply_ratio
from yibao.payment.lines import Line
from yibao.payment.terms import VbpTerms


@dataclass(frozen=True)
class VbpSettlement:
    direct_fen: int  # paid by the fund to manufacturers, taken off the institution's payable
    surplus_fen: int
    retained_fen: int
    lines: tuple[Line, ...]


def settle_vbp(paid_fen: int, budget_fen: int, public: bool, terms: VbpTerms) -> VbpSettlement:
    """`paid_fen`: what the fund paid manufacturers for the institution's VBP items;
    `budget_fen`: the VBP budget (pre-procurement volume × price) of the year."""
    if paid_fen < 0 or budget_fen < 0:
        raise ValueError("VBP amounts must be >= 0")
    direct = paid_fen if terms.direct_to_manufacturer.value else 0
    surplus = max(0, budget_fen - paid_fen)
    eligible = public or not terms.public_only.value
    retained = apply_ratio(surplus, terms.retention_share.value) if eligible else 0
    why = (
        f"{terms.retention_share.value} × (VBP budget − paid) [{terms.retention_share.cite()}]"
        if eligible
        else f"private institution: no retention [{terms.public_only.cite()}]"
    )
    lines = (
        Line(
            "vbp_direct",
            "带量采购 paid to manufacturers",
            -direct,
            f"fund pays manufacturers directly [{terms.direct_to_manufacturer.cite()}]",
        ),
        Line("vbp_retained", "结余留用 retained", retained, why),
    )
    return VbpSettlement(direct, surplus, retained, lines)
