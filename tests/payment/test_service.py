"""The payment service on SQLite and PostgreSQL: agreements, assessments, budgets, and the
year-end run (idempotent, resumable after a crash, one transaction per institution)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.payment.world import (
    CENTRAL,
    DISTRICT,
    PHARMACY,
    YUAN,
    build_payment_world,
    central_year,
    settle,
    sign,
)
from yibao.payment import service
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.store.models import AuditEntry
from yibao.store.payment import DepositEntry, YearEndStatement


@pytest.fixture
def world(db):
    world, _ = build_payment_world(db)
    return world


def counts(db) -> tuple[int, int, int]:
    with db.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(YearEndStatement)),
            session.scalar(select(func.count()).select_from(DepositEntry)),
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.like("payment.%"))
            ),
        )


def golden_setup(db, world):
    """市中心医院 with DRG, budget 500,000, VBP 50,000 / 30,000, score 90 (golden year)."""
    sign(db, world.bureau, CENTRAL, methods=[("drg", 0)])
    sign(db, world.bureau, DISTRICT, ownership="private")
    central_year(db)
    service.set_budget(
        db, world.bureau, CENTRAL, 2023, 500_000 * YUAN, 50_000 * YUAN, 30_000 * YUAN
    )
    service.record_assessment(db, world.bureau, CENTRAL, 2023, Decimal(90))


def test_golden_year_end_statement_from_the_store(db, world):
    golden_setup(db, world)
    result = service.run_year_end(db, world.bureau, "liaoyang", 2023)
    assert result == {"region": "liaoyang", "year": 2023, "written": [CENTRAL, DISTRICT],
                      "skipped": []}  # fmt: skip
    view = service.statement_view(db, world.auditor, CENTRAL, 2023)
    t = view["totals"]
    # the same numbers as tests/payment/test_statement.py::test_golden_statement (the
    # reversed claim and the 2022 claim are not read): actual 529,600, payable 494,800,
    # deposit 53,360 withheld / 48,024 returned, balance 9,224.
    assert t["actual_fen"] == 529_600 * YUAN
    assert t["payable_fen"] == 494_800 * YUAN
    assert (t["deposit_withheld_fen"], t["deposit_returned_fen"]) == (53_360 * YUAN, 48_024 * YUAN)
    assert t["balance_fen"] == 9_224 * YUAN
    assert view["flags"] == {"drg_ungroupable": 1}
    ledger = service.deposit_ledger(db, world.bureau, CENTRAL, 2023)
    # withheld by month: 50,000 + 2,560 + 800; then −48,024 returned, −5,336 forfeited
    assert [(e["month"], e["kind"], e["fen"]) for e in ledger] == [
        (1, "withheld", 50_000 * YUAN),
        (2, "withheld", 2_560 * YUAN),
        (3, "withheld", 800 * YUAN),
        (None, "returned", -48_024 * YUAN),
        (None, "forfeited", -5_336 * YUAN),
    ]
    assert sum(e["fen"] for e in ledger) == 0  # nothing is still held
    # the district hospital had no settlements, no budget: an all-zero statement
    district = service.statement_view(db, world.bureau, DISTRICT, 2023)["totals"]
    assert district["payable_fen"] == district["balance_fen"] == 0


def test_rerunning_the_year_writes_nothing_new(db, world):
    golden_setup(db, world)
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    before = counts(db)
    first = service.statement_view(db, world.bureau, CENTRAL, 2023)
    again = service.run_year_end(db, world.bureau, "liaoyang", 2023)
    assert again["written"] == [] and again["skipped"] == [CENTRAL, DISTRICT]
    assert counts(db) == before
    assert service.statement_view(db, world.bureau, CENTRAL, 2023) == first


def test_a_crash_between_institutions_leaves_the_first_done_and_the_rerun_finishes(db, world):
    golden_setup(db, world)

    def crash(code: str) -> None:
        raise RuntimeError(f"power cut after {code}")

    with pytest.raises(RuntimeError):
        service.run_year_end(db, world.bureau, "liaoyang", 2023, after_each=crash)
    statements, _, _ = counts(db)
    assert statements == 1
    done = service.statement_view(db, world.bureau, CENTRAL, 2023)
    result = service.run_year_end(db, world.bureau, "liaoyang", 2023)
    assert result["written"] == [DISTRICT] and result["skipped"] == [CENTRAL]
    assert service.statement_view(db, world.bureau, CENTRAL, 2023) == done
    with db.sessions() as session:
        withheld = session.scalars(
            select(DepositEntry).where(DepositEntry.kind == "withheld")
        ).all()
    assert len(withheld) == 3  # written once, not again by the re-run


def test_a_crash_inside_an_institution_writes_nothing_for_it(db, world, monkeypatch):
    golden_setup(db, world)
    before = counts(db)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while writing the deposit ledger")

    monkeypatch.setattr(service, "_write_deposit_ledger", broken)
    with pytest.raises(RuntimeError):
        service.run_year_end(db, world.bureau, "liaoyang", 2023)
    assert counts(db) == before  # the statement of the first institution rolled back too
    monkeypatch.undo()
    assert service.run_year_end(db, world.bureau, "liaoyang", 2023)["written"] == [
        CENTRAL,
        DISTRICT,
    ]


def test_assessment_sets_the_agreement_status(db, world):
    sign(db, world.bureau, PHARMACY, kind="pharmacy")
    view = service.record_assessment(
        db, world.bureau, PHARMACY, 2023, Decimal(92), veto=True, deposit_deduction_fen=5_000_000
    )
    assert view["status"] == "suspended"
    agreement = service.list_agreements(db, world.bureau, PHARMACY)[0]
    # suspended for 3 months (LY-32) from the start of 2024
    assert (agreement["status"], agreement["suspended_until"]) == ("suspended", dt.date(2024, 4, 1))
    with pytest.raises(Conflict):
        service.record_assessment(db, world.bureau, PHARMACY, 2023, Decimal(90))


def test_a_vetoed_pharmacy_forfeits_its_deposit_at_year_end(db, world):
    sign(db, world.bureau, PHARMACY, kind="pharmacy")
    settle(db, "R1", PHARMACY, "2023-05-05", 2_000, 1_000, med_type="41")
    service.record_assessment(db, world.bureau, PHARMACY, 2023, Decimal(92), veto=True)
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    t = service.statement_view(db, world.bureau, PHARMACY, 2023)["totals"]
    # 10% of 1,000.00 = 100.00 withheld, all forfeited; balance = 1,000 − 100 − 900 = 0
    assert (t["deposit_withheld_fen"], t["deposit_forfeited_fen"]) == (100 * YUAN, 100 * YUAN)
    assert t["balance_fen"] == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"kind": "barter"}, ServiceError),
        ({"ownership": "mixed"}, ServiceError),
        ({"valid_to": dt.date(2022, 1, 1)}, ServiceError),
        ({"methods": [service.MethodSpec("capitation", 0)]}, ServiceError),
        ({"methods": [service.MethodSpec("drg", 5)]}, ServiceError),
        ({"methods": [service.MethodSpec("magic")]}, ServiceError),
        ({"kind": "pharmacy"}, ServiceError),  # a hospital cannot sign a pharmacy agreement
        ({"code": "NOPE"}, NotFound),
    ],
)
def test_bad_agreements_are_refused(db, world, kwargs, error):
    args = dict(
        code=CENTRAL, kind="hospital", ownership="public", valid_from=dt.date(2023, 1, 1),
        valid_to=dt.date(2023, 12, 31), methods=[],
    )  # fmt: skip
    args.update(kwargs)
    with pytest.raises(error):
        service.add_agreement(db, world.bureau, **args)


def test_overlapping_agreements_conflict(db, world):
    sign(db, world.bureau, CENTRAL)
    with pytest.raises(Conflict):
        service.add_agreement(
            db, world.bureau, CENTRAL, "hospital", "public", dt.date(2023, 6, 1),
            dt.date(2024, 5, 31), [],
        )  # fmt: skip


def test_only_the_bureau_writes_and_institutions_read_only_their_own(db, world):
    for who in (world.auditor, world.hospital):
        with pytest.raises(Forbidden):
            sign(db, who, CENTRAL)
        with pytest.raises(Forbidden):
            service.set_budget(db, who, CENTRAL, 2023, 100)
        with pytest.raises(Forbidden):
            service.run_year_end(db, who, "liaoyang", 2023)
    golden_setup(db, world)
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    with pytest.raises(Forbidden):
        service.statement_view(db, world.hospital, CENTRAL, 2023)  # H001 reading H2110…
    with pytest.raises(Forbidden):
        service.list_agreements(db, world.hospital, CENTRAL)
    with pytest.raises(NotFound):
        service.statement_view(db, world.bureau, CENTRAL, 2019)


def test_a_closed_year_refuses_a_new_budget_or_assessment(db, world):
    golden_setup(db, world)
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    with pytest.raises(Conflict):
        service.set_budget(db, world.bureau, CENTRAL, 2023, 1)
    with pytest.raises(Conflict, match="closed"):
        service.record_assessment(db, world.bureau, DISTRICT, 2023, Decimal(70))


def test_a_year_still_running_is_not_closed(db, world):
    # QA: 2027's statement was written (capitation paid ahead) and the year then closed
    year = dt.date.today().year
    with pytest.raises(ServiceError, match=f"^year: {year} has not ended"):
        service.run_year_end(db, world.bureau, "liaoyang", year)
    service.set_budget(db, world.bureau, CENTRAL, year, 1, 0, 0)  # still open


def test_every_write_is_audited(db, world):
    golden_setup(db, world)
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    with db.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("payment.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == [
        "payment.agreement.add",
        "payment.agreement.add",
        "payment.budget.set",
        "payment.assessment.add",
        "payment.year_end",
        "payment.year_end",
    ]


def test_capitation_months_follow_the_agreement(db, world):
    service.add_agreement(
        db, world.bureau, DISTRICT, "hospital", "public", dt.date(2023, 7, 1),
        dt.date(2024, 6, 30), [service.MethodSpec("capitation", 1_000)],
    )  # fmt: skip
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    t = service.statement_view(db, world.bureau, DISTRICT, 2023)["totals"]
    assert t["actual_fen"] == 60_000 * YUAN  # 120.00 × 1,000 persons × 6/12 months


def test_two_concurrent_runs_write_each_statement_once(db, world):
    from concurrent.futures import ThreadPoolExecutor

    golden_setup(db, world)
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(lambda _: service.run_year_end(db, world.bureau, "liaoyang", 2023), range(2))
        )
    written = sorted(code for run in runs for code in run["written"])
    assert written == [CENTRAL, DISTRICT]
    statements, _, _ = counts(db)
    assert statements == 2
    assert len(service.deposit_ledger(db, world.bureau, CENTRAL, 2023)) == 5


def test_each_claim_is_paid_under_the_agreement_in_force_on_its_date(db, world):
    service.add_agreement(
        db, world.bureau, DISTRICT, "hospital", "public", dt.date(2023, 1, 1),
        dt.date(2023, 6, 30), [],
    )  # fmt: skip
    service.add_agreement(
        db, world.bureau, DISTRICT, "hospital", "public", dt.date(2023, 7, 1),
        dt.date(2023, 12, 31), [service.MethodSpec("capitation", 100)],
    )  # fmt: skip
    settle(db, "F1", DISTRICT, "2023-02-15", 3_000, 1_500)  # fee for service: kept
    settle(db, "C1", DISTRICT, "2023-08-15", 2_000, 1_000)  # under capitation: replaced
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    view = service.statement_view(db, world.bureau, DISTRICT, 2023)
    lines = {line["key"]: line["fen"] for line in view["lines"]}
    assert lines["ffs"] == 1_500 * YUAN
    assert lines["capitated_ffs_replaced"] == 1_000 * YUAN
    assert lines["capitation"] == 6_000 * YUAN  # 120.00 × 100 persons × 6/12 (Jul–Dec)
    assert view["totals"]["actual_fen"] == 7_500 * YUAN  # 1,500 + 6,000


def test_a_term_of_twelve_whole_months_pays_twelve_months_across_two_years(db, world):
    service.add_agreement(
        db, world.bureau, DISTRICT, "hospital", "public", dt.date(2023, 7, 15),
        dt.date(2024, 7, 14), [service.MethodSpec("capitation", 1_000)],
    )  # fmt: skip
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    service.run_year_end(db, world.bureau, "liaoyang", 2024)
    paid = [
        service.statement_view(db, world.bureau, DISTRICT, year)["totals"]["actual_fen"]
        for year in (2023, 2024)
    ]
    # 120.00 × 1,000 = 120,000.00 a year = 10,000.00 a month.
    # 2023: July 15–31 is 17/31 of July, then Aug–Dec: 10,000 × (5 + 17/31) = 1,720,000/31
    #       = 55,483.870… → 55,483.87.
    # 2024: Jan–Jun, then July 1–14 is 14/31: 10,000 × (6 + 14/31) = 2,000,000/31
    #       = 64,516.129… → 64,516.13.  Together 120,000.00 = 12 months, not 13.
    assert paid == [5_548_387, 6_451_613]
    assert sum(paid) == 120_000 * YUAN


def test_a_sanction_beyond_the_deposit_comes_off_the_balance(db, world):
    sign(db, world.bureau, CENTRAL, methods=[("drg", 0)])
    settle(db, "O1", CENTRAL, "2023-01-15", 100_000, 80_000)
    service.set_budget(db, world.bureau, CENTRAL, 2023, 500_000 * YUAN)
    service.record_assessment(
        db, world.bureau, CENTRAL, 2023, Decimal(90), sanctions=["deposit_deduction"],
        deposit_deduction_fen=50_000 * YUAN,
    )  # fmt: skip
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    t = service.statement_view(db, world.bureau, CENTRAL, 2023)["totals"]
    # actual 80,000 (fee for service); budget 500,000: savings counted up to 50,000, half kept
    # → reward 25,000; payable 105,000. Deposit 10% of 80,000 = 8,000 withheld, all of it
    # deducted; the other 42,000 of the 50,000 sanction comes off the balance.
    # Paid monthly 80,000 − 8,000 = 72,000. Balance 105,000 − 8,000 − 42,000 − 72,000 = −17,000.
    assert t["deposit_deducted_fen"] == 8_000 * YUAN
    assert t["deduction_beyond_deposit_fen"] == 42_000 * YUAN
    assert t["balance_fen"] == -17_000 * YUAN
    ledger = service.deposit_ledger(db, world.bureau, CENTRAL, 2023)
    assert [(e["kind"], e["fen"]) for e in ledger] == [
        ("withheld", 8_000 * YUAN),
        ("deducted", -8_000 * YUAN),
    ]


def test_a_stay_settled_without_a_visit_is_flagged_without_diagnoses(db, world):
    sign(db, world.bureau, CENTRAL, methods=[("drg", 0)])
    settle(db, "I1", CENTRAL, "2023-03-01", 10_000, 8_000, "21")  # 2207 only: no visit
    settle(db, "I2", CENTRAL, "2023-03-05", 10_000, 8_000, "21", ("I50.9",))  # no group
    service.run_year_end(db, world.bureau, "liaoyang", 2023)
    view = service.statement_view(db, world.bureau, CENTRAL, 2023)
    assert view["flags"] == {"drg_no_diagnoses": 1, "drg_ungroupable": 1}
    assert view["totals"]["actual_fen"] == 16_000 * YUAN  # both fee for service
