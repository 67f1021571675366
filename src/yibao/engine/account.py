"""Person part: personal account (个人账户), family mutual aid (共济), then cash."""

from __future__ import annotations

from yibao.engine.context import ClaimContext
from yibao.money import yuan_str
from yibao.policy.schema import Account


def pay_from_accounts(ctx: ClaimContext, rule: Account | None) -> tuple[int, int]:
    """(acct_pay, acct_mulaid_pay): own account first, then relatives' accounts if allowed,
    neither for the lines of a kind the account may not pay (`not_for_kinds`)."""
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
    balance = ctx.ytd.account_balance if ctx.person.scheme == "employee" else 0
    excluded = not_for_account(ctx, rule)
    if excluded and (balance or _family_money(ctx, rule)):
        # said only when an account could have paid: otherwise cash pays it all anyway
        ctx.note(
            "account.not_for_kinds", rule.not_for_kinds, _refusal(ctx, rule, min(excluded, due))
        )
    due = max(0, due - excluded)
    own = min(due, balance)
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


def not_for_account(ctx: ClaimContext, rule: Account) -> int:
    """The amount of the claim's lines whose catalogue kind the account may not pay for.

    The whole line amount counts: a 丙类 good (the catalogue's class for them) is wholly the
    person's. Were a fund to pay part of such a line (an item re-classed on the claim), the
    account would pay that much less than it could: the layers pay per claim, not per line,
    so the person's share of one line is not known."""
    if rule.not_for_kinds is None:
        return 0
    kinds = set(rule.not_for_kinds.value)
    return sum(
        line.amount for line, kind in zip(ctx.lines, ctx.kinds, strict=True) if kind in kinds
    )


def _family_money(ctx: ClaimContext, rule: Account) -> bool:
    return rule.family_mutual_aid.value and any(ctx.ytd.family_balances.values())


def _refusal(ctx: ClaimContext, rule: Account, amount: int) -> str:
    """'个人账户不支付 daily_goods 237.90 (G002 蛋白粉(保健品)、G001 洗发水(日用品)), 现金支付'."""
    kinds = set(rule.not_for_kinds.value) if rule.not_for_kinds else set()
    named = "、".join(
        f"{line.code} {line.name}".strip()
        for line, kind in zip(ctx.lines, ctx.kinds, strict=True)
        if kind in kinds
    )
    return f"个人账户不支付 {'/'.join(sorted(kinds))} {yuan_str(amount)} ({named}), 现金支付"
