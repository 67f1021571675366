"""Annual assessment of a designated institution → its status (LY-24, LY-25, LY-32, QD-28, G-LY-8).

normal; exposed (score below the exposure threshold: named in the media, LY-24); suspended
(score below the suspension threshold, a pharmacy's one-vote veto, or a `suspend_service`
sanction, for `suspension_months`, LY-32); terminated (a `terminate_agreement` sanction, QD-28).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from yibao.payment.terms import AssessmentTerms

STATUSES = ("normal", "exposed", "suspended", "terminated")


@dataclass(frozen=True)
class Outcome:
    status: str
    exposed: bool
    suspended_months: int
    sanctions: tuple[str, ...]
    reasons: tuple[str, ...]


def assess(
    score: Decimal,
    kind: str,
    veto: bool,
    sanctions: list[str] | tuple[str, ...],
    terms: AssessmentTerms,
) -> Outcome:
    """The status an assessment score and its sanctions give (ValueError on bad input)."""
    if not Decimal(0) <= score <= Decimal(100):
        raise ValueError(f"score {score} must be between 0 and 100")
    if veto and kind != "pharmacy":
        raise ValueError("the one-vote veto (LY-25) applies to pharmacies only")
    known = set(terms.sanction_types.value)
    for sanction in sanctions:
        if sanction not in known:
            raise ValueError(f"unknown sanction {sanction!r} (known: {', '.join(sorted(known))})")
    reasons = []
    exposed = score < terms.exposure_below.value
    if exposed:
        reasons.append(
            f"score {score} < {terms.exposure_below.value}: exposed [{terms.exposure_below.cite()}]"
        )
    suspend = score < terms.suspension_below.value or veto or "suspend_service" in sanctions
    if score < terms.suspension_below.value:
        reasons.append(
            f"score {score} < {terms.suspension_below.value}: suspended "
            f"[{terms.suspension_below.cite()}]"
        )
    if veto:
        reasons.append("one-vote veto (LY-25): suspended, deposit forfeited")
    if "terminate_agreement" in sanctions:
        status = "terminated"
        reasons.append("sanction terminate_agreement (QD-28)")
    elif suspend:
        status = "suspended"
    else:
        status = "exposed" if exposed else "normal"
    months = terms.suspension_months.value if status == "suspended" else 0
    return Outcome(status, exposed, months, tuple(sanctions), tuple(reasons))
