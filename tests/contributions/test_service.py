"""Issuing bills, the monthly crediting job and family contribution payments, on SQLite and
PostgreSQL (`db` fixture): idempotent, resumable after a crash, audited, authorized."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.service.world import build_world, enroll
from yibao.contributions.service.bills import issue_unit_bill
from yibao.contributions.service.crediting import run_crediting
from yibao.contributions.service.payments import pay_contribution
from yibao.service import persons
from yibao.service.errors import Conflict, Forbidden, ServiceError
from yibao.service.identity import with_check_digit
from yibao.service.principal import SYSTEM
from yibao.store.contributions import (
    AccountCredit,
    ContributionBase,
    ContributionBill,
    CreditingRun,
)
from yibao.store.models import Account, AccountEntry, AuditEntry


class Crash(RuntimeError):
    pass


def unit_file(*members: tuple[str, str | None]) -> dict:
    return {
        "region": "erenhot",
        "unit": {"id": "EH-U1", "name": "口岸物流"},
        "members": [
            {"psn_no": p, "status": "in_service" if base else "retired", "base": base}
            for p, base in members
        ],
    }


@pytest.fixture
def world(db):
    world = build_world(db)  # P1 in service (1,000.00 in the account), P2 retired
    enroll(db, "P3", employment="in_service")
    enroll(db, "P4", employment="flexible")  # 单建统筹: no account while contributing
    enroll(db, "P5", employment="in_service")  # no base declared for the month
    issue_unit_bill(db, world.bureau, unit_file(("P1", "5000.00"), ("P3", "4333.33")), "2023-01")
    return world


def balances(db) -> dict[str, int]:
    with db.sessions() as session:
        return {a.person_id: a.balance for a in session.scalars(select(Account)).all()}


def ledger(db) -> list[tuple[str, int, str]]:
    with db.sessions() as session:
        rows = session.scalars(select(AccountEntry).order_by(AccountEntry.person_id)).all()
        return sorted((r.person_id, r.amount, r.kind) for r in rows)


def count(db, model) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


# Expected 2023-01 credits: P1 2% × 5,000.00 = 100.00; P3 2% × 4,333.33 = 86.6666 → 86.67;
# P2 retired: 2% × 3,000.00 (G-EH-2, 2022 base) = 60.00. P4 and P5 get nothing.
EXPECTED = {"P1": 10_000, "P2": 6_000, "P3": 8_667}


def test_crediting_credits_each_eligible_account_once(db, world):
    before = balances(db)
    done = run_crediting(db, world.bureau, "erenhot", "2023-01", batch_size=2)
    assert done["credited_now"] == 3 and done["total_fen"] == sum(EXPECTED.values())
    assert done["skipped"] == {"no_account_while_contributing": 1, "no_base_declared": 1}
    after = balances(db)
    assert {p: after[p] - before[p] for p in EXPECTED} == EXPECTED
    assert after["P4"] == before["P4"] and after["P5"] == before["P5"]
    credits = [e for e in ledger(db) if e[2] == "monthly_credit"]
    assert credits == sorted((p, fen, "monthly_credit") for p, fen in EXPECTED.items())


def test_rerunning_a_month_changes_nothing(db, world):
    run_crediting(db, world.bureau, "erenhot", "2023-01", batch_size=2)
    state = balances(db), ledger(db), count(db, AuditEntry), count(db, AccountCredit)
    again = run_crediting(db, world.bureau, "erenhot", "2023-01", batch_size=2)
    assert again["credited_now"] == 0 and again["status"] == "done"
    assert (balances(db), ledger(db), count(db, AuditEntry), count(db, AccountCredit)) == state


def test_a_crashed_run_resumes_and_ends_with_the_same_ledger(db, world):
    before = balances(db)

    def crash_in_second_batch(batch: int) -> None:
        if batch == 2:
            raise Crash("power cut")

    # batches of 2 in id order: [P1, P2] commits, [P3, P4] is rolled back by the crash
    with pytest.raises(Crash):
        run_crediting(db, world.bureau, "erenhot", "2023-01", 2, crash_in_second_batch)
    with db.sessions() as session:
        run = session.scalars(select(CreditingRun)).one()
        assert (run.status, run.credited) == ("running", 2)
    assert count(db, AccountCredit) == 2
    done = run_crediting(db, world.bureau, "erenhot", "2023-01", batch_size=2)
    assert done["status"] == "done" and done["credited_now"] == 1 and done["credited"] == 3
    after = balances(db)
    assert {p: after[p] - before[p] for p in EXPECTED} == EXPECTED


def test_months_are_independent_and_the_rate_follows_the_month(db, world):
    # December 2022: retirees 3% × 3,000.00 (2021 base) = 90.00; P1 has no base for 2022-12.
    done = run_crediting(db, world.bureau, "erenhot", "2022-12")
    assert done["credited_now"] == 1 and done["total_fen"] == 9_000
    assert run_crediting(db, world.bureau, "erenhot", "2023-01")["credited_now"] == 3


def test_crediting_refuses_institutions_and_months_without_rates(db, world):
    with pytest.raises(Forbidden):
        run_crediting(db, world.hospital, "erenhot", "2023-01")
    with pytest.raises(ServiceError, match=r"^month: .*no value in force on 2022-09-01"):
        run_crediting(db, world.bureau, "erenhot", "2022-09")
    with pytest.raises(ServiceError, match=r"^month: '2023-1' is not a month"):
        run_crediting(db, world.bureau, "erenhot", "2023-1")
    with pytest.raises(ServiceError, match=r"^region: qingdao has no personal-account crediting"):
        run_crediting(db, world.bureau, "qingdao", "2023-01")
    assert count(db, CreditingRun) == 0


def test_liaoyang_crediting_is_refused_as_gap_g_ly_2_not_implemented(db, world):
    # policy-facts.md G-LY-2 gives Liaoyang crediting as an assumption; yibao does not apply
    # it (no retiree's own pension is recorded), and says so rather than "no rules".
    with pytest.raises(ServiceError) as refused:
        run_crediting(db, world.bureau, "liaoyang", "2023-01")
    assert str(refused.value).startswith(
        "region: liaoyang personal-account crediting is gap G-LY-2 (in service 2% of the own "
        "base plus 30% of the employer share, retirees 4% of the pension), not implemented: "
    )
    assert count(db, CreditingRun) == 0


def test_issuing_the_same_bill_again_answers_the_stored_one(db, world):
    again = issue_unit_bill(
        db, world.bureau, unit_file(("P1", "5000.00"), ("P3", "4333.33")), "2023-01"
    )
    assert again["created"] is False and again["bill"]["total_fen"] == 40_000 + 34_667
    with pytest.raises(Conflict, match=r"^period: a different bill of EH-U1 for 2023-01"):
        issue_unit_bill(db, world.bureau, unit_file(("P1", "5100.00")), "2023-01")
    with pytest.raises(ServiceError, match=r"^members\[0\]\.psn_no: person NOPE is not enrolled"):
        issue_unit_bill(db, world.bureau, unit_file(("NOPE", "5000.00")), "2023-02")
    with pytest.raises(Forbidden):
        issue_unit_bill(db, world.hospital, unit_file(("P1", "5000.00")), "2023-03")


def enroll_resident(db, psn_no: str, region: str = "tongliao") -> None:
    """A resident of another region than the unit's (Tongliao, as in the demo data)."""
    raw = {"id": psn_no, "scheme": "resident", "certno": with_check_digit("15050219900101123")}
    persons.enroll(db, SYSTEM, region, persons.parse_person(raw))


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        # P2 is enrolled as retired: declared in service it would be credited 2% of its base
        # instead of the retirees' fixed amount.
        (
            [("P1", "9000.00"), ("P2", "9000.00")],
            "members[1].status: person P2 is enrolled as retired, not in_service",
        ),
        ([("P3", None)], "members[0].status: person P3 is enrolled as in_service, not retired"),
        (
            [("P4", "9000.00")],
            "members[0].status: person P4 is enrolled as flexible, not in_service",
        ),
        (
            [("T1", "9000.00")],
            "members[0].psn_no: person T1 is enrolled in tongliao, "
            "not in the unit's region erenhot",
        ),
        (
            [("R1", "9000.00")],
            "members[0].psn_no: person R1 is enrolled in the resident scheme, not as an employee",
        ),
    ],
)
def test_a_unit_file_contradicting_the_enrollment_is_refused(db, world, members, expected):
    enroll_resident(db, "T1")
    enroll(db, "R1", scheme="resident", employment=None)
    with pytest.raises(ServiceError) as refused:
        issue_unit_bill(db, world.bureau, unit_file(*members), "2023-03")
    assert str(refused.value) == expected
    assert count(db, ContributionBill) == 1  # the fixture's 2023-01 bill only
    with db.sessions() as session:
        months = session.scalars(select(ContributionBase.month)).all()
    assert set(months) == {"2023-01"}


@pytest.fixture
def family(db, world):
    enroll(
        db, "C1", scheme="resident", employment=None, family=[{"holder": "P1", "relation": "child"}]
    )
    enroll(db, "X1", scheme="resident", employment=None)
    # an in-service employee: owes no resident contribution
    enroll(db, "S1", employment="in_service", family=[{"holder": "P1", "relation": "spouse"}])
    return world


def test_paying_a_childs_resident_contribution_debits_the_ledger_once(db, family):
    done = pay_contribution(db, family.bureau, "P1", "C1", "resident_contribution", 2023, 38_000)
    assert (done["amount_fen"], done["balance_fen"], done["relation"]) == (38_000, 62_000, "child")
    assert done["source"].startswith("EH-07")
    with db.sessions() as session:
        entry = session.scalars(
            select(AccountEntry).where(AccountEntry.kind == "family_contribution")
        ).one()
        assert (entry.person_id, entry.amount, entry.beneficiary_id) == ("P1", -38_000, "C1")
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "account.pay_contribution")
        ).one()
        assert audit.detail["beneficiary"] == "C1"
    with pytest.raises(Conflict, match="already paid"):
        pay_contribution(db, family.bureau, "P1", "C1", "resident_contribution", 2023, 38_000)
    assert balances(db)["P1"] == 62_000


@pytest.mark.parametrize(
    ("beneficiary", "purpose", "amount", "error", "message"),
    [
        ("C1", "fitness", 1_000, ServiceError, "forbidden use .*EH-08"),
        ("C1", "public_health", 1_000, ServiceError, "forbidden use"),
        ("X1", "resident_contribution", 1_000, ServiceError, "not for X1, who is not bound"),
        (
            "S1",
            "resident_contribution",
            1_000,
            ServiceError,
            "'resident_contribution' is a contribution of the resident scheme, and S1 is "
            "enrolled in the employee scheme",
        ),
        ("C1", "large_expense_contribution", 1_000, ServiceError, "C1 is enrolled in the resident"),
        ("C1", "resident_contribution", 100_001, Conflict, "holds 1,000.00, less than 1,000.01"),
        ("C1", "medical_costs", 1_000, ServiceError, "paid through settlement"),
        ("C1", "resident_contribution", None, ServiceError, "amount: required"),
    ],
)
def test_refused_payments_leave_the_account_alone(
    db, family, beneficiary, purpose, amount, error, message
):
    with pytest.raises(error, match=message):
        pay_contribution(db, family.bureau, "P1", beneficiary, purpose, 2023, amount)
    assert balances(db)["P1"] == 100_000
    assert not [e for e in ledger(db) if e[2] == "family_contribution"]


def test_a_binding_the_other_way_is_named_in_the_refusal(db, family):
    # C1 is bound to P1's account as P1's child: P1's account may pay for C1, not C1's for P1.
    with pytest.raises(ServiceError) as refused:
        pay_contribution(db, family.bureau, "C1", "P1", "ltc_contribution", 2023, 100)
    assert str(refused.value).startswith(
        "purpose: purpose 'ltc_contribution' is only for the holder's spouse, parent, child, "
        "not for P1, who is not bound to the holder's account; the binding is the other way: "
        "C1 is bound to P1's account as child, so only P1's account may pay for C1 (EH-07 "
    )


def test_institutions_cannot_pay_from_accounts(db, family):
    with pytest.raises(Forbidden):
        pay_contribution(db, family.hospital, "P1", "C1", "resident_contribution", 2023, 100)
