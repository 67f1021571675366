"""Enrollment refuses what settlement would refuse at every claim afterwards, and survives a
race (found by a database engineer's QA pass)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.service.world import build_world, enroll
from yibao.service import persons, settlement
from yibao.service.errors import ServiceError
from yibao.service.principal import SYSTEM
from yibao.store.models import Account, AccountEntry, FamilyBinding


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.mark.parametrize(
    ("family", "message"),
    [
        ([{"holder": "Q1", "relation": "spouse"}], "person.family[0].holder: the person's own"),
        (
            [{"holder": "P1", "relation": "spouse"}, {"holder": "P1", "relation": "child"}],
            "person.family[1].holder: P1 is listed twice (also [0])",
        ),
        ([{"holder": "R1", "relation": "parent"}], "person.family[0].holder: R1 is a resident"),
    ],
)
def test_family_bindings_settlement_would_refuse_are_refused(world, family, message):
    enroll(world.db, "R1", scheme="resident", employment=None)
    enroll(world.db, "Q1")
    with pytest.raises(ServiceError) as refused:
        enroll(world.db, "Q1", family=family)
    assert refused.value.message.startswith(message)
    with world.db.sessions() as session:  # nothing half-written: Q1 keeps no binding
        assert session.query(FamilyBinding).filter_by(person_id="Q1").count() == 0


def test_a_resident_has_no_account_of_their_own(world):
    with pytest.raises(ServiceError, match="a resident has no personal account"):
        enroll(world.db, "R2", scheme="resident", employment=None, account_balance="10.00")
    enroll(world.db, "R2", scheme="resident", employment=None)
    with pytest.raises(ServiceError, match="R2 is a resident"):
        persons.credit_account(world.db, SYSTEM, "R2", 1000, "credit")


def test_one_new_person_enrolled_twenty_times_at_once(world):
    raw = {"id": "RACE1", "scheme": "employee", "employment": "in_service"}
    raw["account_balance"] = "100.00"

    def once(_: int) -> bool:
        return persons.enroll(world.db, SYSTEM, "erenhot", persons.parse_person(raw))["created"]

    with ThreadPoolExecutor(20) as pool:
        created = list(pool.map(once, range(20)))
    assert created.count(True) == 1 and created.count(False) == 19
    with world.db.sessions() as session:
        assert session.get(Account, "RACE1").balance == 10_000
        assert session.query(AccountEntry).filter_by(person_id="RACE1").count() == 1


def test_reversals_refund_accounts_in_id_order():
    # a settlement locks accounts in id order; a reversal refunding the person's own and a
    # relative's account whose id sorts first must lock in the same order (QA: deadlocks)
    locked: list[str] = []
    refunds = {"own": 500, "family": {"A0": 300}}

    class Session:
        def scalars(self, query):
            holder = query.whereclause.right.value
            locked.append(holder)
            return type("R", (), {"one": lambda _s: Account(person_id=holder, balance=0)})()

        def add(self, _row) -> None:
            pass

    settlement._refund_accounts(Session(), "Z9", refunds, "S1")
    assert locked == ["A0", "Z9"]


def test_a_holder_cannot_become_a_resident_while_their_account_pays_for_family(world):
    enroll(world.db, "K1", family=[{"holder": "P1", "relation": "child"}])
    with pytest.raises(ServiceError) as refused:
        enroll(world.db, "P1", scheme="resident", employment=None)
    assert refused.value.message.startswith("person.scheme: P1's account pays for family (K1)")
    enroll(world.db, "K1")  # unbound: P1 may now become a resident
    enroll(world.db, "P1", scheme="resident", employment=None)


def test_one_person_with_family_enrolled_twenty_times_at_once(world):
    # each enrollment deletes and re-adds the person's bindings: two at once collided on
    # PostgreSQL (QA: 13 of 20 answered 500)
    raw = {"id": "RACE2", "scheme": "employee", "employment": "in_service"}
    raw["family"] = [{"holder": "P1", "relation": "spouse"}]

    def once(_: int) -> bool:
        return persons.enroll(world.db, SYSTEM, "erenhot", persons.parse_person(raw))["created"]

    with ThreadPoolExecutor(20) as pool:
        created = list(pool.map(once, range(20)))
    assert created.count(True) == 1
    with world.db.sessions() as session:
        assert session.query(FamilyBinding).filter_by(person_id="RACE2").count() == 1
