"""The monthly personal-account crediting job (个人账户按月划入) of a region.

Idempotent: each credit is an `account_credits` row unique per (person, month, kind), written
with its ledger entry and the balance change in one transaction, so re-running a month
credits nobody twice. Resumable: persons are processed in id order in batches, one
transaction each; after a crash the next run skips whoever is already credited and goes on.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.contributions.crediting import Credit, account_rates, monthly_credit
from yibao.contributions.load import contribution_regions, load_rates
from yibao.contributions.schema import AccountRates, RateError
from yibao.money import yuan_str
from yibao.policy.loader import unknown_region
from yibao.service import audit
from yibao.service.errors import Forbidden, ServiceError
from yibao.service.principal import Principal
from yibao.store.contributions import AccountCredit, ContributionBase, CreditingRun
from yibao.store.db import Database
from yibao.store.models import Account, AccountEntry, Person

KIND = "monthly"
ENTRY_KIND = "monthly_credit"
BatchHook = Callable[[int], None]


def parse_month(text: str) -> dt.date:
    """`2023-01` → 2023-01-01; anything else is a ServiceError naming `month`."""
    try:
        day = dt.datetime.strptime(text, "%Y-%m").date()
    except (TypeError, ValueError):
        raise ServiceError(f"month: {text!r} is not a month YYYY-MM") from None
    if f"{day:%Y-%m}" != text:
        raise ServiceError(f"month: {text!r} is not a month YYYY-MM")
    return day


def _rates_for(region: str, month: dt.date) -> AccountRates:
    """The region's account rules, checked to cover `month` before anything is written."""
    if region not in contribution_regions():
        raise ServiceError(f"region: {unknown_region(region, contribution_regions())}")
    try:
        accounts = account_rates(load_rates(region))
    except RateError as exc:
        raise ServiceError(str(exc)) from None  # names `region:` itself
    try:
        monthly_credit(accounts, "retiree", month)
        monthly_credit(accounts, "in_service", month, 0)
    except RateError as exc:
        raise ServiceError(f"month: {exc}") from None
    return accounts


def run_crediting(
    db: Database,
    who: Principal,
    region: str,
    month_text: str,
    batch_size: int = 500,
    after_batch: BatchHook | None = None,
) -> dict[str, Any]:
    """Credit every eligible account of `region` for `month_text`; safe to repeat or resume.

    `after_batch(n)` runs inside each batch's transaction before it commits (tests use it to
    simulate a crash)."""
    if who.role != "bureau":
        raise Forbidden("only the bureau runs the account crediting")
    month = parse_month(month_text)
    accounts = _rates_for(region, month)
    run_id = _open_run(db, who, region, month_text)
    skipped: Counter[str] = Counter()
    credited_now, last_id, batch_no = 0, "", 0
    while True:
        ids = _next_ids(db, region, last_id, batch_size)
        if not ids:
            break
        batch_no += 1
        with db.transaction() as session:
            done, reasons = _credit_batch(session, who, accounts, run_id, month, ids)
            if after_batch is not None:
                after_batch(batch_no)
        credited_now += done
        skipped.update(reasons)
        last_id = ids[-1]
    return _close_run(db, who, run_id, credited_now, skipped)


def _open_run(db: Database, who: Principal, region: str, month: str) -> int:
    """The run of (region, month), created on first use; a concurrent creator wins the race
    and this call then uses its run."""
    query = select(CreditingRun.id).where(
        CreditingRun.region == region, CreditingRun.month == month
    )
    try:
        with db.transaction() as session:
            found = session.scalars(query).one_or_none()
            if found is not None:
                return found
            run = CreditingRun(region=region, month=month, status="running")
            run.credited, run.skipped, run.total_fen, run.batches = 0, 0, 0, 0
            session.add(run)
            session.flush()
            audit.record(
                session, who, "accounts.crediting_start", f"run:{run.id}", region=region,
                month=month,
            )  # fmt: skip
            return run.id
    except IntegrityError:
        with db.sessions() as session:
            return session.scalars(query).one()


def _next_ids(db: Database, region: str, after: str, limit: int) -> list[str]:
    with db.sessions() as session:
        query = (
            select(Person.id)
            .where(Person.region == region, Person.scheme == "employee", Person.id > after)
            .order_by(Person.id)
            .limit(limit)
        )
        return list(session.scalars(query).all())


def _credit_batch(
    session: Session,
    who: Principal,
    accounts: AccountRates,
    run_id: int,
    month: dt.date,
    ids: list[str],
) -> tuple[int, Counter[str]]:
    """Credit the not-yet-credited persons of `ids` (sorted); one transaction."""
    label = f"{month:%Y-%m}"
    # Locking the run row serializes two runs of the same month (PostgreSQL).
    run = session.get(CreditingRun, run_id, with_for_update=True)
    assert run is not None
    done = set(
        session.scalars(
            select(AccountCredit.person_id).where(
                AccountCredit.person_id.in_(ids),
                AccountCredit.month == label,
                AccountCredit.kind == KIND,
            )
        ).all()
    )
    todo = [i for i in ids if i not in done]
    credits, reasons = _credits_due(session, accounts, month, todo)
    if not credits:
        return 0, reasons
    accounts = _locked_accounts(session, sorted(credits))
    total = _write_credits(session, accounts, credits, run_id, label)
    run.credited += len(credits)
    run.total_fen += total
    run.batches += 1
    audit.record(
        session, who, "account.credit_batch", f"run:{run_id}",
        month=label, persons=len(credits), total_fen=total, first=ids[0], last=ids[-1],
    )  # fmt: skip
    return len(credits), reasons


def _credits_due(
    session: Session, accounts: AccountRates, month: dt.date, ids: list[str]
) -> tuple[dict[str, Credit], Counter[str]]:
    """Each person's credit for the month, or the reason they get none."""
    if not ids:
        return {}, Counter()
    persons = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids))).all()}
    bases = {
        b.person_id: b
        for b in session.scalars(
            select(ContributionBase).where(
                ContributionBase.person_id.in_(ids), ContributionBase.month == f"{month:%Y-%m}"
            )
        ).all()
    }
    credits: dict[str, Credit] = {}
    reasons: Counter[str] = Counter()
    for person_id in ids:
        declared = bases.get(person_id)
        status = declared.status if declared else persons[person_id].employment
        if status == "retired":
            credits[person_id] = monthly_credit(accounts, "retiree", month)
        elif status == "in_service" and declared is not None and declared.base_fen is not None:
            credits[person_id] = monthly_credit(accounts, "in_service", month, declared.base_fen)
        elif status == "in_service":
            reasons["no_base_declared"] += 1
        else:  # 单建统筹 / flexible: pooling only while contributing (EH-04)
            reasons["no_account_while_contributing"] += 1
    return credits, reasons


def _locked_accounts(session: Session, person_ids: list[str]) -> dict[str, Account]:
    """The accounts to credit, locked in id order (as settlement does: never a deadlock)."""
    rows = session.scalars(
        select(Account)
        .where(Account.person_id.in_(person_ids))
        .order_by(Account.person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = {row.person_id: row for row in rows}
    for person_id in person_ids:
        if person_id not in found:
            found[person_id] = Account(person_id=person_id, balance=0)
            session.add(found[person_id])
    return found


def _write_credits(
    session: Session,
    accounts: dict[str, Account],
    credits: dict[str, Credit],
    run_id: int,
    label: str,
) -> int:
    """Ledger entries, balances and credit rows of a batch; flushed together (one INSERT of
    many rows each), the credit rows pointing at their entries. Returns the batch total."""
    order = sorted(credits)
    entries = [_entry(person_id, credits[person_id], label) for person_id in order]
    session.add_all(entries)
    session.flush()
    for person_id, entry in zip(order, entries, strict=True):
        credit = credits[person_id]
        accounts[person_id].balance += credit.amount_fen
        session.add(
            AccountCredit(
                person_id=person_id, month=label, kind=KIND, basis=credit.basis,
                amount_fen=credit.amount_fen, base_fen=credit.base_fen, entry_id=entry.id,
                run_id=run_id,
            )
        )  # fmt: skip
    return sum(credit.amount_fen for credit in credits.values())


def _entry(person_id: str, credit: Credit, label: str) -> AccountEntry:
    note = (
        f"{label} monthly credit ({credit.basis}): {credit.rate:%} of {yuan_str(credit.base_fen)}"
    )
    return AccountEntry(person_id=person_id, amount=credit.amount_fen, kind=ENTRY_KIND, note=note)


def _close_run(
    db: Database, who: Principal, run_id: int, credited_now: int, skipped: Counter[str]
) -> dict[str, Any]:
    with db.transaction() as session:
        run = session.get(CreditingRun, run_id, with_for_update=True)
        assert run is not None
        changed = run.status != "done" or run.skipped != sum(skipped.values()) or credited_now
        if changed:
            run.status, run.skipped = "done", sum(skipped.values())
            run.finished_at = dt.datetime.now(dt.UTC)
            audit.record(
                session, who, "accounts.crediting_done", f"run:{run.id}",
                credited_now=credited_now, credited=run.credited, total_fen=run.total_fen,
            )  # fmt: skip
        return run_view(run, credited_now, dict(skipped))


def run_view(run: CreditingRun, credited_now: int = 0, skipped: dict | None = None) -> dict:
    """A crediting run as the API and the CLI show it."""
    return {
        "run_id": run.id,
        "region": run.region,
        "month": run.month,
        "status": run.status,
        "credited_now": credited_now,
        "credited": run.credited,
        "total_fen": run.total_fen,
        "skipped": skipped or {},
        "batches": run.batches,
    }
