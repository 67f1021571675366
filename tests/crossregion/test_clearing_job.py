"""The monthly clearing job over settlements made by the online service (SQLite + PostgreSQL):
sums, reversals, idempotence, crash-resume, roles."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.crossregion.world import build, file_referral, inpatient, settle_at
from yibao.crossregion import jobs
from yibao.service import settlement
from yibao.service.errors import Forbidden, NotFound, ServiceError
from yibao.store.cross_region import ClearingLine, ClearingRun
from yibao.store.models import AuditEntry


def _fund(answer: dict) -> int:
    return int(answer["setlinfo"]["fund_pay_sumamt"] * 100)


@pytest.fixture
def march(db):
    """Five March stays and one April stay; returns the world and each stay's fund part."""
    world = build(db)
    for psn, region in [("TL1", "qingdao"), ("QD1", "tongliao"), ("EH1", "qingdao"),
                        ("QD1", "erenhot"), ("EH1", "tongliao")]:  # fmt: skip
        file_referral(world, psn, region, 2023)
    paid = {}
    for psn, code in [("TL1", "Q3"), ("QD1", "T3"), ("EH1", "Q3"), ("QD1", "E3"), ("TL1", "T3")]:
        answer = settle_at(
            world, psn, code, inpatient(f"{psn}{code}", "2023-03-01", "2023-03-05", "10000.00")
        )
        paid[(psn, code)] = answer
    settle_at(world, "EH1", "T3", inpatient("APR", "2023-04-01", "2023-04-03", "10000.00"))
    return world, paid


def _audits(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_gross_and_nets_match_the_settlements(march):
    world, paid = march
    # Tongliao resident in Qingdao, referred 转外: (10000 − 1000) × 60% = 5400.00
    assert _fund(paid[("TL1", "Q3")]) == 540_000
    run = jobs.run_clearing(world.db, world.bureau, "2023-03")
    gross = {(g["insured_region"], g["treating_region"]): g["gross_fen"] for g in run["gross"]}
    assert gross == {
        ("tongliao", "qingdao"): 540_000,
        ("qingdao", "tongliao"): _fund(paid[("QD1", "T3")]),
        ("erenhot", "qingdao"): _fund(paid[("EH1", "Q3")]),
        ("qingdao", "erenhot"): _fund(paid[("QD1", "E3")]),
    }  # TL1 at T3 is at home; the April stay is another month
    nets = {(n["a"], n["b"]): n["net_fen"] for n in run["nets"]}
    assert nets[("qingdao", "tongliao")] == gross[("qingdao", "tongliao")] - 540_000
    assert (
        nets[("erenhot", "qingdao")]
        == gross[("erenhot", "qingdao")] - gross[("qingdao", "erenhot")]
    )
    assert run["status"] == "done" and run["written"] == 4
    assert sum(run["positions"].values()) == 0


def test_a_stay_reversed_within_its_month_nets_to_nothing(march):
    world, paid = march
    first = paid[("TL1", "Q3")]["setlinfo"]["setl_id"]
    when = dt.datetime(2023, 3, 20, 9, 0)
    settlement.reverse(world.db, world.hospital["Q3"], "TL1", first, "REV1", "2305", when)
    run = jobs.run_clearing(world.db, world.bureau, "2023-03")
    pairs = {(g["insured_region"], g["treating_region"]) for g in run["gross"]}
    assert ("tongliao", "qingdao") not in pairs
    assert len(pairs) == 3


def test_a_stay_reversed_after_its_month_was_cleared_is_paid_back_in_the_next(march):
    # QA: counting only settlements still `settled` lost the reversal: Tongliao kept paying
    # Qingdao 5,400.00 for a stay that no longer exists
    world, paid = march
    jobs.run_clearing(world.db, world.bureau, "2023-03")
    first = paid[("TL1", "Q3")]["setlinfo"]["setl_id"]
    when = dt.datetime(2023, 4, 10, 9, 0)
    settlement.reverse(world.db, world.hospital["Q3"], "TL1", first, "REV1", "2305", when)
    april = jobs.run_clearing(world.db, world.bureau, "2023-04")
    gross = {(g["insured_region"], g["treating_region"]): g for g in april["gross"]}
    back = gross[("tongliao", "qingdao")]
    assert (back["gross_fen"], back["visits"]) == (-540_000, -1)


def test_a_month_still_running_is_not_cleared(db):
    world = build(db)
    month = f"{dt.date.today():%Y-%m}"
    with pytest.raises(ServiceError, match=f"month: {month} is not over"):
        jobs.run_clearing(world.db, world.bureau, month)


def test_rerunning_a_done_month_writes_nothing(march):
    world, _ = march
    first = jobs.run_clearing(world.db, world.bureau, "2023-03")
    audits = _audits(world.db)
    again = jobs.run_clearing(world.db, world.bureau, "2023-03")
    assert again["written"] == 0
    assert {k: v for k, v in again.items() if k != "written"} == {
        k: v for k, v in first.items() if k != "written"
    }
    assert _audits(world.db) == audits
    with world.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ClearingRun)) == 1
        assert session.scalar(select(func.count()).select_from(ClearingLine)) == 4


class Crash(Exception):
    pass


def test_a_crash_mid_run_resumes_to_the_same_result(march, monkeypatch):
    world, _ = march
    real = jobs.write_line
    calls = []

    def crashing(db, who, month, gross):
        if len(calls) == 2:
            raise Crash("power cut")
        calls.append(gross)
        return real(db, who, month, gross)

    monkeypatch.setattr(jobs, "write_line", crashing)
    with pytest.raises(Crash):
        jobs.run_clearing(world.db, world.bureau, "2023-03")
    with world.db.sessions() as session:
        assert session.get(ClearingRun, "2023-03").status == "running"
        assert session.scalar(select(func.count()).select_from(ClearingLine)) == 2
    monkeypatch.setattr(jobs, "write_line", real)
    resumed = jobs.run_clearing(world.db, world.bureau, "2023-03")
    assert resumed["written"] == 2 and resumed["status"] == "done"
    assert len(resumed["gross"]) == 4
    assert sum(resumed["positions"].values()) == 0
    assert resumed["nets"] == jobs.clearing_view(world.db, world.auditor, "2023-03")["nets"]


def test_an_empty_month_is_done_with_no_lines(march):
    world, _ = march
    run = jobs.run_clearing(world.db, world.bureau, "2023-01")
    assert (run["status"], run["gross"], run["nets"], run["written"]) == ("done", [], [], 0)


def test_roles(march):
    world, _ = march
    with pytest.raises(Forbidden):
        jobs.run_clearing(world.db, world.hospital["Q3"], "2023-03")
    with pytest.raises(Forbidden):
        jobs.run_clearing(world.db, world.auditor, "2023-03")
    with pytest.raises(NotFound):
        jobs.clearing_view(world.db, world.auditor, "2023-03")
    jobs.run_clearing(world.db, world.bureau, "2023-03")
    assert jobs.clearing_view(world.db, world.auditor, "2023-03")["status"] == "done"
    with pytest.raises(Forbidden):
        jobs.clearing_view(world.db, world.hospital["Q3"], "2023-03")
    with pytest.raises(ServiceError, match="month"):
        jobs.run_clearing(world.db, world.bureau, "2023-3")


def test_every_write_is_audited(march):
    world, _ = march
    jobs.run_clearing(world.db, world.bureau, "2023-03")
    with world.db.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("crossregion.clearing.%"))
        ).all()
    assert sorted(actions) == sorted(
        ["crossregion.clearing.start", "crossregion.clearing.done"]
        + ["crossregion.clearing.line"] * 4
    )


def test_a_crash_before_the_run_is_marked_done_resumes(march, monkeypatch):
    world, _ = march
    real = jobs._finish

    def crashing(db, who, month):
        raise Crash("killed before the last transaction")

    monkeypatch.setattr(jobs, "_finish", crashing)
    with pytest.raises(Crash):
        jobs.run_clearing(world.db, world.bureau, "2023-03")
    monkeypatch.setattr(jobs, "_finish", real)
    resumed = jobs.run_clearing(world.db, world.bureau, "2023-03")
    assert (resumed["status"], resumed["written"], len(resumed["gross"])) == ("done", 0, 4)
    with world.db.sessions() as session:
        run = session.get(ClearingRun, "2023-03")
        assert run.pairs == 4 and run.gross_fen == sum(g["gross_fen"] for g in resumed["gross"])


def test_a_reversal_is_not_dated_into_a_month_already_cleared(march):
    # it would be counted in no clearing: Tongliao would keep paying the stay (QA round 4)
    world, paid = march
    jobs.run_clearing(world.db, world.bureau, "2023-03")
    first = paid[("TL1", "Q3")]["setlinfo"]["setl_id"]
    back = dt.datetime(2023, 3, 28, 9, 0)
    with pytest.raises(ServiceError, match="inf_time: 2023-03-28 is in 2023-03, whose cross-"):
        settlement.reverse(world.db, world.hospital["Q3"], "TL1", first, "REV1", "2305", back)
    later = dt.datetime(2023, 4, 2, 9, 0)
    settlement.reverse(world.db, world.hospital["Q3"], "TL1", first, "REV2", "2305", later)
