"""公务员医疗补助 (`cvlserv_pay`): a share of the in-scope personal burden above a threshold."""

from __future__ import annotations

from yibao.engine import funds
from yibao.engine.context import ClaimContext
from yibao.engine.layers.cumulative import above_threshold
from yibao.money import apply_ratio, yuan_str
from yibao.policy.schema import CivilServant

BURDEN_KEY = "civil_servant:burden"


def civil_servant_subsidy(ctx: ClaimContext, rule: CivilServant) -> None:
    """Civil servants get `ratio` of the in-scope burden left after earlier layers, above an
    annual cumulative deductible (公务员补助起付线)."""
    if ctx.claim.med_type not in rule.med_types or not ctx.has_any(rule.categories):
        return
    burden = ctx.inscope_left
    before = ctx.ytd.amount(BURDEN_KEY)
    payable = above_threshold(before, burden, rule.deductible.fen)
    ctx.ytd.add(BURDEN_KEY, burden)
    amount = apply_ratio(payable, rule.ratio.value)
    ctx.note(
        "civil_servant.deductible",
        rule.deductible,
        f"burden {yuan_str(burden)}, year {yuan_str(before + burden)}; "
        f"above 起付线 {yuan_str(payable)}",
    )
    ctx.note("civil_servant.ratio", rule.ratio, f"× {rule.ratio.value:.0%} = {yuan_str(amount)}")
    ctx.pay(funds.CIVIL_SERVANT, amount, burden, "公务员医疗补助")
