"""Case use cases over the database: open from flags, take steps, read, measure precision.

One transaction per use case; every step is a `supervision_case_steps` row and an audit entry
written in that same transaction. The rules of the workflow are `workflow.apply` (pure); this
module loads the case, asks the rules, and stores what they answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.cases import workflow
from yibao.cases.flags import Flag, PlannedCase, natural_key, plan_cases
from yibao.cases.params import workflow_params
from yibao.cases.precision import precision_table
from yibao.service import audit
from yibao.service.errors import Forbidden, NotFound, ServiceError
from yibao.service.principal import Principal
from yibao.store.cases import CaseFlag, CaseStep, SupervisionCase
from yibao.store.db import Database

_KEY_CHUNK = 500  # keys per IN (...) query, well under every driver's parameter limit


def today() -> dt.date:
    """The business date of a step (tests replace this clock)."""
    return dt.date.today()


# ---------------------------------------------------------------- opening
def import_flags(
    db: Database, who: Principal, flags: Sequence[Flag], group: bool = False
) -> dict[str, Any]:
    """Open a case for each flag not seen before (bureau). Idempotent: a flag's natural key
    opens at most one case, so importing the same flags again opens nothing."""
    needed = workflow.ROLE_OF["open"]
    if who.role != needed:
        raise Forbidden(f"open cases: only the {needed} may do this, not {who.role}")
    try:
        return _import_once(db, who, flags, group)
    except IntegrityError:
        # a concurrent import opened some of these keys first (PostgreSQL): now they are known
        return _import_once(db, who, flags, group)


def _import_once(
    db: Database, who: Principal, flags: Sequence[Flag], group: bool
) -> dict[str, Any]:
    day = today()
    keys = [natural_key(f) for f in flags]
    with db.transaction() as session:
        known = _known_keys(session, keys)
        planned = plan_cases(flags, known, group)
        ids = _open(session, who, planned, day)
    skipped = sum(1 for key in keys if key in known)
    return {"flags": len(flags), "opened": len(ids), "already_open": skipped, "case_ids": ids}


def _known_keys(session: Session, keys: list[str]) -> set[str]:
    known: set[str] = set()
    unique = sorted(set(keys))
    for i in range(0, len(unique), _KEY_CHUNK):
        chunk = unique[i : i + _KEY_CHUNK]
        known |= set(session.scalars(select(CaseFlag.flag_key).where(CaseFlag.flag_key.in_(chunk))))
    return known


def _open(session: Session, who: Principal, planned: list[PlannedCase], day: dt.date) -> list[int]:
    """Insert the planned cases, their keys, their open steps and audit entries (in bulk: an
    import may open many thousands of cases)."""
    if not planned:
        return []
    rows = [_case_row(plan, who) for plan in planned]
    inserted = insert(SupervisionCase).returning(SupervisionCase.id, sort_by_parameter_order=True)
    ids = list(session.scalars(inserted, rows))
    keys = [
        {"flag_key": k, "case_id": i}
        for plan, i in zip(planned, ids, strict=True)
        for k in plan.keys
    ]
    session.execute(insert(CaseFlag), keys)
    steps = []
    for plan, case_id in zip(planned, ids, strict=True):
        first = plan.first
        detail = {"flags": len(plan.flags), "amount_at_risk_fen": plan.amount_at_risk_fen}
        steps.append(_step_fields(case_id, 1, "open", None, "open", who, day, "", detail))
        audit.record(
            session, who, "case.open", _target(case_id),
            rule=first.rule, person_id=first.person_id, institution=first.institution, **detail,
        )  # fmt: skip
    session.execute(insert(CaseStep), steps)
    return ids


def _case_row(plan: PlannedCase, who: Principal) -> dict[str, Any]:
    first = plan.first
    state = workflow.opened(first.institution, plan.amount_at_risk_fen)
    return {
        "rule": first.rule,
        "name_zh": first.name_zh,
        "name_en": first.name_en,
        "severity": first.severity,
        "region": first.region,
        "person_id": first.person_id,
        "institution": first.institution,
        "claim_ids": plan.claim_ids,
        "flags": [f.model_dump(mode="json") for f in plan.flags],
        "basis": first.basis,
        "amount_at_risk": plan.amount_at_risk_fen,
        "status": state.status,
        "recovered": 0,
        "steps": 1,
        "opened_by": who.name,
    }


# ---------------------------------------------------------------- steps
def review(db: Database, who: Principal, case_id: int, note: str, recommendation: str):
    """First review (auditor): a note and a recommendation, confirm or dismiss."""
    return advance(db, who, case_id, "review", note=note, recommendation=recommendation)


def re_review(db: Database, who: Principal, case_id: int, note: str, recommendation: str):
    """Re-review by another auditor; opens the institution's appeal window."""
    return advance(db, who, case_id, "re_review", note=note, recommendation=recommendation)


def appeal(db: Database, who: Principal, case_id: int, reason: str):
    """The institution concerned appeals, within the window."""
    return advance(db, who, case_id, "appeal", note=reason)


def decide(db: Database, who: Principal, case_id: int, outcome: str, reason: str):
    """The bureau's decision: confirmed or dismissed, with its reason."""
    return advance(db, who, case_id, "decision", note=reason, outcome=outcome)


def recover(
    db: Database,
    who: Principal,
    case_id: int,
    amount_fen: int,
    note: str = "",
    justification: str | None = None,
):
    """Record money recovered on a confirmed case; partial recoveries add up."""
    return advance(
        db, who, case_id, "recovery", note=note, amount_fen=amount_fen, justification=justification
    )


def advance(
    db: Database, who: Principal, case_id: int, action: str, on: dt.date | None = None, **fields
) -> dict[str, Any]:
    """Take one step on a case (the rules: `workflow.apply`); answers the case afterwards."""
    step = workflow.Step(action, who.name, who.role, on or today(), who.institution_code, **fields)
    window = workflow_params().appeal_window_days.value
    with db.transaction() as session:
        case = _visible(session, who, case_id, lock=True)
        before = _state(case)
        try:
            after = workflow.apply(before, step, window)
        except ServiceError as exc:  # same kind of refusal, naming the case
            raise type(exc)(f"case {case_id}: {exc.message}") from None
        _store(case, after, step)
        detail = _step_detail(step, after)
        fields = _step_fields(
            case.id, case.steps, action, before.status, after.status, who, step.day, step.note
        )
        fields.update(outcome=step.outcome, amount=step.amount_fen, detail=detail)
        session.add(CaseStep(**fields))
        audit.record(
            session,
            who,
            f"case.{action}",
            _target(case.id),
            from_status=before.status,
            to_status=after.status,
            seq=case.steps,
            **detail,
        )
    return case_view(db, who, case_id)


def _state(case: SupervisionCase) -> workflow.CaseState:
    return workflow.CaseState(
        status=case.status,
        institution=case.institution,
        amount_at_risk_fen=case.amount_at_risk,
        recovered_fen=case.recovered,
        reviewed_by=case.reviewed_by,
        re_reviewed_by=case.re_reviewed_by,
        appeal_deadline=case.appeal_deadline,
        decision=case.decision,
    )


def _store(case: SupervisionCase, after: workflow.CaseState, step: workflow.Step) -> None:
    case.status = after.status
    case.reviewed_by = after.reviewed_by
    case.re_reviewed_by = after.re_reviewed_by
    case.appeal_deadline = after.appeal_deadline
    case.decision = after.decision
    case.recovered = after.recovered_fen
    if step.action == "decision":
        case.decision_reason = step.note
    case.steps += 1


def _step_detail(step: workflow.Step, after: workflow.CaseState) -> dict[str, Any]:
    """What a step decided besides its note, for the step row and the audit entry."""
    detail: dict[str, Any] = {}
    if step.action in ("review", "re_review"):
        detail["recommendation"] = step.recommendation
    if step.action == "re_review":
        detail["appeal_deadline"] = str(after.appeal_deadline)
    if step.action == "decision":
        detail["outcome"] = step.outcome
    if step.action == "recovery":
        detail.update(amount_fen=step.amount_fen, total_fen=after.recovered_fen)
        if step.justification:
            detail["justification"] = step.justification
    return detail


def _step_fields(
    case_id: int,
    seq: int,
    action: str,
    from_status: str | None,
    to_status: str,
    who: Principal,
    day: dt.date,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "seq": seq,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "actor": who.name,
        "role": who.role,
        "day": day,
        "note": note,
        "outcome": None,
        "amount": None,
        "detail": detail or {},
    }


# ---------------------------------------------------------------- reading
def _visible(session: Session, who: Principal, case_id: int, lock: bool = False) -> SupervisionCase:
    """The case, or NotFound; an institution sees only cases naming it."""
    case = session.get(SupervisionCase, case_id, with_for_update=lock)
    if case is None or (who.role == "institution" and case.institution != who.institution_code):
        raise NotFound(f"case {case_id} not found")
    return case


def case_view(db: Database, who: Principal, case_id: int) -> dict[str, Any]:
    """One case with its flags (evidence copied in) and every step, oldest first."""
    with db.sessions() as session:
        case = _visible(session, who, case_id)
        steps = session.scalars(
            select(CaseStep).where(CaseStep.case_id == case_id).order_by(CaseStep.seq)
        ).all()
        return {**summary(case), "flags": case.flags, "steps": [_step_view(s) for s in steps]}


def list_cases(
    db: Database,
    who: Principal,
    status: str | None = None,
    rule: str | None = None,
    institution: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Cases, oldest first, filtered; an institution sees only the cases naming it."""
    query = select(SupervisionCase).order_by(SupervisionCase.id).limit(limit).offset(offset)
    if who.role == "institution":
        query = query.where(SupervisionCase.institution == who.institution_code)
    for column, value in (
        (SupervisionCase.status, status),
        (SupervisionCase.rule, rule),
        (SupervisionCase.institution, institution),
    ):
        if value is not None:
            query = query.where(column == value)
    with db.sessions() as session:
        return [summary(case) for case in session.scalars(query).all()]


def summary(case: SupervisionCase) -> dict[str, Any]:
    """A case without its flags and steps; amounts in fen."""
    return {
        "id": case.id,
        "rule": case.rule,
        "name_zh": case.name_zh,
        "name_en": case.name_en,
        "severity": case.severity,
        "region": case.region,
        "person_id": case.person_id,
        "institution": case.institution,
        "claim_ids": case.claim_ids,
        "basis": case.basis,
        "status": case.status,
        "amount_at_risk_fen": case.amount_at_risk,
        "recovered_fen": case.recovered,
        "reviewed_by": case.reviewed_by,
        "re_reviewed_by": case.re_reviewed_by,
        "appeal_deadline": case.appeal_deadline,
        "decision": case.decision,
        "decision_reason": case.decision_reason,
        "opened_by": case.opened_by,
        "next_steps": workflow.allowed_actions(_state(case)),
    }


def _step_view(step: CaseStep) -> dict[str, Any]:
    return {
        "seq": step.seq,
        "action": step.action,
        "from_status": step.from_status,
        "to_status": step.to_status,
        "actor": step.actor,
        "role": step.role,
        "day": step.day,
        "note": step.note,
        "outcome": step.outcome,
        "amount_fen": step.amount,
        "detail": step.detail,
        "at": step.at,
    }


def precision(db: Database, who: Principal) -> dict[str, list[dict]]:
    """Each rule's measured precision, overall and per region (bureau and auditors)."""
    if who.role not in ("bureau", "auditor"):
        raise Forbidden("precision: only the bureau and auditors may read this")
    query = select(
        SupervisionCase.rule, SupervisionCase.region, SupervisionCase.decision, func.count()
    ).group_by(SupervisionCase.rule, SupervisionCase.region, SupervisionCase.decision)
    with db.sessions() as session:
        return precision_table(tuple(row) for row in session.execute(query).all())


def _target(case_id: int) -> str:
    return f"case/{case_id}"
