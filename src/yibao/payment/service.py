"""Institution payment use cases: agreements, assessments, budgets, the year-end run, statements.

Each write is one transaction with its audit entry. The year-end run settles every institution
of a region in its own transaction, so a crash leaves each one either done (its statement and
deposit entries written) or not started; a re-run skips the done ones and writes nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.payment.assessment import assess
from yibao.payment.methods import months_covered
from yibao.payment.statement import METHODS, StatementInput, withheld_by_month, year_end_statement
from yibao.payment.terms import RegionTerms, region_terms
from yibao.payment.yearinputs import claims_of_year
from yibao.service import audit
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.service.principal import Principal
from yibao.store.db import Database
from yibao.store.models import Institution
from yibao.store.payment import (
    Agreement,
    Assessment,
    Budget,
    DepositEntry,
    PaymentMethod,
    YearEndStatement,
)

AGREEMENT_KINDS = ("hospital", "pharmacy", "outpatient_pooling")
OWNERSHIPS = ("public", "private")


def _bureau(who: Principal) -> None:
    if who.role != "bureau":
        raise Forbidden(f"role {who.role} may not do this (needs bureau)")


def _readable(who: Principal, code: str) -> None:
    if not who.can_see(code):
        raise Forbidden(f"institution {who.institution_code} may read only its own records")


def _institution(session: Session, code: str) -> Institution:
    inst = session.get(Institution, code)
    if inst is None:
        raise NotFound(f"institution {code} not found")
    return inst


def _flush_or_conflict(session: Session, message: str) -> None:
    """Write now, so a concurrent writer's unique row is a 409 rather than a server error."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message) from None


def _terms(region: str) -> RegionTerms:
    try:
        return region_terms(region)
    except KeyError as exc:
        raise ServiceError(f"region: {exc.args[0]}") from None


@dataclass(frozen=True)
class MethodSpec:
    method: str
    persons: int = 0


def add_agreement(
    db: Database,
    who: Principal,
    code: str,
    kind: str,
    ownership: str,
    valid_from: dt.date,
    valid_to: dt.date,
    methods: list[MethodSpec],
) -> dict[str, Any]:
    """Sign a service agreement (协议) with its payment methods (bureau)."""
    _bureau(who)
    _check_agreement(kind, ownership, valid_from, valid_to, methods)
    with db.transaction() as session:
        inst = _institution(session, code)
        if (kind == "pharmacy") != (inst.kind == "pharmacy"):
            raise ServiceError(f"kind: a {inst.kind} cannot sign a {kind} agreement")
        overlapping = session.scalars(
            select(Agreement).where(
                Agreement.institution_code == code,
                Agreement.valid_from <= valid_to,
                Agreement.valid_to >= valid_from,
            )
        ).first()
        if overlapping is not None:
            raise Conflict(
                f"institution {code} already has an agreement from {overlapping.valid_from} "
                f"to {overlapping.valid_to}"
            )
        row = Agreement(
            institution_code=code,
            kind=kind,
            ownership=ownership,
            valid_from=valid_from,
            valid_to=valid_to,
            status="active",
        )
        session.add(row)
        _flush_or_conflict(
            session, f"institution {code} already has an agreement from {valid_from}"
        )
        session.add_all(
            PaymentMethod(agreement_id=row.id, method=m.method, persons=m.persons) for m in methods
        )
        audit.record(
            session,
            who,
            "payment.agreement.add",
            code,
            kind=kind,
            ownership=ownership,
            valid_from=valid_from.isoformat(),
            valid_to=valid_to.isoformat(),
            methods=[m.method for m in methods],
        )
        session.flush()
        return _agreement_view(session, row)


def _check_agreement(
    kind: str, ownership: str, valid_from: dt.date, valid_to: dt.date, methods: list[MethodSpec]
) -> None:
    if kind not in AGREEMENT_KINDS:
        raise ServiceError(f"kind: must be one of {', '.join(AGREEMENT_KINDS)}")
    if ownership not in OWNERSHIPS:
        raise ServiceError("ownership: must be public or private")
    if valid_to < valid_from:
        raise ServiceError("valid_to: must not be before valid_from")
    names = [m.method for m in methods]
    if len(set(names)) != len(names):
        raise ServiceError("methods: each method at most once")
    for m in methods:
        if m.method not in METHODS:
            raise ServiceError(f"methods: unknown method {m.method!r} ({', '.join(METHODS)})")
        if (m.method == "capitation") != (m.persons > 0):
            raise ServiceError("methods: capitation needs persons > 0 (and only capitation)")


def _agreement_view(session: Session, row: Agreement) -> dict[str, Any]:
    methods = session.scalars(
        select(PaymentMethod).where(PaymentMethod.agreement_id == row.id).order_by(PaymentMethod.id)
    ).all()
    return {
        "id": row.id,
        "institution_code": row.institution_code,
        "kind": row.kind,
        "ownership": row.ownership,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "status": row.status,
        "suspended_until": row.suspended_until,
        "methods": [{"method": m.method, "persons": m.persons} for m in methods],
    }


def list_agreements(db: Database, who: Principal, code: str) -> list[dict[str, Any]]:
    """An institution's agreements, oldest first (an institution reads only its own)."""
    _readable(who, code)
    with db.sessions() as session:
        _institution(session, code)
        rows = session.scalars(
            select(Agreement)
            .where(Agreement.institution_code == code)
            .order_by(Agreement.valid_from)
        ).all()
        return [_agreement_view(session, row) for row in rows]


def _agreement_in(session: Session, code: str, year: int) -> Agreement | None:
    """The newest agreement in force during some part of `year`."""
    agreements = _agreements_in(session, code, year)
    return agreements[-1] if agreements else None


def _agreements_in(session: Session, code: str, year: int) -> list[Agreement]:
    """Every agreement in force during some part of `year`, oldest first."""
    return list(
        session.scalars(
            select(Agreement)
            .where(
                Agreement.institution_code == code,
                Agreement.valid_from <= dt.date(year, 12, 31),
                Agreement.valid_to >= dt.date(year, 1, 1),
            )
            .order_by(Agreement.valid_from)
        ).all()
    )


@dataclass(frozen=True)
class _Term:
    """One agreement of the year as the statement needs it: its dates, methods and persons."""

    valid_from: dt.date
    valid_to: dt.date
    methods: frozenset[str]
    persons: int


def _terms_of(session: Session, agreements: list[Agreement]) -> list[_Term]:
    terms = []
    for agreement in agreements:
        methods = session.scalars(
            select(PaymentMethod).where(PaymentMethod.agreement_id == agreement.id)
        ).all()
        terms.append(
            _Term(
                agreement.valid_from,
                agreement.valid_to,
                frozenset(m.method for m in methods),
                sum(m.persons for m in methods if m.method == "capitation"),
            )
        )
    return terms


def _methods_on(terms: list[_Term]) -> Callable[[dt.date], frozenset[str]]:
    """A claim is paid under the agreement in force on its date (none: fee for service);
    agreements of an institution never overlap, so at most one matches."""

    def methods(day: dt.date) -> frozenset[str]:
        for term in terms:
            if term.valid_from <= day <= term.valid_to:
                return term.methods
        return frozenset()

    return methods


def _capitation_person_months(terms: list[_Term], year: int) -> Fraction:
    """Σ contracted persons × months of `year` each capitation agreement covers."""
    return sum(
        (t.persons * months_covered(t.valid_from, t.valid_to, year) for t in terms if t.persons),
        Fraction(0),
    )


def record_assessment(
    db: Database,
    who: Principal,
    code: str,
    year: int,
    score: Decimal,
    veto: bool = False,
    sanctions: list[str] | None = None,
    deposit_deduction_fen: int = 0,
    note: str = "",
) -> dict[str, Any]:
    """Record the year's assessment (bureau); the agreement in force takes the resulting status."""
    _bureau(who)
    if deposit_deduction_fen < 0:
        raise ServiceError("deposit_deduction: must be >= 0")
    with db.transaction() as session:
        inst = _institution(session, code)
        terms = _terms(inst.region)
        try:
            outcome = assess(score, inst.kind, veto, sanctions or [], terms.assessment)
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
        if session.scalars(
            select(Assessment).where(Assessment.institution_code == code, Assessment.year == year)
        ).first():
            raise Conflict(f"institution {code} already has an assessment for {year}")
        if _statement_row(session, code, year) is not None:
            raise Conflict(f"the {year} statement of {code} exists: the year is closed")
        agreement = _agreement_in(session, code, year)
        if agreement is None:
            raise ServiceError(f"institution {code} has no agreement in force in {year}")
        agreement.status = "active" if outcome.status in ("normal", "exposed") else outcome.status
        agreement.suspended_until = _suspended_until(year, outcome.suspended_months)
        row = Assessment(
            institution_code=code,
            year=year,
            score=score,
            veto=veto,
            sanctions=list(outcome.sanctions),
            deposit_deduction=deposit_deduction_fen,
            status=outcome.status,
            reasons=list(outcome.reasons),
            note=note,
        )
        session.add(row)
        _flush_or_conflict(session, f"institution {code} already has an assessment for {year}")
        audit.record(
            session,
            who,
            "payment.assessment.add",
            code,
            year=year,
            score=str(score),
            status=outcome.status,
            veto=veto,
            deposit_deduction_fen=deposit_deduction_fen,
        )
        return _assessment_view(row)


def _suspended_until(year: int, months: int) -> dt.date | None:
    """Suspension runs from the start of the next year for `months` months (LY-32)."""
    if months == 0:
        return None
    month = months % 12 + 1
    return dt.date(year + 1 + months // 12, month, 1)


def _assessment_view(row: Assessment) -> dict[str, Any]:
    return {
        "institution_code": row.institution_code,
        "year": row.year,
        "score": row.score,
        "veto": row.veto,
        "sanctions": row.sanctions,
        "deposit_deduction_fen": row.deposit_deduction,
        "status": row.status,
        "reasons": row.reasons,
    }


def _given_or(given: int | None, stored: int | None) -> int:
    return given if given is not None else (stored or 0)


def set_budget(
    db: Database,
    who: Principal,
    code: str,
    year: int,
    budget_fen: int,
    vbp_budget_fen: int | None = None,
    vbp_paid_fen: int | None = None,
) -> dict[str, Any]:
    """Set an institution-year's global budget and VBP figures (bureau); a closed year: 409.
    A VBP figure not given (None) keeps the one stored (0 for a new year): correcting the
    budget alone must not wipe them (QA: the year-end payable moved by 20,000.00)."""
    _bureau(who)
    if budget_fen <= 0 or (vbp_budget_fen or 0) < 0 or (vbp_paid_fen or 0) < 0:
        raise ServiceError("budget: must be > 0; vbp amounts >= 0")
    with db.transaction() as session:
        _institution(session, code)
        if _statement_row(session, code, year) is not None:
            raise Conflict(f"the {year} statement of {code} exists: the year is closed")
        row = session.get(Budget, (code, year))
        if row is None:
            row = Budget(institution_code=code, year=year)
            session.add(row)
        vbp_budget_fen = _given_or(vbp_budget_fen, row.vbp_budget)
        vbp_paid_fen = _given_or(vbp_paid_fen, row.vbp_paid)
        row.budget, row.vbp_budget, row.vbp_paid = budget_fen, vbp_budget_fen, vbp_paid_fen
        _flush_or_conflict(session, f"the {year} budget of {code} is being set concurrently")
        audit.record(
            session,
            who,
            "payment.budget.set",
            code,
            year=year,
            budget_fen=budget_fen,
            vbp_budget_fen=vbp_budget_fen,
            vbp_paid_fen=vbp_paid_fen,
        )
        return {
            "institution_code": code,
            "year": year,
            "budget_fen": budget_fen,
            "vbp_budget_fen": vbp_budget_fen,
            "vbp_paid_fen": vbp_paid_fen,
        }


def _statement_row(session: Session, code: str, year: int) -> YearEndStatement | None:
    return session.scalars(
        select(YearEndStatement).where(
            YearEndStatement.institution_code == code, YearEndStatement.year == year
        )
    ).first()


def run_year_end(
    db: Database,
    who: Principal,
    region: str,
    year: int,
    after_each: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the year-end statement of every institution of `region` with an agreement in
    force in `year`, one transaction each; done ones are skipped (`after_each` is a test hook
    called after each institution's commit). A year still running is refused: its statement
    would close it with the claims of a part year."""
    _bureau(who)
    if year >= dt.date.today().year:
        raise ServiceError(f"year: {year} has not ended (today is {dt.date.today()})")
    terms = _terms(region)
    with db.sessions() as session:
        codes = [
            inst.code
            for inst in session.scalars(
                select(Institution).where(Institution.region == region).order_by(Institution.code)
            ).all()
            if _agreement_in(session, inst.code, year) is not None
        ]
    done, skipped = [], []
    for code in codes:
        try:
            written = _settle_institution(db, who, code, year, terms)
        except IntegrityError:  # a concurrent run wrote it first
            written = False
        (done if written else skipped).append(code)
        if after_each is not None:
            after_each(code)
    return {"region": region, "year": year, "written": done, "skipped": skipped}


def _settle_institution(
    db: Database, who: Principal, code: str, year: int, terms: RegionTerms
) -> bool:
    with db.transaction() as session:
        if _statement_row(session, code, year) is not None:
            return False
        inp = _statement_input(session, code, year)
        statement = year_end_statement(inp, terms)
        totals = statement.totals
        inst = session.get(Institution, code)
        session.add(
            YearEndStatement(
                institution_code=code,
                year=year,
                region=inst.region,
                actual=statement.totals["actual_fen"],
                payable=statement.totals["payable_fen"],
                balance=statement.totals["balance_fen"],
                totals=statement.totals,
                lines=[line.as_dict() for line in statement.lines],
                flags=statement.flags,
            )
        )
        _write_deposit_ledger(session, inp, statement.totals, terms)
        audit.record(
            session,
            who,
            "payment.year_end",
            code,
            year=year,
            payable_fen=totals["payable_fen"],
            balance_fen=totals["balance_fen"],
        )
        session.flush()
    return True


def _statement_input(session: Session, code: str, year: int) -> StatementInput:
    inst = session.get(Institution, code)
    agreements = _agreements_in(session, code, year)
    agreement = agreements[-1]  # the newest: its ownership for VBP
    terms = _terms_of(session, agreements)
    budget = session.get(Budget, (code, year))
    assessed = session.scalars(
        select(Assessment).where(Assessment.institution_code == code, Assessment.year == year)
    ).first()
    drg_med_types = _terms(inst.region).drg.med_types.value
    return StatementInput(
        institution=code,
        kind=inst.kind,
        level=inst.level,
        public=agreement.ownership == "public",
        year=year,
        claims=claims_of_year(session, code, year, tuple(drg_med_types), _methods_on(terms)),
        methods=frozenset().union(*(t.methods for t in terms)),
        capitation_person_months=_capitation_person_months(terms, year),
        budget_fen=budget.budget if budget else None,
        vbp_budget_fen=budget.vbp_budget if budget else 0,
        vbp_paid_fen=budget.vbp_paid if budget else 0,
        score=assessed.score if assessed else None,
        veto=assessed.veto if assessed else False,
        deducted_fen=assessed.deposit_deduction if assessed else 0,
    )


def _write_deposit_ledger(
    session: Session, inp: StatementInput, totals: dict[str, int], terms: RegionTerms
) -> None:
    """Withheld (+) by month, then the year-end deductions, returns and forfeits (−)."""
    code, year = inp.institution, inp.year
    for month, fen in withheld_by_month(inp, terms).items():
        if fen:
            session.add(
                DepositEntry(
                    institution_code=code,
                    year=year,
                    month=month,
                    kind="withheld",
                    amount=fen,
                    note="G-LY-8",
                )
            )
    for kind in ("deducted", "returned", "forfeited"):
        fen = totals[f"deposit_{kind}_fen"]
        if fen:
            session.add(
                DepositEntry(
                    institution_code=code,
                    year=year,
                    month=None,
                    kind=kind,
                    amount=-fen,
                    note="year-end",
                )
            )


def statement_view(db: Database, who: Principal, code: str, year: int) -> dict[str, Any]:
    """The stored year-end statement (an institution reads only its own)."""
    _readable(who, code)
    with db.sessions() as session:
        row = _statement_row(session, code, year)
        if row is None:
            raise NotFound(f"no {year} statement for institution {code}")
        return {
            "institution_code": row.institution_code,
            "year": row.year,
            "region": row.region,
            "totals": dict(row.totals),
            "lines": list(row.lines),
            "flags": dict(row.flags),
        }


def deposit_ledger(db: Database, who: Principal, code: str, year: int) -> list[dict[str, Any]]:
    """The deposit ledger of an institution-year (an institution reads only its own)."""
    _readable(who, code)
    with db.sessions() as session:
        rows = session.scalars(
            select(DepositEntry)
            .where(DepositEntry.institution_code == code, DepositEntry.year == year)
            .order_by(DepositEntry.id)
        ).all()
        return [{"month": r.month, "kind": r.kind, "fen": r.amount, "note": r.note} for r in rows]
