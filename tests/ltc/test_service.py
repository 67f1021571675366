"""Long-term care through the service: assessments, priced claims, refusals, roles, audit
(SQLite + PostgreSQL). Rates as in test_terms_and_calc (G-QD-10)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.ltc.world import build
from yibao.ltc import service
from yibao.service import institutions
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.store.models import AuditEntry


@pytest.fixture
def world(db):
    return build(db)


def assess(world, psn="QDE", level=4, on="2023-01-01", until="2023-12-31", who=None):
    body = service.parse(
        service.AssessmentIn,
        {"psn_no": psn, "level": level, "assessor": "评估中心", "assessed_on": on,
         "valid_until": until},
        "assessment",
    )  # fmt: skip
    return service.assess(world.db, who or world.bureau, body)


def claim(world, who, **fields):
    raw = {"claim_id": "C1", "psn_no": "QDE", "care_type": "institution",
           "start": "2023-03-01", "end": "2023-03-31"} | fields  # fmt: skip
    return service.submit_claim(world.db, who, service.parse(service.ClaimIn, raw, "claim"))


def test_an_institution_claims_for_itself_and_is_paid_by_the_terms(world):
    made = assess(world)
    assert (made["level_name"], made["eligible"]) == ("重度失能二级", True)
    answer = claim(world, world.home)
    # employee, institution care, 31 days: 31 × 65 = 2015.00; × 90% = 1813.50; person 201.50
    assert (answer["billed_fen"], answer["fund_pay_fen"], answer["person_pay_fen"]) == (
        201_500,
        181_350,
        20_150,
    )
    assert answer["institution_code"] == "QN01" and answer["assessment_id"] == made["id"]
    with world.db.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("ltc.%")).order_by(AuditEntry.id)
        ).all()
    assert actions == ["ltc.assess", "ltc.claim"]


def test_resident_home_care_by_the_bureau(world):
    assess(world, psn="QDR", level=3)
    answer = claim(world, world.bureau, psn_no="QDR", care_type="home", units=25,
                   start="2023-03-01", end="2023-03-10", institution_code="QN02")  # fmt: skip
    # 20 of 25 hours covered (2/day × 10 days): 1000 × 80% = 800.00; person 200 + 250 = 450.00
    assert (answer["fund_pay_fen"], answer["person_pay_fen"]) == (80_000, 45_000)


def test_a_level_that_is_not_severe_is_refused_and_nothing_is_stored(world):
    assess(world, level=2)
    with pytest.raises(ServiceError, match="not severe disability"):
        claim(world, world.home)
    assert service.list_claims(world.db, world.bureau) == []


def test_the_assessment_must_cover_the_whole_episode(world):
    assess(world, until="2023-03-15")
    with pytest.raises(ServiceError, match="no assessment of QDE is valid"):
        claim(world, world.home)
    assess(world, level=3, on="2023-03-10", until="2024-03-09")
    with pytest.raises(ServiceError, match="no assessment"):
        claim(world, world.home)  # starts before the new assessment
    answer = claim(world, world.home, start="2023-03-10", end="2023-03-31")
    assert answer["level"] == 3  # the newest assessment valid over the episode


def test_duplicates_and_overlaps_conflict(world):
    assess(world)
    claim(world, world.home)
    with pytest.raises(Conflict, match="C1 already exists"):
        claim(world, world.home, start="2023-04-01", end="2023-04-30")
    with pytest.raises(Conflict, match="already covers"):
        claim(world, world.home, claim_id="C2", start="2023-03-31", end="2023-04-10")
    claim(world, world.home, claim_id="C3", start="2023-04-01", end="2023-04-30")


def test_roles(world):
    assess(world)
    for who in (world.home, world.auditor):
        with pytest.raises(Forbidden):
            assess(world, who=who)
    with pytest.raises(Forbidden, match="not the caller's institution"):
        claim(world, world.home, institution_code="QN02")
    with pytest.raises(Forbidden):
        claim(world, world.auditor)
    claim(world, world.home)
    claim(world, world.bureau, claim_id="B1", start="2023-04-01", end="2023-04-30",
          institution_code="QN02")  # fmt: skip
    assert [c["claim_id"] for c in service.list_claims(world.db, world.home)] == ["C1"]
    assert [c["claim_id"] for c in service.list_claims(world.db, world.other)] == ["B1"]
    assert len(service.list_claims(world.db, world.auditor)) == 2


@pytest.mark.parametrize(
    ("psn", "fields", "error", "message"),
    [
        ("NOBODY", {}, NotFound, "not enrolled"),
        ("TLR", {}, ServiceError, "only for qingdao"),
        ("QDE", {"level": 8}, ServiceError, "level: 8 is not an assessment level"),
        ("QDE", {"until": "2022-01-01"}, ServiceError, "valid_until is before assessed_on"),
    ],
)
def test_bad_assessments(world, psn, fields, error, message):
    with pytest.raises(error, match=message):
        assess(world, psn=psn, **fields)


def test_bad_claims(world):
    assess(world)
    with pytest.raises(NotFound, match="institution QN99"):
        claim(world, world.bureau, institution_code="QN99")
    with pytest.raises(ServiceError, match="units: home care is priced per hour"):
        claim(world, world.home, care_type="home")
    with pytest.raises(ServiceError, match=r"claim\.care_type"):
        claim(world, world.home, care_type="spa")


def test_care_away_from_home_needs_a_care_giving_institution_of_qingdao(world):
    assess(world)
    for code, region, kind in (("TL01", "tongliao", "hospital"), ("QP01", "qingdao", "pharmacy")):
        institutions.add_institution(world.db, code, "某机构", 2, kind, region)
    with pytest.raises(ServiceError, match="institution_code: 机构护理 is given at an institution"):
        claim(world, world.bureau)  # no institution named
    with pytest.raises(ServiceError, match="TL01 is in tongliao; long-term care terms exist"):
        claim(world, world.bureau, institution_code="TL01")
    with pytest.raises(ServiceError, match="QP01 is a pharmacy; it gives no care"):
        claim(world, world.bureau, institution_code="QP01", care_type="hospital")
    with world.db.sessions() as session:
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "ltc.claim")).all()
    # home care may leave its provider out
    home = claim(world, world.bureau, care_type="home", units=20, end="2023-03-10")
    assert home["institution_code"] is None


def test_care_still_to_come_or_at_a_suspended_institution_is_refused(world):
    assess(world, until="2099-12-31")
    ahead = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(ServiceError, match=f"^end: {ahead} is in the future"):
        start = str(ahead - dt.timedelta(days=5))
        claim(world, world.bureau, start=start, end=str(ahead), institution_code="QN01")
    institutions.set_institution_status(world.db, "QN02", "suspend")
    with pytest.raises(Forbidden, match="institution QN02 is suspended"):
        claim(world, world.bureau, institution_code="QN02")
