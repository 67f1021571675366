"""Settlement integrity on SQLite and PostgreSQL: the level and type come from the registered
institution, a claim settles once, a reversal is dated the day it happens, and 3201 selects
by insutype and clr_type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.service.world import build_world, outpatient
from yibao.service import institutions, persons, reconcile, settlement
from yibao.service.errors import Conflict, ServiceError
from yibao.service.principal import SYSTEM
from yibao.store import fastpath
from yibao.store.models import Accumulator, Person, Settlement

MARCH = (dt.date(2023, 3, 1), dt.date(2023, 3, 31))
APRIL = (dt.date(2023, 4, 1), dt.date(2023, 4, 30))


@pytest.fixture
def world(db):
    return build_world(db)


def _pharmacy(db):
    key = institutions.add_institution(db, "P001", "二连浩特大药房", 1, "pharmacy", "erenhot")
    return institutions.authenticate(db, key)


def _purchase(claim_id: str, med_type: str = "41", **extra) -> dict:
    return {
        "id": claim_id,
        "date": "2023-03-01",
        "med_type": med_type,
        "items": [{"code": "A1", "category": "A", "price": "2000"}],
        **extra,
    }


# --- finding 1: the hospital level and the institution's kind -----------------------------


def test_a_claim_without_a_level_settles_at_the_registered_level(world):
    db, h = world.db, world.hospital
    claim = outpatient("C1", "2023-03-01", "2000")
    without = {k: v for k, v in claim.items() if k != "hospital_level"}
    pre_level_3 = settlement.pre_settle(db, h, "P2", claim, "H001")["setlinfo"]
    done = settlement.settle(db, h, "P2", without, "H001", "m1", "2207")["setlinfo"]
    # EH-12: 60% at level 3 (65% retired), not the 70% (75%) of level 1
    assert done["pool_prop_selfpay"] == pre_level_3["pool_prop_selfpay"] == Decimal("0.6500")
    assert done["hifp_pay"] == pre_level_3["hifp_pay"] == Decimal("650.00")


def test_a_claim_at_another_level_than_the_registered_one_is_refused(world):
    db, h = world.db, world.hospital
    level_1 = outpatient("C1", "2023-03-01", "2000", level=1)
    message = r"^claim.hospital_level: 1 is not the registered level 3 of H001$"
    with pytest.raises(ServiceError, match=message):
        settlement.settle(db, h, "P2", level_1, "H001", "m1", "2207")
    with pytest.raises(ServiceError, match=message):
        settlement.pre_settle(db, h, "P2", level_1, "H001")
    with db.sessions() as session:
        assert session.query(Settlement).count() == 0


def test_a_pharmacy_settles_only_pharmacy_purchases(world):
    db, p = world.db, _pharmacy(world.db)
    stay = _purchase("S1", "21", admit_date="2023-02-20", discharge_date="2023-03-01")
    with pytest.raises(ServiceError, match=r"^claim.med_type: 21 cannot be settled at pharmacy"):
        settlement.settle(db, p, "P2", stay, "P001", "m1", "2304")
    for med_type in ("11", "14"):  # no region's policy settles these at a pharmacy
        with pytest.raises(ServiceError, match=f"claim.med_type: {med_type} cannot"):
            settlement.settle(db, p, "P2", _purchase("S2", med_type), "P001", "m2", "2207")
    low = _purchase("S3", hospital_level=1)
    with pytest.raises(ServiceError, match=r"^claim.hospital_level: 1 is not level 3"):
        settlement.settle(db, p, "P2", low, "P001", "m3", "2207")
    bought = settlement.settle(db, p, "P2", _purchase("S4"), "P001", "m4", "2207")["setlinfo"]
    # G-ALL-7: a purchase settles at level 3, as the national flow settles it (65% retired)
    assert bought["pool_prop_selfpay"] == Decimal("0.6500") and bought["clr_type"] == "41"


def test_the_context_read_brings_the_level_and_kind_in_its_one_statement(world):
    db = world.db
    _pharmacy(db)
    with db.engine.connect() as conn:
        hospital = fastpath.read_context(conn, "h", None, "H001", "P1", dt.date(2023, 3, 1))
        pharmacy = fastpath.read_context(conn, "h", None, "P001", "P1", dt.date(2023, 3, 1))
    assert (hospital.institution_level, hospital.institution_kind) == (3, "hospital")
    assert (pharmacy.institution_level, pharmacy.institution_kind) == (1, "pharmacy")


# --- finding 8: a claim settles once ------------------------------------------------------


def test_a_claim_settles_once_until_it_is_reversed(world):
    db, h = world.db, world.hospital
    claim = outpatient("C1", "2023-03-01", "600")
    first = settlement.settle(db, h, "P2", claim, "H001", "first", "2207")
    setl_id = first["setlinfo"]["setl_id"]
    with pytest.raises(Conflict, match=f"^claim C1 already settled as {setl_id}"):
        settlement.settle(db, h, "P2", claim, "H001", "retry-with-a-new-msgid", "2207")
    with pytest.raises(Conflict, match=f"^claim C1 already settled as {setl_id}"):
        settlement.pre_settle(db, h, "P2", claim, "H001")  # told before it is sent again
    assert settlement.settle(db, h, "P2", claim, "H001", "first", "2207") == first  # replay
    # another person's C1, or this person's C1 at another institution, is another claim
    settlement.settle(db, h, "P1", claim, "H001", "p1", "2207")
    at_h002 = outpatient("C1", "2023-03-01", "600", level=1)
    settlement.settle(db, world.other_hospital, "P2", at_h002, "H002", "h2", "2207")
    settlement.reverse(db, h, "P2", setl_id, "undo", "2208", dt.datetime(2023, 3, 2, 9))
    again = settlement.settle(db, h, "P2", claim, "H001", "resettle", "2207")
    assert again["setlinfo"]["setl_id"] != setl_id
    with db.sessions() as session:
        statuses = session.query(Settlement.status).filter(
            Settlement.person_id == "P2", Settlement.institution_code == "H001"
        )
        assert sorted(s for (s,) in statuses) == ["reversal", "reversed", "settled"]


def _blind_to(field: str, monkeypatch) -> None:
    """The context read misses what a racing twin has just committed (`field`), as it would
    had both read before either wrote: the unique indexes must decide."""
    read = fastpath.read_context

    def stale(*args, **kwargs):
        ctx = read(*args, **kwargs)
        return fastpath.Context(**{**vars(ctx), field: None})

    monkeypatch.setattr(fastpath, "read_context", stale)


def test_a_race_of_two_msgids_for_one_claim_settles_it_once(world, monkeypatch):
    db, h = world.db, world.hospital
    claim = outpatient("C1", "2023-03-01", "600")
    first = settlement.settle(db, h, "P2", claim, "H001", "first", "2207")
    _blind_to("settled_as", monkeypatch)
    setl_id = first["setlinfo"]["setl_id"]
    with pytest.raises(Conflict, match=f"^claim C1 already settled as {setl_id}"):
        settlement.settle(db, h, "P2", claim, "H001", "second", "2207")
    with db.sessions() as session:
        assert session.query(Settlement).filter(Settlement.claim_id == "C1").count() == 1
        assert session.get(Accumulator, ("P2", 2023)).settlements == 1


def test_a_race_of_one_msgid_still_replays_the_first_answer(world, monkeypatch):
    db, h = world.db, world.hospital
    claim = outpatient("C1", "2023-03-01", "600")
    first = settlement.settle(db, h, "P2", claim, "H001", "same", "2207")
    _blind_to("stored", monkeypatch)
    _blind_to("settled_as", monkeypatch)
    assert settlement.settle(db, h, "P2", claim, "H001", "same", "2207") == first


# --- finding 2: a reversal is dated the day it happens ------------------------------------


def _totals(db, who, period) -> tuple:
    t = reconcile.reconcile(db, who, *period)
    return t["setl_cnt"], t["medfee_sumamt"], t["fund_pay_sumamt"], t["acct_pay"]


def test_a_reversal_leaves_a_reconciled_month_as_it_was(world):
    db, h = world.db, world.hospital
    settled_at = dt.datetime(2023, 3, 10, 9, 15, 30)
    done = settlement.settle(
        db, h, "P1", outpatient("C1", "2023-03-10", "1500"), "H001", "s", "2207", when=settled_at
    )["setlinfo"]
    assert done["setl_time"] == "2023-03-10 09:15:30"
    march = _totals(db, h, MARCH)
    undone = settlement.reverse(
        db, h, "P1", done["setl_id"], "r", "2208", dt.datetime(2023, 4, 2, 10, 30)
    )["setlinfo"]
    assert undone["setl_time"] == "2023-04-02 10:30:00"
    assert undone["setl_id"].startswith("S20230402")
    assert _totals(db, h, MARCH) == march == (1, Decimal("1500.00"), Decimal("300.00"), 1000)
    assert _totals(db, h, APRIL) == (1, Decimal("-1500.00"), Decimal("-300.00"), -1000)
    with db.sessions() as session:
        assert session.get(Settlement, undone["setl_id"]).setl_date == dt.date(2023, 4, 2)
        assert session.get(Accumulator, ("P1", 2023)).amounts == {}


def test_a_reversal_in_the_next_year_gives_back_the_original_years_amounts(world):
    db, h = world.db, world.hospital
    claim = outpatient("C1", "2023-12-30", "1500")
    done = settlement.settle(db, h, "P2", claim, "H001", "s", "2207")["setlinfo"]
    settlement.settle(db, h, "P2", outpatient("C2", "2024-01-03", "1200"), "H001", "t", "2207")
    with db.sessions() as session:
        year_2024 = dict(session.get(Accumulator, ("P2", 2024)).amounts)
    settlement.reverse(db, h, "P2", done["setl_id"], "r", "2208", dt.datetime(2024, 1, 5, 8))
    with db.sessions() as session:
        assert session.get(Accumulator, ("P2", 2023)).amounts == {}
        assert session.get(Accumulator, ("P2", 2024)).amounts == year_2024


# --- finding 3: 3201 by insutype and clr_type ---------------------------------------------


@pytest.fixture
def qingdao(db):
    """An employee (310) and a resident (390), each with an outpatient visit and a stay."""
    key = institutions.add_institution(db, "Q001", "青岛市立医院", 3, "hospital", "qingdao")
    q = institutions.authenticate(db, key)
    enroll_in = {"id": "QE", "scheme": "employee", "employment": "in_service"}
    persons.enroll(db, SYSTEM, "qingdao", persons.parse_person(enroll_in))
    persons.enroll(db, SYSTEM, "qingdao", persons.parse_person({"id": "QR", "scheme": "resident"}))
    stay = {
        "med_type": "21",
        "date": "2023-10-01",
        "admit_date": "2023-10-01",
        "discharge_date": "2023-10-10",
        "items": [{"code": "A1", "category": "A", "price": "8000"}],
    }
    for psn in ("QE", "QR"):
        visit = outpatient(f"{psn}-O", "2023-10-10", "600")
        settlement.settle(db, q, psn, visit, "Q001", f"{psn}-o", "2207")
        settlement.settle(db, q, psn, {**stay, "id": f"{psn}-I"}, "Q001", f"{psn}-i", "2304")
    return db, q


def _statement(db, who, insutype=None, clr_type=None) -> dict:
    october = (dt.date(2023, 10, 1), dt.date(2023, 10, 31))
    selection = reconcile.Selection(insutype=insutype, clr_type=clr_type)
    return reconcile.statement(db, who, *october, None, {}, selection)


def test_3201_totals_only_the_insutype_and_clr_type_asked_for(qingdao):
    db, q = qingdao
    everything = _statement(db, q)
    assert everything["setl_cnt"] == 4 and "insutype" not in everything
    employee = _statement(db, q, insutype="310")
    assert employee["setl_cnt"] == 2 and employee["insutype"] == "310"
    assert {f["fund_pay_type"][:3] for f in employee["funds"]} <= {"310", "330", "320"}
    inpatient = _statement(db, q, clr_type="21")
    assert inpatient["setl_cnt"] == 2 and inpatient["clr_type"] == "21"
    one = _statement(db, q, insutype="390", clr_type="11")
    assert one["setl_cnt"] == 1 and one["medfee_sumamt"] == Decimal("600.00")
    parts = [_statement(db, q, i, c) for i in ("310", "390") for c in ("11", "21")]
    assert sum(p["medfee_sumamt"] for p in parts) == everything["medfee_sumamt"]
    assert _statement(db, q, insutype="320")["setl_cnt"] == 0  # national, none settled
    assert _statement(db, q, clr_type="41")["setl_cnt"] == 0


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ({"insutype": "999"}, r"^insutype: 999 is not a 险种类型 code \(310, 320"),
        ({"clr_type": "12"}, r"^clr_type: 12 is not a 清算类别 code \(11, 21, 41, 99\)$"),
    ],
)
def test_3201_refuses_unknown_codes(world, selection, message):
    with pytest.raises(ServiceError, match=message):
        _statement(world.db, world.hospital, **selection)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            {"code": "C002", "name": "保健按摩", "category": "A", "price": "200"},
            "claim.items[0].category: A, but the catalogue lists C002 as C",
        ),
        (
            {
                "code": "S002",
                "name": "床位",
                "category": "A",
                "price": "100",
                "price_limit": "1000",
            },
            "claim.items[0].price_limit: 1000.00 is above the catalogue's 60.00 for S002",
        ),
    ],
)
def test_a_listed_item_keeps_the_catalogues_class_and_limit(world, line, message):
    # a 丙类 massage sent as 甲类, or a bed above its 限价, would be paid by the fund
    claim = {**outpatient("C1", "2023-03-01", "1"), "items": [line]}
    for run in (settlement.pre_settle, settlement.settle):
        args = ("msg-cat", "2207") if run is settlement.settle else ()
        with pytest.raises(ServiceError) as refused:
            run(world.db, world.hospital, "P2", claim, "H001", *args)
        assert refused.value.message == message
    lower = {**line, "category": None, "price_limit": "50"}  # stricter than the catalogue: fine
    ok = {**outpatient("C2", "2023-03-01", "1"), "items": [lower]}
    assert settlement.pre_settle(world.db, world.hospital, "P2", ok, "H001")["setlinfo"]


def test_enrollment_follows_the_claim_files_employment_rule():
    # refused when enrolled, not at the first settlement
    with pytest.raises(ValueError, match="a resident has none"):
        persons.PersonIn(id="R1", scheme="resident", employment="retired")
    with pytest.raises(ValueError, match="required for an employee"):
        persons.PersonIn(id="E1", scheme="employee")


def test_a_stored_person_the_engine_refuses_is_a_clear_error_not_a_500():
    from types import SimpleNamespace

    legacy = SimpleNamespace(
        id="R1", scheme="resident", employment="retired", birth_date=None, sex=None,
        flags=[], products=[],
    )  # fmt: skip
    with pytest.raises(ServiceError, match=r"^person R1: the stored enrollment is refused"):
        persons.engine_view(legacy, [], [], {})


def test_enrollments_of_one_id_number_at_once_enroll_one_person(db):
    # the check-then-insert raced on PostgreSQL (QA: 4 of 8 enrolled) before the lock
    from concurrent.futures import ThreadPoolExecutor

    from yibao.service.identity import with_check_digit

    certno = with_check_digit("15250119800101123")

    def enroll(k: int) -> str:
        person = persons.PersonIn(id=f"T{k}", scheme="resident", certno=certno)
        try:
            persons.enroll(db, SYSTEM, "erenhot", person)
            return "enrolled"
        except (Conflict, ServiceError):
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(enroll, range(8)))
    assert sorted(outcomes) == ["enrolled"] + ["refused"] * 7


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (dt.datetime(2023, 2, 28, 9), "inf_time: 2023-02-28 is before the date 2023-03-01"),
        (dt.datetime(2099, 3, 1, 9), "inf_time: 2099-03-01 is in the future"),
    ],
)
def test_a_reversal_is_not_dated_before_its_settlement_nor_in_the_future(world, when, message):
    db, h = world.db, world.hospital
    done = settlement.settle(
        db, h, "P2", outpatient("C1", "2023-03-01", "600"), "H001", "s", "2207"
    )
    setl_id = done["setlinfo"]["setl_id"]
    with pytest.raises(ServiceError, match=f"^{message}"):
        settlement.reverse(db, h, "P2", setl_id, "r", "2208", when)
    settlement.reverse(db, h, "P2", setl_id, "r2", "2208", dt.datetime(2023, 3, 1, 17))


def test_a_claim_still_to_come_is_not_settled(world):
    db, h = world.db, world.hospital
    ahead = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(ServiceError, match=f"^claim.date: {ahead} is in the future"):
        settlement.settle(db, h, "P2", outpatient("C1", ahead, "600"), "H001", "s", "2207")
    with db.sessions() as session:
        assert session.query(Settlement).count() == 0
    with pytest.raises(ServiceError, match=f"^claim.date: {ahead} is in the future"):
        settlement.pre_settle(db, h, "P2", outpatient("C1", ahead, "600"), "H001")
    today = dt.date.today().isoformat()
    later_line = outpatient("C3", today, "600")
    later_line["items"][0]["date"] = ahead  # a line of care still to come (QA)
    with pytest.raises(ServiceError, match=f"^claim.items\\[0\\].date: {ahead} is in the"):
        settlement.settle(db, h, "P2", later_line, "H001", "u", "2207")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()  # the sender's clock ahead
    settlement.settle(db, h, "P2", outpatient("C2", tomorrow, "600"), "H001", "t", "2207")


def test_a_listed_items_ratio_and_an_overlong_claim_id_are_refused(world):
    # a listed 乙类 item's 先行自付 ratio is the catalogue's or region's (QA: 0 zeroed it)
    line = {"code": "XC08CAA001", "name": "x", "price": "100", "selfpay_ratio": "0"}
    claim = {**outpatient("C1", "2023-03-01", "1"), "items": [line]}
    with pytest.raises(ServiceError, match=r"^claim\.items\[0\]\.selfpay_ratio: XC08CAA001"):
        settlement.pre_settle(world.db, world.hospital, "P2", claim, "H001")
    # the settlements.claim_id column holds 60: longer was a 500 on PostgreSQL
    long = outpatient("C" * 61, "2023-03-01", "1")
    with pytest.raises(ServiceError, match=r"^claim\.id: at most 60 characters, got 61"):
        settlement.settle(world.db, world.hospital, "P2", long, "H001", "m", "2207")


def test_a_relatives_account_in_another_region_is_not_bound(world):
    # QA: an Erenhot employee's account paid a Qingdao resident's bill and contribution
    raw = {"id": "QD777", "scheme": "resident", "family": [{"holder": "P1", "relation": "child"}]}
    message = r"^person.family\[0\].holder: P1 is insured in erenhot, not qingdao"
    with pytest.raises(ServiceError, match=message):
        persons.enroll(world.db, SYSTEM, "qingdao", persons.parse_person(raw))
    with world.db.sessions() as session:
        assert session.get(Person, "QD777") is None  # nothing half-written
