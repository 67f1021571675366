"""Real-time supervision warnings answered with a settlement (智能监控 at the point of care).

Only rules that can fire from the person's own history at settlement time run here; the full
rule set runs in batch (`yibao supervise`). A warning never blocks a settlement: it is returned
with the answer (`warnings`) so the clerk and the bureau see it at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.engine.inputs import Claim
from yibao.store.models import Settlement
from yibao.supervision.params import rules_for


def may_warn(claim: Claim) -> bool:
    """Whether a warning can apply at all: only admissions (med type 21) are checked, so the
    other claims need no query and no session."""
    return claim.med_type == "21"


def readmission_warnings(
    session: Session, region: str, psn_no: str, claim: Claim
) -> list[dict[str, Any]]:
    """分解住院 warning: an admission starting within the window after an earlier discharge."""
    if not may_warn(claim):
        return []
    rule = rules_for(region)["split_hospitalization"]
    window = rule.params.window_days.value
    admitted = claim.admit_date or claim.date
    earlier = session.scalars(
        select(Settlement)
        .where(
            Settlement.person_id == psn_no,
            Settlement.med_type == "21",
            Settlement.status == "settled",
            Settlement.setl_date <= admitted,
            Settlement.setl_date >= admitted - dt.timedelta(days=window),
        )
        .order_by(Settlement.setl_date.desc())
    ).first()
    if earlier is None:
        return []
    gap = (admitted - earlier.setl_date).days
    return [
        {
            "rule": rule.id,
            "name_zh": rule.name_zh,
            "severity": rule.severity,
            "message": f"admitted {gap} day(s) after the discharge settled as {earlier.setl_id} "
            f"(window {window} days)",
            "previous_setl_id": earlier.setl_id,
            "evidence": {"days_since_discharge": gap, "threshold": window},
            "basis": rule.basis_text(),
        }
    ]
