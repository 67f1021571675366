"""Settle → reconcile → reverse on SQLite and PostgreSQL: the service keeps the books exact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.service.world import build_world, outpatient
from yibao.service import reconcile, settlement
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.store.models import Account, Accumulator


@pytest.fixture
def world(db):
    return build_world(db)


def _acc(db, psn: str, year: int = 2023) -> tuple[dict, dict]:
    with db.sessions() as s:
        row = s.get(Accumulator, (psn, year))
        return (dict(row.amounts), dict(row.counts)) if row else ({}, {})


def _balance(db, psn: str) -> int:
    with db.sessions() as s:
        return s.get(Account, psn).balance


def test_settle_reconcile_reverse_round_trip(world):
    db, h = world.db, world.hospital
    # EH-10/12: in service, level 3: 1500 in scope → 1000 deductible, 60% × 500 = 300 paid;
    # the account (1000.00) pays the 1200 person part up to its balance.
    first = settlement.settle(
        db, h, "P1", outpatient("C1", "2023-03-01", "1500"), "H001", "msg-1", "2207"
    )
    info = first["setlinfo"]
    assert (info["hifp_pay"], info["act_pay_dedc"], info["acct_pay"]) == (
        Decimal("300.00"),
        Decimal("1000.00"),
        Decimal("1000.00"),
    )
    assert _balance(db, "P1") == 0
    assert _acc(db, "P1")[0]["deductible:general_outpatient"] == 100_000

    totals = reconcile.reconcile(db, h, dt.date(2023, 3, 1), dt.date(2023, 3, 1))
    assert totals["setl_cnt"] == 1 and totals["fund_pay_sumamt"] == Decimal("300.00")
    assert totals["funds"] == [
        {
            "fund_pay_type": "310100",
            "fund_pay_type_name": "职工基本医疗保险统筹基金",
            "fund_payamt": Decimal("300.00"),
        }
    ]

    same_day = dt.datetime(2023, 3, 1, 16, 0)  # reversed the day it was settled
    undone = settlement.reverse(db, h, "P1", info["setl_id"], "msg-2", "2208", same_day)
    assert undone["setlinfo"]["setl_id"] != info["setl_id"]
    assert undone["setlinfo"]["fund_pay_sumamt"] == Decimal("-300.00")
    assert _acc(db, "P1") == ({}, {})  # accumulators restored exactly
    assert _balance(db, "P1") == 100_000  # account restored exactly
    after = reconcile.reconcile(db, h, dt.date(2023, 3, 1), dt.date(2023, 3, 1), with_details=True)
    assert after["fund_pay_sumamt"] == Decimal("0.00") and after["setl_cnt"] == 2
    assert {d["status"] for d in after["details"]} == {"reversed", "reversal"}

    with pytest.raises(Conflict, match="is reversed"):
        settlement.reverse(db, h, "P1", info["setl_id"], "msg-3", "2208")


def test_reversal_of_an_earlier_settlement_leaves_the_later_one(world):
    db, h = world.db, world.hospital
    a = settlement.settle(db, h, "P2", outpatient("C1", "2023-03-01", "600"), "H001", "a", "2207")
    settlement.settle(db, h, "P2", outpatient("C2", "2023-04-01", "700"), "H001", "b", "2207")
    assert _acc(db, "P2")[0]["deductible:general_outpatient"] == 100_000
    settlement.reverse(db, h, "P2", a["setlinfo"]["setl_id"], "c", "2208")
    # Only C1's 600 of deductible is given back; C2's 400 deductible and its payment stay.
    amounts = _acc(db, "P2")[0]
    assert amounts["deductible:general_outpatient"] == 40_000
    assert amounts["pool"] == 19_500  # C2: 65% × 300 = 195.00


def test_idempotent_retry_returns_the_first_answer_and_settles_once(world):
    db, h = world.db, world.hospital
    claim = outpatient("C1", "2023-03-01", "2000")
    first = settlement.settle(db, h, "P2", claim, "H001", "same-msg", "2207")
    again = settlement.settle(db, h, "P2", claim, "H001", "same-msg", "2207")
    assert again == first
    totals = reconcile.reconcile(db, world.bureau, dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert totals["setl_cnt"] == 1
    assert _acc(db, "P2")[1] == {}  # outpatient: no admission counted, settled once
    assert _acc(db, "P2")[0]["pool"] == 65_000  # (2000 − 1000) × 65%, once
    # the same msgid from another caller is its own message, not a replay of this one
    at_h002 = {**claim, "hospital_level": 1}
    theirs = settlement.settle(db, world.other_hospital, "P2", at_h002, "H002", "same-msg", "2207")
    assert theirs["setlinfo"]["setl_id"] != first["setlinfo"]["setl_id"]


def test_pre_settle_changes_nothing(world):
    db, h = world.db, world.hospital
    pre = settlement.pre_settle(db, h, "P1", outpatient("C1", "2023-03-01", "1500"), "H001")
    assert "setl_id" not in pre["setlinfo"] and pre["setlinfo"]["hifp_pay"] == Decimal("300.00")
    assert _acc(db, "P1") == ({}, {}) and _balance(db, "P1") == 100_000


def test_service_numbers_equal_the_cli_engine(world):
    from yibao.engine.inputs import ClaimFile
    from yibao.settling import settle_file

    db, h = world.db, world.hospital
    claims = [outpatient("C1", "2023-03-01", "1500"), outpatient("C2", "2023-05-01", "2500")]
    served = [
        settlement.settle(db, h, "P2", c, "H001", f"m{i}", "2207")["setlinfo"]
        for i, c in enumerate(claims)
    ]
    local, _ = settle_file(
        ClaimFile.model_validate(
            {
                "region": "erenhot",
                "person": {"id": "P2", "scheme": "employee", "employment": "retired"},
                "claims": claims,
            }
        )
    )
    assert [s["hifp_pay"] for s in served] == [Decimal(s.setlinfo.hifp_pay) / 100 for s in local]


def test_permissions_and_bad_input(world):
    db = world.db
    claim = outpatient("C1", "2023-03-01", "100")
    with pytest.raises(Forbidden):
        settlement.settle(db, world.hospital, "P1", claim, "H002", "x1", "2207")
    with pytest.raises(Forbidden):
        settlement.settle(db, world.auditor, "P1", claim, "H001", "x2", "2207")
    with pytest.raises(NotFound):
        settlement.settle(db, world.hospital, "NOBODY", claim, "H001", "x3", "2207")
    bad = {**claim, "items": [{"code": "A", "price": "-1"}]}
    with pytest.raises(ServiceError, match=r"claim.items\[0\].price: must be >= 0"):
        settlement.settle(db, world.hospital, "P1", bad, "H001", "x4", "2207")
    done = settlement.settle(db, world.hospital, "P1", claim, "H001", "x5", "2207")
    with pytest.raises(NotFound):  # another institution cannot even see it
        settlement.reverse(
            db, world.other_hospital, "P1", done["setlinfo"]["setl_id"], "x6", "2208"
        )


def test_categories_apply_only_inside_their_dates(db):
    from yibao.service import institutions, persons
    from yibao.service.principal import SYSTEM

    key = institutions.add_institution(db, "T1", "通辽市医院", 3, "hospital", "tongliao")
    h = institutions.authenticate(db, key)
    persons.enroll(
        db,
        SYSTEM,
        "tongliao",
        persons.parse_person(
            {
                "id": "R1",
                "scheme": "resident",
                "category_periods": [
                    {
                        "category": "poverty_registered",
                        "valid_from": "2017-03-01",
                        "valid_to": "2017-10-31",
                    }
                ],
            }
        ),
    )
    stay = {
        "id": "H",
        "med_type": "21",
        "hospital_level": 3,
        "items": [{"code": "A", "category": "A", "price": "10000"}],
    }
    # Poor in June: deductible 600 × 50% = 300 (TL-12); in December, not poor: 600.
    june = settlement.settle(
        db, h, "R1", {**stay, "id": "H6", "date": "2017-06-01"}, "T1", "j", "2304"
    )
    dec = settlement.settle(
        db, h, "R1", {**stay, "id": "H12", "date": "2017-12-01"}, "T1", "d", "2304"
    )
    assert june["setlinfo"]["act_pay_dedc"] == Decimal("300.00")
    assert dec["setlinfo"]["act_pay_dedc"] == Decimal("600.00")


def test_a_msgid_is_never_reused_for_another_trade(world):
    db, h = world.db, world.hospital
    done = settlement.settle(
        db, h, "P1", outpatient("C1", "2023-03-01", "100"), "H001", "m", "2207"
    )
    with pytest.raises(Conflict, match="already used for transaction 2207"):
        settlement.reverse(db, h, "P1", done["setlinfo"]["setl_id"], "m", "2208")


def _stay(claim_id: str, admit: str, discharge: str) -> dict:
    return {
        "id": claim_id,
        "date": discharge,
        "admit_date": admit,
        "discharge_date": discharge,
        "med_type": "21",
        "hospital_level": 3,
        "diagnoses": ["K35.8"],
        "items": [{"code": "S009", "category": "A", "price": "5000"}],
    }


def test_readmission_inside_the_window_is_warned_at_settlement(world):
    # G-ALL-6: re-admission within 15 days of a discharge → a split-hospitalization warning.
    db, h = world.db, world.hospital
    first = settlement.settle(
        db, h, "P2", _stay("H1", "2023-03-01", "2023-03-10"), "H001", "w1", "2304"
    )
    assert "warnings" not in first
    pre = settlement.pre_settle(db, h, "P2", _stay("H2", "2023-03-25", "2023-03-30"), "H001")
    assert pre["warnings"][0]["evidence"] == {"days_since_discharge": 15, "threshold": 15}
    late = settlement.settle(
        db, h, "P2", _stay("H3", "2023-03-26", "2023-03-31"), "H001", "w2", "2304"
    )
    assert "warnings" not in late  # day 16 is outside the window
    assert late["setlinfo"]["hifp_pay"] > 0  # a warning never blocks the settlement
