"""Case use cases on SQLite and PostgreSQL: idempotent import, steps and audit entries in one
transaction, append-only steps, visibility, precision fed by decisions."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import delete, inspect, select, update
from sqlalchemy.exc import DBAPIError

from tests.cases.helpers import AUDITOR, AUDITOR_2, BUREAU, HOSPITAL, OTHER, flag, flags
from tests.databases import PG_URL, _admin, postgres_problem
from tests.supervision.cases import claim_file, item, stay, visit
from tests.supervision.cases import flags as supervised_flags
from yibao.cases import service
from yibao.cases.flags import parse_flags
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.store.cases import CaseFlag, CaseStep, SupervisionCase
from yibao.store.db import Database
from yibao.store.migrate import alembic_config
from yibao.store.models import AuditEntry

ONE = flags(flag(claims=("C1",), amount_fen=12_345))


def confirmed_case(db, raw=ONE) -> int:
    """A case taken through review, re-review, appeal and a confirming decision."""
    case_id = service.import_flags(db, BUREAU, raw)["case_ids"][0]
    service.review(db, AUDITOR, case_id, "lines repeat", "confirm")
    service.re_review(db, AUDITOR_2, case_id, "agreed", "confirm")
    service.appeal(db, HOSPITAL, case_id, "the items were given twice")
    service.decide(db, BUREAU, case_id, "confirmed", "no record of a second dose")
    return case_id


def count(db, model) -> int:
    with db.sessions() as s:
        return len(s.scalars(select(model)).all())


def test_importing_the_same_flags_twice_opens_each_case_once(db):
    # C1 twice: two findings of one key (other evidence), which add up
    raw = flags(
        flag(claims=("C1",)), flag(claims=("C2",)), flag(claims=("C1",), evidence={"value": 5})
    )
    first = service.import_flags(db, BUREAU, raw)
    assert (first["opened"], first["already_open"]) == (2, 0)  # C1 twice: one key, one case
    again = service.import_flags(db, BUREAU, raw)
    assert (again["opened"], again["already_open"], again["case_ids"]) == (0, 3, [])
    grouped = service.import_flags(db, BUREAU, raw, group=True)
    assert grouped["opened"] == 0  # grouping never reopens a known flag
    assert count(db, SupervisionCase) == 2 and count(db, CaseFlag) == 2
    case = service.case_view(db, BUREAU, first["case_ids"][0])
    assert case["amount_at_risk_fen"] == 20_000  # the two C1 flags of 100.00 yuan each
    assert [f["evidence"]["value"] for f in case["flags"]] == [4, 5]  # evidence copied in


def test_flags_of_yibao_supervise_open_cases(db):
    # the stays C1 (discharged 03-10) and C2 (admitted 03-20, same J18) are a split
    # hospitalization; G001 at a pharmacy is a non-medical good: two flags, two cases
    found = supervised_flags(
        claim_file(
            [
                stay("C1", "2023-03-01", "2023-03-10"),
                stay("C2", "2023-03-20", "2023-03-25"),
                visit("C3", "2023-05-01", [item("G001", "45")], med_type="41"),
            ]
        )
    )
    done = service.import_flags(db, BUREAU, parse_flags({"flags": found}))
    assert done["opened"] == len(found) == 2
    cases = service.list_cases(db, AUDITOR)
    assert {c["rule"] for c in cases} == {"split_hospitalization", "pharmacy_non_medical"}
    assert [c["amount_at_risk_fen"] for c in cases] == [f["amount_at_risk_fen"] for f in found]
    level = flag("institution_outlier", person=None, claims=(), evidence={"value": 9.5})
    assert service.import_flags(db, BUREAU, flags(level, level))["opened"] == 1
    assert service.list_cases(db, HOSPITAL, rule="institution_outlier")[0]["person_id"] is None


def test_grouped_import_makes_one_case_per_rule_person_institution(db):
    raw = flags(flag(claims=("C1",)), flag(claims=("C2",)), flag(claims=("C3",), person="P2"))
    done = service.import_flags(db, BUREAU, raw, group=True)
    assert done["opened"] == 2
    case = service.case_view(db, BUREAU, done["case_ids"][0])
    assert (case["claim_ids"], case["amount_at_risk_fen"]) == (["C1", "C2"], 20_000)


def test_every_step_is_a_step_row_and_an_audit_entry(db):
    case_id = confirmed_case(db)
    service.recover(db, BUREAU, case_id, 10_000, "deducted from the next payment")
    view = service.recover(db, BUREAU, case_id, 2_345)
    assert (view["status"], view["recovered_fen"]) == ("recovered", 12_345)  # adds up
    actions = ["open", "review", "re_review", "appeal", "decision", "recovery", "recovery"]
    assert [s["action"] for s in view["steps"]] == actions
    assert [s["seq"] for s in view["steps"]] == list(range(1, 8))
    assert [s["actor"] for s in view["steps"]] == [
        "clerk", "inspector", "inspector-2", "H001", "clerk", "clerk", "clerk",
    ]  # fmt: skip
    with db.sessions() as s:
        audited = s.scalars(
            select(AuditEntry).where(AuditEntry.target == f"case/{case_id}").order_by(AuditEntry.id)
        ).all()
    assert [a.action for a in audited] == [f"case.{a}" for a in actions]
    assert audited[-1].detail == {
        "from_status": "recovered", "to_status": "recovered", "seq": 7,
        "amount_fen": 2_345, "total_fen": 12_345,
    }  # fmt: skip
    assert (audited[4].role, audited[4].detail["outcome"]) == ("bureau", "confirmed")


def test_a_refused_step_writes_nothing(db):
    case_id = service.import_flags(db, BUREAU, ONE)["case_ids"][0]
    with pytest.raises(Conflict, match=f"case {case_id}: case is open: decision is not possible"):
        service.decide(db, BUREAU, case_id, "confirmed", "too early")
    with pytest.raises(Forbidden, match="only the auditor may"):
        service.review(db, BUREAU, case_id, "n", "confirm")
    assert count(db, CaseStep) == 1
    with db.sessions() as s:
        assert s.scalars(select(AuditEntry.action)).all() == ["case.open"]


def test_the_step_and_its_audit_entry_commit_together(db, monkeypatch):
    case_id = service.import_flags(db, BUREAU, ONE)["case_ids"][0]

    def broken(*_args, **_kw):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(service.audit, "record", broken)
    with pytest.raises(RuntimeError):
        service.review(db, AUDITOR, case_id, "n", "confirm")
    assert service.case_view(db, BUREAU, case_id)["status"] == "open"
    assert count(db, CaseStep) == 1


@pytest.mark.parametrize("change", ["update", "delete"])
def test_steps_are_append_only(db, change):
    service.import_flags(db, BUREAU, ONE)
    statement = update(CaseStep).values(actor="someone else") if change == "update" else None
    statement = statement if statement is not None else delete(CaseStep)
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
        s.execute(statement)


def test_institutions_see_and_appeal_only_their_own_cases(db):
    raw = flags(flag(claims=("C1",)), flag(claims=("C2",), institution="H002"))
    mine, theirs = service.import_flags(db, BUREAU, raw)["case_ids"]
    assert [c["id"] for c in service.list_cases(db, HOSPITAL)] == [mine]
    assert [c["id"] for c in service.list_cases(db, AUDITOR)] == [mine, theirs]
    assert service.list_cases(db, HOSPITAL, institution="H002") == []
    with pytest.raises(NotFound, match=f"case {theirs} not found"):
        service.case_view(db, HOSPITAL, theirs)
    service.review(db, AUDITOR, theirs, "n", "confirm")
    service.re_review(db, AUDITOR_2, theirs, "n", "confirm")
    with pytest.raises(NotFound):
        service.appeal(db, HOSPITAL, theirs, "not ours")
    assert service.appeal(db, OTHER, theirs, "ours")["status"] == "appealed"
    with pytest.raises(Forbidden):
        service.import_flags(db, AUDITOR, ONE)
    with pytest.raises(Forbidden):
        service.precision(db, HOSPITAL)


def test_without_an_appeal_the_decision_waits_for_the_window(db, monkeypatch):
    case_id = service.import_flags(db, BUREAU, ONE)["case_ids"][0]
    monkeypatch.setattr(service, "today", lambda: dt.date(2026, 3, 2))
    service.review(db, AUDITOR, case_id, "n", "dismiss")
    view = service.re_review(db, AUDITOR_2, case_id, "n", "dismiss")
    assert view["appeal_deadline"] == dt.date(2026, 3, 17)  # 15 days (G-ALL-9)
    with pytest.raises(Conflict, match="may appeal until 2026-03-17"):
        service.decide(db, BUREAU, case_id, "dismissed", "billing error corrected")
    monkeypatch.setattr(service, "today", lambda: dt.date(2026, 3, 18))
    with pytest.raises(Conflict, match="appeal window closed on 2026-03-17"):
        service.appeal(db, HOSPITAL, case_id, "late")
    view = service.decide(db, BUREAU, case_id, "dismissed", "billing error corrected")
    assert (view["status"], view["decision_reason"]) == ("dismissed", "billing error corrected")
    assert view["steps"][-1]["day"] == dt.date(2026, 3, 18)


@pytest.mark.parametrize(("rule", "waits"), [("deceased_person", False), ("over_frequency", True)])
def test_only_an_identity_case_naming_no_institution_skips_the_window(db, rule, waits):
    # workflow.yaml's identity_rules (EH-37 人证相符) include deceased_person, not over_frequency
    case_id = service.import_flags(db, BUREAU, flags(flag(rule, institution=None)))["case_ids"][0]
    service.review(db, AUDITOR, case_id, "n", "confirm")
    service.re_review(db, AUDITOR_2, case_id, "n", "confirm")
    if waits:
        with pytest.raises(Conflict, match="over_frequency is not an identity rule"):
            service.decide(db, BUREAU, case_id, "confirmed", "r")
    else:
        assert service.decide(db, BUREAU, case_id, "confirmed", "r")["status"] == "confirmed"


def test_recovery_above_the_amount_at_risk_needs_a_justification(db):
    case_id = confirmed_case(db)
    # 123.45 + 0.01 = 123.46 yuan, above the 123.45 yuan at risk
    with pytest.raises(Conflict, match=r"123\.46 in all would exceed the amount at risk 123\.45;"):
        service.recover(db, BUREAU, case_id, 12_346)
    view = service.recover(db, BUREAU, case_id, 20_000, justification="penalty of the agreement")
    assert view["recovered_fen"] == 20_000
    assert view["steps"][-1]["detail"]["justification"] == "penalty of the agreement"


def test_decisions_feed_each_rules_precision(db, monkeypatch):
    monkeypatch.setattr(service, "today", lambda: dt.date(2026, 3, 2))
    raw = flags(
        *[flag("split_hospitalization", claims=(f"S{i}",)) for i in range(4)],
        flag("split_hospitalization", claims=("Q1",), region="qingdao"),
        *[flag("duplicate_charge", claims=(f"D{i}",)) for i in range(3)],
    )
    ids = service.import_flags(db, BUREAU, raw)["case_ids"]
    outcomes = ["confirmed", "confirmed", "dismissed", None, "confirmed", "confirmed", None, None]
    for case_id, outcome in zip(ids, outcomes, strict=True):
        service.review(db, AUDITOR, case_id, "n", "confirm")
        service.re_review(db, AUDITOR_2, case_id, "n", "confirm")
        if outcome:
            service.appeal(db, HOSPITAL, case_id, "no")
            service.decide(db, BUREAU, case_id, outcome, "r")
    table = service.precision(db, AUDITOR)
    rules = {r["rule"]: r for r in table["rules"]}
    # split: erenhot 2 confirmed + 1 dismissed + 1 open, qingdao 1 confirmed → 3 of 4 = 0.75
    split = rules["split_hospitalization"]
    assert (split["confirmed"], split["dismissed"], split["undecided"]) == (3, 1, 1)
    assert split["precision"] == Decimal("0.7500")
    assert rules["duplicate_charge"]["precision"] == Decimal("1.0000")  # 1 of 1 decided
    regions = {(r["rule"], r["region"]): r["precision"] for r in table["regions"]}
    assert regions[("split_hospitalization", "erenhot")] == Decimal("0.6667")  # 2 of 3
    assert regions[("split_hospitalization", "qingdao")] == Decimal("1.0000")


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0004(request, tmp_path):
    """A fresh database migrated only up to 0004, so later revisions play no part."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'at_0004.db'}"
        command.upgrade(alembic_config(url), "0004")
        yield url
        return
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    name = f"yibao_cases_{uuid.uuid4().hex[:10]}"
    _admin(f"CREATE DATABASE {name}")
    try:
        url = PG_URL.format(name=name)
        command.upgrade(alembic_config(url), "0004")
        yield url
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_migration_0004_downgrades_and_upgrades(at_0004):
    config = alembic_config(at_0004)
    command.downgrade(config, "0003")
    db = Database(at_0004)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert "settlements" in tables
        assert not tables & {
            "supervision_cases",
            "supervision_case_steps",
            "supervision_case_flags",
        }
        command.upgrade(config, "0004")
        service.import_flags(db, BUREAU, ONE)  # the tables and the triggers are back
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(delete(CaseStep))
    finally:
        db.dispose()


def test_two_concurrent_reviews_of_one_case_accept_exactly_one(db):
    case_id = service.import_flags(db, BUREAU, ONE)["case_ids"][0]
    start = threading.Barrier(2)

    def attempt(who) -> str:
        start.wait()
        try:
            service.review(db, who, case_id, "n", "confirm")
        except Conflict:
            return "refused"
        return "accepted"

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(attempt, [AUDITOR, AUDITOR_2]))
    assert results == ["accepted", "refused"]
    assert [s["action"] for s in service.case_view(db, BUREAU, case_id)["steps"]] == [
        "open",
        "review",
    ]


def test_text_postgresql_cannot_store_is_refused_before_the_database(db):
    case_id = service.import_flags(db, BUREAU, ONE)["case_ids"][0]
    with pytest.raises(ServiceError, match="note: must not contain NUL"):
        service.review(db, AUDITOR, case_id, "a\x00b", "confirm")
    with pytest.raises(ServiceError, match=r"flags\[0\]\.person_id: must not contain NUL"):
        parse_flags([{**flag(), "person_id": "P\x00"}])
    assert service.case_view(db, BUREAU, case_id)["status"] == "open"


# ---------------------------------------------------------------- a later monitoring run
def month(n: int, **kw) -> list:
    """An over_frequency flag of n visits G01…Gn, the d-th costing 10 + d yuan: those beyond
    the 12th are at risk (13 visits: 23.00; 14: 23.00 + 24.00 = 47.00)."""
    at_risk = sum(1000 + 100 * d for d in range(13, n + 1))
    claims = tuple(f"G{d:02d}" for d in range(1, n + 1))
    return flags(flag("over_frequency", claims=claims, amount_fen=at_risk, **kw))


def test_a_later_run_adds_to_the_open_case_with_an_update_step(db):
    first = service.import_flags(db, BUREAU, month(13))["case_ids"][0]
    done = service.import_flags(db, BUREAU, month(14))
    assert (done["opened"], done["updated"], done["updated_case_ids"]) == (0, 1, [first])
    case = service.case_view(db, BUREAU, first)
    assert case["amount_at_risk_fen"] == 4_700 and case["claim_ids"][-1] == "G14"
    update = case["steps"][-1]
    assert (update["action"], update["seq"], update["actor"]) == ("update", 2, "clerk")
    assert update["detail"] == {
        "flags": 1, "added_claim_ids": ["G14"],
        "amount_at_risk_fen": {"before": 2_300, "after": 4_700},
    }  # fmt: skip
    with db.sessions() as s:
        audited = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert audited == ["case.open", "case.update"]
    again = service.import_flags(db, BUREAU, month(14))
    assert (again["opened"], again["updated"], again["already_open"]) == (0, 0, 1)


def test_a_later_run_opens_only_what_is_new_once_a_case_is_decided(db):
    first = confirmed_case(db, month(13))
    done = service.import_flags(db, BUREAU, month(14))
    assert (done["opened"], done["updated"]) == (1, 0)
    case = service.case_view(db, BUREAU, done["case_ids"][0])
    # 4,700 fen of 14 visits - 2,300 fen case 1 holds = 2,400 fen, the 14th visit
    assert (case["claim_ids"], case["amount_at_risk_fen"]) == (["G14"], 2_400)
    assert case["steps"][0]["detail"]["extends"] == [first]
    assert service.case_view(db, BUREAU, first)["amount_at_risk_fen"] == 2_300  # unchanged
    assert service.import_flags(db, BUREAU, month(14))["opened"] == 0


def test_one_person_id_in_two_regions_is_two_cases(db):
    done = service.import_flags(db, BUREAU, month(13, region="tongliao") + month(13))
    assert done["opened"] == 2
    later = service.import_flags(db, BUREAU, month(14, region="tongliao"))
    assert later["updated_case_ids"] == [done["case_ids"][0]]  # the Tongliao case only
    assert service.case_view(db, BUREAU, done["case_ids"][1])["amount_at_risk_fen"] == 2_300
