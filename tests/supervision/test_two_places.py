"""Golden cases for `two_places_one_day`'s exclusions: a pharmacy purchase filling an external
prescription (双通道, EH-32) and a referral (转诊, EH-42) are not places of their own.

Places on a day = max(institutions visited without a referral, pharmacies bought at); the rule
fires above `max_institutions_per_day` = 2 (G-ALL-6). Every visit below bills S001 at 25.00
yuan and every purchase XN02BEA001 at 6.00 yuan, so a flag's amount is 2,500 fen per visit
and 600 fen per purchase it lists.
"""

from __future__ import annotations

import pytest

from tests.supervision.cases import claim_file, flags, item, visit

DAY = "2023-07-03"


def _visit(n: int, **kw) -> dict:
    return visit(f"C{n}", DAY, [item("S001", "25")], institution=f"H{n}", **kw)


def _purchase(n: int) -> dict:
    return visit(
        f"C{n}", DAY, [item("XN02BEA001", "6")], med_type="41", institution=f"P{n}", diagnoses=[]
    )


def _places(*claims: dict) -> list[dict]:
    return flags(claim_file(list(claims)), rule="two_places_one_day")


def test_two_clinics_and_a_pharmacy_are_two_places() -> None:
    # near miss (EH-32): places = max(2 visited, 1 pharmacy) = 2, not above 2; before the
    # exclusion this counted 3 institutions and fired
    assert _places(_visit(1), _visit(2), _purchase(3)) == []


def test_two_clinics_and_two_pharmacies_are_two_places() -> None:
    # near miss: each visit's prescription filled at its own pharmacy, max(2, 2) = 2
    assert _places(_visit(1), _visit(2), _purchase(3), _purchase(4)) == []


def test_three_clinics_and_a_pharmacy_fire_without_the_purchase() -> None:
    # must fire: max(3, 1) = 3 > 2; the purchase is explained by a visit, so the flag lists
    # the three visits only: 3 × 2,500 = 7,500 fen
    (f,) = _places(_visit(1), _visit(2), _visit(3), _purchase(4))
    assert f["claim_ids"] == ["C1", "C2", "C3"]
    assert (f["evidence"]["value"], f["evidence"]["threshold"]) == (3, 2)
    assert f["evidence"]["institutions"] == ["H1", "H2", "H3"]
    assert f["evidence"]["pharmacies"] == ["P4"]
    assert f["amount_at_risk_fen"] == 7500
    assert "EH-32" in f["basis"] and "EH-42" in f["basis"]


def test_more_pharmacies_than_visits_fire_with_every_claim() -> None:
    # must fire: one visit, three pharmacies: max(1, 3) = 3 > 2; the purchases are places of
    # their own, so all four claims are listed: 2,500 + 3 × 600 = 4,300 fen
    (f,) = _places(_visit(1), _purchase(2), _purchase(3), _purchase(4))
    assert f["claim_ids"] == ["C1", "C2", "C3", "C4"]
    assert f["evidence"]["value"] == 3 and f["evidence"]["pharmacies"] == ["P2", "P3", "P4"]
    assert f["amount_at_risk_fen"] == 4300


@pytest.mark.parametrize(("visits", "fires"), [(3, False), (4, True)])
def test_a_referral_is_not_a_place_of_its_own(visits: int, fires: bool) -> None:
    # EH-42: the referred visit (the last one) does not count: 3 visits → 2 places (near
    # miss), 4 visits → 3 places (fires, the referral not listed: 3 × 2,500 = 7,500 fen)
    claims = [_visit(n) for n in range(1, visits)] + [_visit(visits, referral=True)]
    found = _places(*claims)
    assert bool(found) is fires
    if fires:
        assert found[0]["claim_ids"] == ["C1", "C2", "C3"]
        assert found[0]["amount_at_risk_fen"] == 7500


def test_other_days_do_not_add_up() -> None:
    # near miss: three clinics, but one of them the next day
    late = visit("C3", "2023-07-04", [item("S001", "25")], institution="H3")
    assert _places(_visit(1), _visit(2), late) == []
