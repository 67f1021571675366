"""City commercial supplementary insurance (惠民保 / 琴岛e保, `oth_pay`), the last layer."""

from __future__ import annotations

from decimal import Decimal

from yibao.engine.context import ClaimContext
from yibao.engine.funds import OTHER, Fund
from yibao.engine.layers.cumulative import above_threshold
from yibao.money import round_half_up, yuan_str
from yibao.policy.schema import Commercial, CommercialPart

PAID_KEY = "commercial:paid"


def commercial_supplement(ctx: ClaimContext, rule: Commercial) -> None:
    """For enrolled persons: a ratio of the in-catalogue burden left after every public fund
    and of out-of-catalogue inpatient cost, each above its own annual deductible."""
    if rule.opt_in.value and rule.product not in ctx.person.products:
        return
    in_catalogue = ctx.inscope_left + ctx.preselfpay
    exact = _part(ctx, rule.in_scope, "in_scope", in_catalogue)
    if rule.out_of_catalogue is not None:
        exact += _part(ctx, rule.out_of_catalogue, "out_of_catalogue", ctx.fulamt)
    amount = round_half_up(exact)
    room = max(0, rule.annual_cap.fen - ctx.ytd.amount(PAID_KEY))
    if amount > room:
        ctx.note("commercial.cap", rule.annual_cap, f"年度限额 room {yuan_str(room)}")
        amount = room
    if exact or amount:
        amount = min(amount, ctx.person_left)
        ctx.ytd.add(PAID_KEY, amount)
        ctx.pay(Fund(OTHER.code, rule.name, OTHER.field), amount, in_catalogue, rule.name)


def _part(ctx: ClaimContext, part: CommercialPart, name: str, base: int) -> Decimal:
    if ctx.claim.med_type not in part.med_types or base <= 0:
        return Decimal(0)
    key = f"commercial:{name}:base"
    before = ctx.ytd.amount(key)
    payable = above_threshold(before, base, part.deductible.fen)
    ctx.ytd.add(key, base)
    ctx.note(
        f"commercial.{name}.deductible",
        part.deductible,
        f"base {yuan_str(base)}, year {yuan_str(before + base)}; above {yuan_str(payable)}",
    )
    if payable:
        ctx.note(f"commercial.{name}.ratio", part.ratio, f"× {part.ratio.value:.0%}")
    return Decimal(payable) * part.ratio.value
