"""What a personal account may pay for, and for whom (EH-05 to EH-08), as data.

Family mutual aid (家庭共济): the account pays the holder's own in-policy self-pay, the
medical costs of the holder's spouse, parents and children, and their individual
contributions (resident insurance, 大额, long-term care), each only for a member of the
scheme it belongs to. Public health, fitness and wellness spending are forbidden. Anything
not listed is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.contributions.schema import AccountUse, AccountUses


@dataclass(frozen=True)
class UseDecision:
    allowed: bool
    reason: str
    source: str
    unbound: bool = False  # refused only because the beneficiary is not bound to the holder


def account_use_allowed(
    uses: AccountUses,
    purpose: str,
    payer: str,
    beneficiary: str,
    relation: str | None = None,
    beneficiary_scheme: str | None = None,
) -> UseDecision:
    """May `payer`'s account pay `purpose` for `beneficiary` (`relation` to the payer,
    enrolled in `beneficiary_scheme`)?"""
    for rule in uses.forbidden:
        if rule.purpose == purpose:
            return UseDecision(False, f"purpose {purpose!r} is a forbidden use", rule.cite())
    for rule in uses.allowed:
        if rule.purpose == purpose:
            return _rule_decision(rule, payer, beneficiary, relation, beneficiary_scheme)
    known = ", ".join(sorted(rule.purpose for rule in uses.allowed))
    return UseDecision(False, f"purpose {purpose!r} is not an allowed use (allowed: {known})", "")


def _rule_decision(
    rule: AccountUse, payer: str, beneficiary: str, relation: str | None, scheme: str | None
) -> UseDecision:
    """The relation first (spouse, parent or child by a family binding), then the scheme the
    contribution belongs to (a resident premium for a resident only)."""
    kin = "self" if payer == beneficiary else relation
    if kin not in rule.relations:
        whom = ", ".join(rule.relations)
        asked = kin or f"{beneficiary}, who is not bound to the holder's account"
        reason = f"purpose {rule.purpose!r} is only for the holder's {whom}, not for {asked}"
        return UseDecision(False, reason, rule.cite(), unbound=kin is None)
    wanted = rule.beneficiary_scheme
    if wanted is not None and scheme is not None and scheme != wanted:
        reason = (
            f"purpose {rule.purpose!r} is a contribution of the {wanted} scheme, and "
            f"{beneficiary} is enrolled in the {scheme} scheme"
        )
        return UseDecision(False, reason, rule.cite())
    return UseDecision(True, f"{rule.purpose} for {kin}", rule.cite())
