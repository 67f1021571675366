"""Year-end global-budget settlement (总量控制、定额管理、超支分担、节余奖励, LY-35, G-LY-7).

Overspend up to the band (10% of the budget) is shared: the fund pays its share (50%), the
institution bears the rest; overspend beyond the band is borne by the institution alone.
Savings up to the band (10% under budget) earn a reward of the kept share (50%) of them.
The fund's claim payment plus what the institution bears is always the actual amount.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.money import apply_ratio
from yibao.payment.lines import Line
from yibao.payment.terms import BudgetTerms


@dataclass(frozen=True)
class BudgetSettlement:
    budget_fen: int
    actual_fen: int
    fund_pays_claims_fen: int  # of the actual claims, what the fund pays
    institution_bears_fen: int  # of the actual claims, what the institution bears
    reward_fen: int  # paid on top for savings
    lines: tuple[Line, ...]

    @property
    def fund_total_fen(self) -> int:
        """All the fund pays the institution for the year: claims + reward."""
        return self.fund_pays_claims_fen + self.reward_fen


def settle_budget(budget_fen: int, actual_fen: int, terms: BudgetTerms) -> BudgetSettlement:
    """Settle one institution-year's actual fund claims against its budget."""
    if budget_fen <= 0:
        raise ValueError("budget must be > 0")
    if actual_fen < 0:
        raise ValueError("actual claims must be >= 0")
    if actual_fen > budget_fen:
        return _overspend(budget_fen, actual_fen, terms)
    return _surplus(budget_fen, actual_fen, terms)


def _overspend(budget: int, actual: int, terms: BudgetTerms) -> BudgetSettlement:
    over = actual - budget
    band = apply_ratio(budget, terms.overspend_band.value)
    shared = min(over, band)
    fund_share = apply_ratio(shared, terms.overspend_fund_share.value)
    bears = over - fund_share
    lines = (
        Line("overspend", "超支 overspend", over, "actual − budget"),
        Line(
            "overspend_shared_by_fund",
            "超支分担 fund share",
            fund_share,
            f"{terms.overspend_fund_share.value} × min(overspend, {terms.overspend_band.value} "
            f"× budget) [{terms.overspend_fund_share.cite()}]",
        ),
        Line(
            "institution_bears",
            "机构承担 borne by institution",
            -bears,
            f"overspend − fund share; beyond the band all of it [{terms.overspend_band.cite()}]",
        ),
    )
    return BudgetSettlement(budget, actual, actual - bears, bears, 0, lines)


def _surplus(budget: int, actual: int, terms: BudgetTerms) -> BudgetSettlement:
    savings = budget - actual
    counted = min(savings, apply_ratio(budget, terms.surplus_band.value))
    reward = apply_ratio(counted, terms.surplus_keep.value)
    lines = (
        Line("surplus", "节余 savings", savings, "budget − actual"),
        Line(
            "surplus_reward",
            "节余奖励 reward",
            reward,
            f"{terms.surplus_keep.value} × min(savings, {terms.surplus_band.value} × budget) "
            f"[{terms.surplus_keep.cite()}]",
        ),
    )
    return BudgetSettlement(budget, actual, actual, 0, reward, lines)
