"""The case state machine: which step may follow which, and who may take it. Pure: no DB,
no clock (the day of a step is given), no files.

    open ─review→ reviewed ─re_review→ re_reviewed ─appeal→ appealed ─decision→ confirmed
                                        └─decision, once the appeal window closed─┘ or dismissed
    confirmed ─recovery→ recovered ─recovery→ recovered …

Roles: the bureau opens, decides and records recoveries; an auditor reviews and re-reviews
(never re-reviewing their own review); nobody decides a case they reviewed or re-reviewed
(names compared as `same_actor`); the institution concerned appeals, within
`appeal_window_days` of the re-review. A decision without an appeal waits until that window
has closed, so no decision can take the institution's chance to appeal away; only a case of
an identity rule naming no institution, which nobody can appeal, is decided straight away.
Recoveries add up; a recovery taking the total above the amount at risk needs a
justification.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Literal

from yibao.money import yuan_str
from yibao.service.errors import Conflict, Forbidden, ServiceError

Status = Literal[
    "open", "reviewed", "re_reviewed", "appealed", "confirmed", "dismissed", "recovered"
]
Action = Literal["review", "re_review", "appeal", "decision", "recovery"]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]
OUTCOMES = ("confirmed", "dismissed")
RECOMMENDATIONS = ("confirm", "dismiss")

# who may take each step (and who opens a case: the bureau)
ROLE_OF: dict[str, str] = {
    "open": "bureau",
    "review": "auditor",
    "re_review": "auditor",
    "appeal": "institution",
    "decision": "bureau",
    "recovery": "bureau",
}
# the statuses each step may start from
FROM: dict[str, tuple[str, ...]] = {
    "review": ("open",),
    "re_review": ("reviewed",),
    "appeal": ("re_reviewed",),
    "decision": ("re_reviewed", "appealed"),
    "recovery": ("confirmed", "recovered"),
}


@dataclass(frozen=True)
class CaseState:
    """What the rules need to know of a case."""

    status: str
    institution: str | None
    amount_at_risk_fen: int
    recovered_fen: int = 0
    reviewed_by: str | None = None
    re_reviewed_by: str | None = None
    appeal_deadline: dt.date | None = None
    decision: str | None = None
    rule: str = ""
    identity_rule: bool = False  # the rule finds someone using another's card (人证不符)


@dataclass(frozen=True)
class Step:
    """A step someone asks to take; `day` is the business date it is taken on."""

    action: str
    actor: str
    role: str
    day: dt.date
    institution_code: str | None = None  # the caller's institution, for an appeal
    note: str = ""
    recommendation: str | None = None  # review / re_review: confirm or dismiss
    outcome: str | None = None  # decision: confirmed or dismissed
    amount_fen: int | None = None  # recovery
    justification: str | None = None  # recovery above the amount at risk


def opened(
    institution: str | None, amount_at_risk_fen: int, rule: str = "", identity_rule: bool = False
) -> CaseState:
    """The state of a newly opened case."""
    if amount_at_risk_fen < 0:
        raise ServiceError("amount_at_risk_fen: must be >= 0")
    return CaseState(
        "open", institution, amount_at_risk_fen, rule=rule, identity_rule=identity_rule
    )


def same_actor(name: str | None, other: str | None) -> bool:
    """Two names of one person: equal once their width, case and surrounding spaces are
    normalised (NFKC, casefold), so `Inspector-Li` cannot re-review `inspector-li`."""
    if name is None or other is None:
        return False
    return _normalised(name) == _normalised(other)


def _normalised(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def allowed_actions(state: CaseState) -> list[str]:
    """Steps the status admits now (whoever takes them), in workflow order."""
    return [a for a in ACTIONS if state.status in FROM[a]]


def apply(state: CaseState, step: Step, appeal_window_days: int) -> CaseState:
    """The state after `step`, or Forbidden (who) / Conflict (when) / ServiceError (input)."""
    _check_role(state, step)
    _check_order(state, step)
    _check_input(step)
    return _RULES[step.action](state, step, appeal_window_days)


def _check_role(state: CaseState, step: Step) -> None:
    if step.action not in ROLE_OF or step.action == "open":
        raise ServiceError(f"action: unknown step {step.action!r}")
    needed = ROLE_OF[step.action]
    if step.role != needed:
        raise Forbidden(f"{_label(step.action)}: only the {needed} may do this, not {step.role}")
    if step.action == "appeal" and step.institution_code != state.institution:
        raise Forbidden("appeal: only the institution concerned may appeal")


def _check_order(state: CaseState, step: Step) -> None:
    if state.status in FROM[step.action]:
        return
    now = ", ".join(_label(a) for a in allowed_actions(state)) or "nothing (the case is closed)"
    raise Conflict(
        f"case is {state.status}: {_label(step.action)} is not possible now (possible: {now})"
    )


def _check_input(step: Step) -> None:
    for name, text in (
        (_field_of_note(step.action), step.note),
        ("justification", step.justification),
    ):
        if text and "\x00" in text:  # PostgreSQL text cannot hold NUL
            raise ServiceError(f"{name}: must not contain NUL characters")
    if step.action != "recovery" and not step.note.strip():
        raise ServiceError(f"{_field_of_note(step.action)}: must not be empty")
    if step.action in ("review", "re_review") and step.recommendation not in RECOMMENDATIONS:
        raise ServiceError("recommendation: must be confirm or dismiss")
    if step.action == "decision" and step.outcome not in OUTCOMES:
        raise ServiceError("outcome: must be confirmed or dismissed")
    if step.action == "recovery" and (step.amount_fen is None or step.amount_fen <= 0):
        raise ServiceError("amount: must be > 0")


def _field_of_note(action: str) -> str:
    return {"appeal": "reason", "decision": "reason"}.get(action, "note")


def _review(state: CaseState, step: Step, _window: int) -> CaseState:
    return dataclasses.replace(state, status="reviewed", reviewed_by=step.actor)


def _re_review(state: CaseState, step: Step, window: int) -> CaseState:
    if same_actor(step.actor, state.reviewed_by):  # named as the review recorded them
        raise Forbidden(
            f"re-review: {state.reviewed_by} reviewed this case and may not re-review it"
        )
    deadline = step.day + dt.timedelta(days=window)
    return dataclasses.replace(
        state, status="re_reviewed", re_reviewed_by=step.actor, appeal_deadline=deadline
    )


def _appeal(state: CaseState, step: Step, _window: int) -> CaseState:
    if state.institution is None:
        raise Conflict("appeal: the case names no institution")
    assert state.appeal_deadline is not None  # set by the re-review
    if step.day > state.appeal_deadline:
        raise Conflict(f"appeal: the appeal window closed on {state.appeal_deadline}")
    return dataclasses.replace(state, status="appealed")


def _decision(state: CaseState, step: Step, _window: int) -> CaseState:
    _check_not_a_reviewer(state, step)
    if state.status == "re_reviewed" and not _nobody_can_appeal(state):
        _check_window_closed(state, step)
    assert step.outcome is not None
    return dataclasses.replace(state, status=step.outcome, decision=step.outcome)


def _check_not_a_reviewer(state: CaseState, step: Step) -> None:
    """The four-eyes rule: who found (reviewed) a case does not also judge it."""
    for did, who in (("reviewed", state.reviewed_by), ("re-reviewed", state.re_reviewed_by)):
        if same_actor(step.actor, who):
            raise Forbidden(f"decision: {who} {did} this case and may not decide it")


def _nobody_can_appeal(state: CaseState) -> bool:
    """A case of an identity rule (someone else used the card) may name no institution: then
    there is nobody to appeal and no window to wait for. Any other rule's case waits."""
    return state.identity_rule and state.institution is None


def _check_window_closed(state: CaseState, step: Step) -> None:
    assert state.appeal_deadline is not None  # set by the re-review
    if step.day > state.appeal_deadline:
        return
    if state.institution is None:
        raise Conflict(
            f"decision: the case names no institution, but {state.rule} is not an identity "
            f"rule: the appeal window runs until {state.appeal_deadline}; decide after that day"
        )
    raise Conflict(
        f"decision: the institution may appeal until {state.appeal_deadline}; "
        "decide after that day or after its appeal"
    )


def _recovery(state: CaseState, step: Step, _window: int) -> CaseState:
    assert step.amount_fen is not None
    total = state.recovered_fen + step.amount_fen
    if total > state.amount_at_risk_fen and not (step.justification or "").strip():
        raise Conflict(
            f"recovery: {yuan_str(total)} in all would exceed the amount at risk "
            f"{yuan_str(state.amount_at_risk_fen)}; give a justification"
        )
    return dataclasses.replace(state, status="recovered", recovered_fen=total)


_RULES = {
    "review": _review,
    "re_review": _re_review,
    "appeal": _appeal,
    "decision": _decision,
    "recovery": _recovery,
}


def _label(action: str) -> str:
    return action.replace("_", "-")
