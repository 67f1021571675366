"""兜底 top-up (`oth_pay`): funds together reach a floor share of the compliant cost."""

from __future__ import annotations

from yibao.engine.context import ClaimContext
from yibao.engine.funds import TOP_UP, Fund
from yibao.money import apply_ratio, yuan_str
from yibao.policy.schema import PovertyTopUp


def poverty_top_up(ctx: ClaimContext, rule: PovertyTopUp) -> None:
    """For the listed categories, pays max(0, floor × in-scope cost − every fund so far), so
    the compliant cost is reimbursed at least at the floor share (e.g. 90% for 建档立卡)."""
    if ctx.claim.med_type not in rule.med_types or not ctx.has_any(rule.categories):
        return
    if rule.in_region_only and ctx.claim.out_of_region:
        ctx.note("poverty_top_up", None, "out of region: no top-up")
        return
    target = apply_ratio(ctx.inscp, rule.floor_share.value)
    amount = min(max(0, target - ctx.fund_total), ctx.inscope_left)
    ctx.note(
        "poverty_top_up",
        rule.floor_share,
        f"{rule.floor_share.value:.0%} × {yuan_str(ctx.inscp)} = {yuan_str(target)}; "
        f"funds so far {yuan_str(ctx.fund_total)}; top-up {yuan_str(amount)}",
    )
    ctx.pay(Fund(rule.fund_pay_type, rule.name, TOP_UP.field), amount, ctx.inscp, rule.name)
