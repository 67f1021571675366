"""A reversal gives back its own 两病 disease group only while no other standing settlement
of the year showed it (QA: reversing a hypertension visit took hypertension away from a later
diabetes-and-hypertension visit, and the next claim's cap fell from 600 to 500)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from yibao.engine.inputs import ClaimFile
from yibao.service import institutions, persons, settlement
from yibao.service.principal import SYSTEM
from yibao.settling import settle_file

WHEN = dt.datetime(2023, 3, 10, 10, 0)
PERSON = {"id": "QG1", "scheme": "resident", "birth_date": "1960-05-01", "sex": "M"}


def _claim(cid: str, day: str, dx: list[str], tablets: int) -> dict:
    return {
        "id": cid,
        "date": day,
        "med_type": "11",
        "diagnoses": dx,
        "items": [
            {"code": "S001", "name": "普通门诊诊查费", "price": "10.00"},
            {"code": "XC08CAA001", "name": "硝苯地平缓释片", "price": "28.00", "quantity": tablets},
        ],
    }


G1 = _claim("G1", "2023-01-10", ["I10"], 2)
G2 = _claim("G2", "2023-02-10", ["E11.9", "I10"], 30)
G3 = _claim("G3", "2023-03-10", ["E11.9"], 30)


@pytest.fixture
def settle(db) -> Callable[[dict, str], dict]:
    """Settle a claim for the Qingdao resident QG1 at a level-1 hospital (with msgid)."""
    institutions.add_institution(db, "Q001", "青岛社区医院", 1, "hospital", "qingdao")
    persons.enroll(db, SYSTEM, "qingdao", persons.parse_person(PERSON))
    return lambda claim, msgid: settlement.settle(
        db, SYSTEM, "QG1", claim, "Q001", msgid, "2207", when=WHEN
    )


def test_a_group_another_standing_settlement_showed_stays_seen(db, settle):
    first = settle(G1, "m1")["setlinfo"]
    settle(G2, "m2")
    settlement.reverse(db, SYSTEM, "QG1", first["setl_id"], "m3", "2208", WHEN)
    third = settle(G3, "m4")["setlinfo"]
    # the standing history is G2 then G3, settled by `yibao settle`: G2 shows both groups,
    # so the 两病 cap is all_groups 600 (qingdao.yaml two_diseases, G-QD-6); G2 used 510,
    # G3 has 600 − 510 = 90 left (with hypertension dropped its cap was diabetes's 500: 0)
    standing = ClaimFile.model_validate(
        {
            "region": "qingdao",
            "person": PERSON,
            "claims": [G2 | {"hospital_level": 1}, G3 | {"hospital_level": 1}],
        }
    )
    expected = settle_file(standing)[0][1].setlinfo.hifp_pay
    assert expected == 9_000
    assert third["hifp_pay"] == Decimal("90.00")


def test_reversing_every_settlement_that_showed_a_group_drops_it(db, settle):
    # G1 (I10) then G2 (E11.9 + I10), reverse G1 and then G2: no standing settlement shows
    # hypertension, so a diabetes-only G3 has the diabetes cap 500, not the 600 of both
    # (QA: G2 had added only diabetes, so hypertension stayed seen and G3 was paid 600.00)
    first = settle(G1, "m1")["setlinfo"]
    second = settle(G2, "m2")["setlinfo"]
    settlement.reverse(db, SYSTEM, "QG1", first["setl_id"], "m3", "2208", WHEN)
    settlement.reverse(db, SYSTEM, "QG1", second["setl_id"], "m4", "2208", WHEN)
    third = settle(G3, "m5")["setlinfo"]
    standing = ClaimFile.model_validate(
        {"region": "qingdao", "person": PERSON, "claims": [G3 | {"hospital_level": 1}]}
    )
    expected = settle_file(standing)[0][0].setlinfo.hifp_pay
    assert expected == 50_000  # 850 × ratio, held to the diabetes cap 500 (G-QD-6)
    assert third["hifp_pay"] == Decimal("500.00")
