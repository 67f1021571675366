"""What a personal account may pay for, and for whom (EH-05 to EH-08), as data.

Family mutual aid (家庭共济): the account pays the holder's own in-policy self-pay, the
medical costs of the holder's spouse, parents and children, and their individual
contributions (resident insurance, 大额, long-term care). Public health, fitness and
wellness spending are forbidden. Anything not listed is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.contributions.schema import AccountUses


@dataclass(frozen=True)
class UseDecision:
    allowed: bool
    reason: str
    source: str


def account_use_allowed(
    uses: AccountUses, purpose: str, payer: str, beneficiary: str, relation: str | None = None
) -> UseDecision:
    """May `payer`'s account pay `purpose` for `beneficiary` (`relation` to the payer)?"""
    for rule in uses.forbidden:
        if rule.purpose == purpose:
            return UseDecision(False, f"purpose {purpose!r} is a forbidden use", rule.cite())
    kin = "self" if payer == beneficiary else relation
    for rule in uses.allowed:
        if rule.purpose != purpose:
            continue
        if kin in rule.relations:
            return UseDecision(True, f"{purpose} for {kin}", rule.cite())
        whom, asked = ", ".join(rule.relations), kin or "a non-relative"
        reason = f"purpose {purpose!r} is only for the holder's {whom}, not for {asked}"
        return UseDecision(False, reason, rule.cite())
    known = ", ".join(sorted(rule.purpose for rule in uses.allowed))
    return UseDecision(False, f"purpose {purpose!r} is not an allowed use (allowed: {known})", "")
