"""Person part: personal account (个人账户), family mutual aid (共济), then cash."""

from __future__ import annotations

from yibao.engine.context import ClaimContext
from yibao.money import yuan_str
from yibao.policy.schema import Account


def pay_from_accounts(ctx: ClaimContext, rule: Account | None) -> tuple[int, int]:
    """(acct_pay, acct_mulaid_pay): own account first, then relatives' accounts if allowed."""
    due = ctx.person_left
    if rule is None and due > 0 and any(ctx.ytd.family_balances.values()):
        # relatives' accounts were given, but this scheme has no account rule to draw them by
        ctx.note("account", None, f"共济: the {ctx.person.scheme} scheme here draws on no account")
    if rule is None or not ctx.claim.acct_used or due <= 0:
        return 0, 0
    if ctx.claim.med_type not in rule.med_types:
        return 0, 0
    # only an employee has a personal account of their own; a resident's scheme may still
    # let an employee relative's pay (Qingdao, G-QD-12)
    own = min(due, ctx.ytd.account_balance) if ctx.person.scheme == "employee" else 0
    ctx.ytd.account_balance -= own
    family = 0
    if rule.family_mutual_aid.value:
        for holder in sorted(ctx.ytd.family_balances):
            take = min(due - own - family, ctx.ytd.family_balances[holder])
            if take > 0:
                ctx.ytd.family_balances[holder] -= take
                family += take
                ctx.note(
                    "account.mutual_aid",
                    rule.family_mutual_aid,
                    f"{holder} 共济账户支付 {yuan_str(take)}",
                )
    if own:
        ctx.note("account.own", rule, f"个人账户支付 {yuan_str(own)}")
    return own + family, family
