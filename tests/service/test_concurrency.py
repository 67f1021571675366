"""Concurrent settlements for one person, and crashes mid-transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.service.world import build_world, enroll, outpatient
from yibao.service import settlement
from yibao.store.models import Account, AccountEntry, Accumulator, Idempotency, Settlement

THREADS = 20


@pytest.fixture
def world(db):
    return build_world(db)


def _state(db, psn: str) -> tuple[dict, int, int]:
    with db.sessions() as s:
        acc = s.get(Accumulator, (psn, 2023))
        count = s.scalar(
            select(func.count()).select_from(Settlement).where(Settlement.person_id == psn)
        )
        return dict(acc.amounts), acc.settlements, count


def test_twenty_threads_for_one_person_consume_deductible_and_cap_as_a_serial_run(world):
    # 20 visits of 800 in scope (retired, level 3): the 1000 deductible (EH-10) and the 5000
    # annual cap (EH-11) must be consumed exactly once, whatever the interleaving.
    db, h = world.db, world.hospital
    enroll(db, "SERIAL", employment="retired")
    enroll(db, "PARALLEL", employment="retired")
    claims = [outpatient(f"C{i}", "2023-06-01", "800") for i in range(THREADS)]
    for i, claim in enumerate(claims):
        settlement.settle(db, h, "SERIAL", claim, "H001", f"s-{i}", "2207")

    def one(i: int) -> dict:
        return settlement.settle(db, h, "PARALLEL", claims[i], "H001", f"p-{i}", "2207")

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(one, range(THREADS)))
    serial, parallel = _state(db, "SERIAL"), _state(db, "PARALLEL")
    assert parallel == serial
    assert parallel[0]["deductible:general_outpatient"] == 100_000
    assert parallel[0]["pool"] == 500_000  # the retired cap, not a fen more
    assert sum(a["setlinfo"]["act_pay_dedc"] for a in answers) == 1000
    assert sum(a["setlinfo"]["hifp_pay"] for a in answers) == 5000


def test_concurrent_retries_of_one_msgid_settle_once(world):
    db, h = world.db, world.hospital
    claim = outpatient("C1", "2023-06-01", "3000")

    def retry(_: int) -> dict:
        return settlement.settle(db, h, "P2", claim, "H001", "one-msgid", "2207")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(retry, range(8)))
    assert all(a == answers[0] for a in answers)
    assert _state(db, "P2")[1:] == (1, 1)


CRASH = textwrap.dedent("""
    import os, sys
    from yibao.service import settlement
    from yibao.service.institutions import authenticate
    from yibao.store.db import Database

    db = Database(sys.argv[1])
    who = authenticate(db, sys.argv[2])
    def die(*args, **kwargs):
        os._exit(17)  # the process dies with the transaction open: no commit, no cleanup
    settlement._debit_accounts = die
    settlement.settle(db, who, "P1", {"id": "C1", "date": "2023-03-01", "med_type": "11",
        "hospital_level": 3, "items": [{"code": "A", "category": "A", "price": "1500"}]},
        "H001", "crash-msg", "2207")
""")


def test_a_crash_mid_transaction_leaves_no_half_settlement(world):
    db = world.db
    done = subprocess.run(
        [sys.executable, "-c", CRASH, db.url, world.keys["hospital"]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 17, done.stderr
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Settlement)) == 0
        assert s.get(Accumulator, ("P1", 2023)) is None
        assert s.scalar(select(Idempotency).where(Idempotency.msgid == "crash-msg")) is None
        assert s.get(Account, "P1").balance == 100_000
        kinds = s.scalars(select(AccountEntry.kind).where(AccountEntry.person_id == "P1")).all()
        assert kinds == ["credit"]
    # The lock died with the process: the same message settles normally now.
    again = settlement.settle(
        db,
        world.hospital,
        "P1",
        outpatient("C1", "2023-03-01", "1500"),
        "H001",
        "crash-msg",
        "2207",
    )
    assert again["setlinfo"]["hifp_pay"] == 300


def test_an_error_inside_the_transaction_rolls_everything_back(world, monkeypatch):
    db = world.db

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(settlement, "_debit_accounts", boom)
    with pytest.raises(RuntimeError):
        settlement.settle(
            db, world.hospital, "P1", outpatient("C1", "2023-03-01", "1500"), "H001", "m", "2207"
        )
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Settlement)) == 0
        assert s.get(Account, "P1").balance == 100_000
