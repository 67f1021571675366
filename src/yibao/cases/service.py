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
from yibao.cases.flags import (
    Flag,
    HeldCase,
    ImportPlan,
    Part,
    PlannedCase,
    finding,
    finding_of,
    natural_key,
    plan_import,
)
from yibao.cases.params import workflow_params
from yibao.cases.precision import precision_table
from yibao.service import audit
from yibao.service.errors import Forbidden, NotFound, ServiceError
from yibao.service.principal import Principal
from yibao.store.cases import CaseFlag, CaseStep, SupervisionCase
from yibao.store.db import Database
from yibao.supervision.params import RULE_IDS

_KEY_CHUNK = 500  # keys per IN (...) query, well under every driver's parameter limit


def today() -> dt.date:
    """The business date of a step (tests replace this clock)."""
    return dt.date.today()


# ---------------------------------------------------------------- opening
def import_flags(
    db: Database, who: Principal, flags: Sequence[Flag], group: bool = False
) -> dict[str, Any]:
    """Open a case for each flag not seen before (bureau). Idempotent: a flag's natural key
    opens at most one case, so importing the same flags again opens nothing; a flag of a
    finding already in a case adds only what is new (`flags.plan_import`)."""
    needed = workflow.ROLE_OF["open"]
    if who.role != needed:
        raise Forbidden(f"open cases: only the {needed} may do this, not {who.role}")
    try:
        return _import_once(db, who, flags, group)
    except IntegrityError:
        # a concurrent import or step took a key or a step number first: now it is known
        return _import_once(db, who, flags, group)


def _import_once(
    db: Database, who: Principal, flags: Sequence[Flag], group: bool
) -> dict[str, Any]:
    day = today()
    keys = [natural_key(f) for f in flags]
    with db.transaction() as session:
        known = _known_keys(session, keys)
        fresh = [f for f, key in zip(flags, keys, strict=True) if key not in known]
        held = _held_cases(session, fresh)
        plan = plan_import(fresh, known, held.values(), group)
        ids = _open(session, who, plan.new, day)
        updated = _update(session, who, held, plan.updates, day)
        _keep_keys(session, plan, ids)
    skipped = sum(1 for key in keys if key in known or key in plan.covered)
    return {
        "flags": len(flags),
        "opened": len(ids),
        "updated": len(updated),
        "already_open": skipped,
        "case_ids": ids,
        "updated_case_ids": updated,
    }


def _chunks(values: set[str]) -> list[list[str]]:
    """Sorted values in chunks for IN (...) queries."""
    unique = sorted(values)
    return [unique[i : i + _KEY_CHUNK] for i in range(0, len(unique), _KEY_CHUNK)]


def _known_keys(session: Session, keys: list[str]) -> set[str]:
    known: set[str] = set()
    for chunk in _chunks(set(keys)):
        known |= set(session.scalars(select(CaseFlag.flag_key).where(CaseFlag.flag_key.in_(chunk))))
    return known


def _held_cases(session: Session, flags: Sequence[Flag]) -> dict[int, HeldCase]:
    """The stored cases of the flags' findings, which the flags may overlap; locked, so no
    step changes an open case while the import adds to it."""
    wanted = {finding_of(f) for f in flags}
    persons = {f.person_id for f in flags if f.person_id is not None}
    institutions = {f.institution for f in flags if f.person_id is None and f.institution}
    queries = [SupervisionCase.person_id.in_(chunk) for chunk in _chunks(persons)] + [
        SupervisionCase.person_id.is_(None) & SupervisionCase.institution.in_(chunk)
        for chunk in _chunks(institutions)
    ]
    held: dict[int, HeldCase] = {}
    for where in queries:
        for case in session.scalars(select(SupervisionCase).where(where).with_for_update()):
            found = finding(case.rule, case.region, case.person_id, case.institution)
            if found in wanted:
                held[case.id] = HeldCase(case.id, case.status, found, tuple(case.flags))
    return held


def _open(session: Session, who: Principal, planned: list[PlannedCase], day: dt.date) -> list[int]:
    """Insert the planned cases, their open steps and audit entries (in bulk: an import may
    open many thousands of cases)."""
    if not planned:
        return []
    rows = [_case_row(plan, who) for plan in planned]
    inserted = insert(SupervisionCase).returning(SupervisionCase.id, sort_by_parameter_order=True)
    ids = list(session.scalars(inserted, rows))
    steps = []
    for plan, case_id in zip(planned, ids, strict=True):
        first = plan.first
        detail: dict[str, Any] = {
            "flags": len(plan.parts), "amount_at_risk_fen": plan.amount_at_risk_fen,
        }  # fmt: skip
        if plan.extends:  # what a later run found beyond the cases already holding its finding
            detail["extends"] = plan.extends
        steps.append(_step_fields(case_id, 1, "open", None, "open", who, day, "", detail))
        audit.record(
            session, who, "case.open", _target(case_id),
            rule=first.rule, person_id=first.person_id, institution=first.institution, **detail,
        )  # fmt: skip
    session.execute(insert(CaseStep), steps)
    return ids


def _update(
    session: Session,
    who: Principal,
    held: dict[int, HeldCase],
    updates: dict[int, list[Part]],
    day: dt.date,
) -> list[int]:
    """Add the parts of later flags to open cases (nobody has reviewed their evidence yet):
    claims, amount at risk and flag copies, each change an `update` step and audit entry."""
    for case_id, parts in updates.items():
        case = session.get(SupervisionCase, case_id)
        assert case is not None and held[case_id].status == case.status == "open"
        added = sorted({c for p in parts for c in p.claim_ids} - set(case.claim_ids))
        before = case.amount_at_risk
        after = before + sum(p.amount_at_risk_fen for p in parts)
        detail = {
            "flags": len(parts),
            "added_claim_ids": added,
            "amount_at_risk_fen": {"before": before, "after": after},
        }
        case.flags = [*case.flags, *(p.stored() for p in parts)]
        case.claim_ids = sorted({*case.claim_ids, *added})
        case.amount_at_risk = after
        case.steps += 1
        fields = _step_fields(case_id, case.steps, "update", "open", "open", who, day, "", detail)
        session.add(CaseStep(**fields))
        audit.record(session, who, "case.update", _target(case_id), seq=case.steps, **detail)
    return sorted(updates)


def _keep_keys(session: Session, plan: ImportPlan, ids: list[int]) -> None:
    """Each new key points at its case: the one opened or updated for it, or the newest of
    the cases that already held it whole, so importing the same flags again does nothing."""
    owner: dict[str, int] = {}
    for planned, case_id in zip(plan.new, ids, strict=True):
        owner.update((key, case_id) for key in planned.keys if key not in owner)
    for case_id, parts in plan.updates.items():
        owner.update((p.key, case_id) for p in parts if p.key not in owner)
    owner.update((k, i) for k, i in plan.covered.items() if k not in owner)
    if owner:
        session.execute(insert(CaseFlag), [{"flag_key": k, "case_id": i} for k, i in owner.items()])


def _case_row(plan: PlannedCase, who: Principal) -> dict[str, Any]:
    first = plan.first
    state = workflow.opened(first.institution, plan.amount_at_risk_fen, first.rule)
    return {
        "rule": first.rule,
        "name_zh": first.name_zh,
        "name_en": first.name_en,
        "severity": first.severity,
        "region": first.region,
        "person_id": first.person_id,
        "institution": first.institution,
        "claim_ids": plan.claim_ids,
        "flags": plan.stored_flags(),
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
        rule=case.rule,
        identity_rule=case.rule in workflow_params().identity_rules.value,
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
    where = _filters(who, status, rule, institution)
    query = select(SupervisionCase).where(*where).order_by(SupervisionCase.id)
    with db.sessions() as session:
        return [summary(c) for c in session.scalars(query.limit(limit).offset(offset)).all()]


def count_cases(
    db: Database,
    who: Principal,
    status: str | None = None,
    rule: str | None = None,
    institution: str | None = None,
) -> int:
    """How many cases `list_cases` pages through with these filters."""
    where = _filters(who, status, rule, institution)
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(SupervisionCase).where(*where))


def _filters(who: Principal, status: str | None, rule: str | None, institution: str | None):
    """The conditions of a listing; an unknown status or rule is refused, naming the known
    ones (a typo would otherwise read as "no cases")."""
    if status is not None and status not in workflow.STATUSES:
        known = ", ".join(workflow.STATUSES)
        raise ServiceError(f"status: {status!r} is not a case status (one of: {known})")
    if rule is not None and rule not in RULE_IDS:
        raise ServiceError(f"rule: {rule!r} is not a rule (one of: {', '.join(RULE_IDS)})")
    where = [
        column == value
        for column, value in (
            (SupervisionCase.status, status),
            (SupervisionCase.rule, rule),
            (SupervisionCase.institution, institution),
        )
        if value is not None
    ]
    if who.role == "institution":
        where.append(SupervisionCase.institution == who.institution_code)
    return where


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
