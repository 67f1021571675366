"""大额医疗费用补助 / 超限额补充 (`hifob_pay`): cost above the basic fund's annual cap."""

from __future__ import annotations

from yibao.engine import funds
from yibao.engine.context import ClaimContext
from yibao.engine.pooling import POOL_KEY
from yibao.money import round_half_up, yuan_str
from yibao.policy.schema import LargeExpense

KEY = "large_expense"


def large_expense(ctx: ClaimContext, rule: LargeExpense) -> None:
    """Pays `ratio` of the in-scope cost the basic fund could not take because its cap was
    reached, while basic + this layer stay within the combined annual limit."""
    if ctx.claim.med_type not in rule.med_types:
        return
    if ctx.overflow_cost <= 0:
        ctx.note("large_expense", None, f"{rule.name}: basic cap not reached, nothing to pay")
        ctx.pay(funds.LARGE_EXPENSE, 0, 0, "basic cap not reached")
        return
    wanted = round_half_up(ctx.overflow_cost * rule.ratio.value)
    used = ctx.ytd.amount(POOL_KEY) + ctx.ytd.amount(KEY)
    room = max(0, rule.combined_cap.fen - used)
    amount = min(wanted, room, ctx.inscope_left)
    ctx.note(
        "large_expense.ratio",
        rule.ratio,
        f"{yuan_str(round_half_up(ctx.overflow_cost))} "
        f"above the basic cap × {rule.ratio.value:.0%} = {yuan_str(wanted)}",
    )
    if amount < wanted:
        ctx.note("large_expense.cap", rule.combined_cap, f"combined room {yuan_str(room)}")
    ctx.pay(funds.LARGE_EXPENSE, amount, round_half_up(ctx.overflow_cost), rule.name)
    ctx.ytd.add(KEY, amount)
