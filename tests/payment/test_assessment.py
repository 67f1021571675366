"""Assessment score → status (G-LY-8 exposure below 80, suspension, LY-25 veto, QD-28)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.payment.assessment import assess
from yibao.payment.terms import region_terms

TERMS = region_terms("liaoyang").assessment


@pytest.mark.parametrize(
    ("score", "status", "exposed", "months"),
    [
        ("95", "normal", False, 0),
        ("80", "normal", False, 0),  # 80 is not *below* 80
        ("79.99", "exposed", True, 0),
        ("60", "exposed", True, 0),
        ("59.5", "suspended", True, 3),  # below the assumed 60; 3 months from LY-32
    ],
)
def test_score_thresholds(score, status, exposed, months):
    outcome = assess(Decimal(score), "hospital", False, [], TERMS)
    assert (outcome.status, outcome.exposed, outcome.suspended_months) == (status, exposed, months)


def test_a_pharmacy_veto_suspends_whatever_the_score():
    outcome = assess(Decimal(98), "pharmacy", True, [], TERMS)
    assert outcome.status == "suspended"
    assert any("LY-25" in r for r in outcome.reasons)


def test_sanctions_of_qd_28():
    assert assess(Decimal(90), "hospital", False, ["warning_interview"], TERMS).status == "normal"
    assert assess(Decimal(90), "hospital", False, ["suspend_service"], TERMS).status == "suspended"
    terminated = assess(Decimal(90), "hospital", False, ["terminate_agreement"], TERMS)
    assert (terminated.status, terminated.suspended_months) == ("terminated", 0)


@pytest.mark.parametrize(
    ("score", "kind", "veto", "sanctions", "message"),
    [
        ("101", "hospital", False, [], "between 0 and 100"),
        ("-1", "hospital", False, [], "between 0 and 100"),
        ("90", "hospital", True, [], "pharmacies only"),
        ("90", "hospital", False, ["flogging"], "unknown sanction"),
    ],
)
def test_bad_assessments_are_refused(score, kind, veto, sanctions, message):
    with pytest.raises(ValueError, match=message):
        assess(Decimal(score), kind, veto, sanctions, TERMS)
