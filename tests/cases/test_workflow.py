"""The case state machine (pure): legal paths, refusals, and random step sequences."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from yibao.cases import workflow
from yibao.cases.params import workflow_params
from yibao.cases.workflow import CaseState, Step, apply
from yibao.service.errors import Conflict, Forbidden, ServiceError
from yibao.supervision.params import RULE_IDS

DAY = dt.date(2026, 3, 2)
WINDOW = 15


def step(action: str, who: str = "", day: dt.date = DAY, **fields) -> Step:
    role = workflow.ROLE_OF[action]
    actor = who or {"auditor": "a1", "bureau": "clerk", "institution": "H001"}[role]
    code = "H001" if role == "institution" else None
    defaults = {
        "review": {"note": "n", "recommendation": "confirm"},
        "re_review": {"note": "n", "recommendation": "confirm"},
        "appeal": {"note": "we disagree"},
        "decision": {"note": "proven", "outcome": "confirmed"},
        "recovery": {"amount_fen": 100},
    }[action]
    return Step(action, actor, role, day, code, **{**defaults, **fields})


def re_reviewed(amount_fen: int = 1000, institution: str | None = "H001") -> CaseState:
    state = workflow.opened(institution, amount_fen)
    state = apply(state, step("review", "a1"), WINDOW)
    return apply(state, step("re_review", "a2"), WINDOW)


def test_the_full_path_with_an_appeal():
    state = re_reviewed()
    # 2026-03-02 + 15 days (the G-ALL-9 window of workflow.yaml) = 2026-03-17
    assert state.appeal_deadline == dt.date(2026, 3, 17)
    state = apply(state, step("appeal", day=dt.date(2026, 3, 17)), WINDOW)  # last day: still in
    state = apply(state, step("decision", day=dt.date(2026, 3, 17)), WINDOW)
    assert (state.status, state.decision) == ("confirmed", "confirmed")
    state = apply(state, step("recovery", amount_fen=300), WINDOW)
    state = apply(state, step("recovery", amount_fen=700), WINDOW)
    assert (state.status, state.recovered_fen) == ("recovered", 1000)  # 300 + 700 add up


def test_an_appeal_after_the_window_is_refused():
    with pytest.raises(Conflict, match="appeal window closed on 2026-03-17"):
        apply(re_reviewed(), step("appeal", day=dt.date(2026, 3, 18)), WINDOW)


def test_a_decision_waits_for_the_appeal_window_unless_the_institution_appealed():
    with pytest.raises(Conflict, match="may appeal until 2026-03-17"):
        apply(re_reviewed(), step("decision", day=dt.date(2026, 3, 17)), WINDOW)
    late = step("decision", day=dt.date(2026, 3, 18), outcome="dismissed")
    assert apply(re_reviewed(), late, WINDOW).status == "dismissed"


def test_an_identity_case_naming_no_institution_is_decided_without_waiting():
    state = workflow.opened(None, 1000, rule="deceased_person", identity_rule=True)
    state = apply(apply(state, step("review", "a1"), WINDOW), step("re_review", "a2"), WINDOW)
    assert apply(state, step("decision"), WINDOW).status == "confirmed"


def test_a_reviewer_may_not_re_review_their_own_review():
    state = apply(workflow.opened("H001", 1000), step("review", "a1"), WINDOW)
    with pytest.raises(Forbidden, match="a1 reviewed this case"):
        apply(state, step("re_review", "a1"), WINDOW)


@pytest.mark.parametrize("action", workflow.ACTIONS)
@pytest.mark.parametrize("role", ["institution", "bureau", "auditor"])
def test_each_step_belongs_to_one_role(action, role):
    ready = {
        "review": workflow.opened("H001", 1000),
        "re_review": apply(workflow.opened("H001", 1000), step("review", "a1"), WINDOW),
        "appeal": re_reviewed(),
        "decision": apply(re_reviewed(), step("appeal"), WINDOW),
        "recovery": apply(apply(re_reviewed(), step("appeal"), WINDOW), step("decision"), WINDOW),
    }[action]
    asked = dataclasses.replace(step(action, "a9"), role=role, institution_code="H001")
    if role == workflow.ROLE_OF[action]:
        assert apply(ready, asked, WINDOW).status != ready.status or action == "recovery"
    else:
        with pytest.raises(Forbidden, match=f"only the {workflow.ROLE_OF[action]} may"):
            apply(ready, asked, WINDOW)


def test_only_the_institution_concerned_may_appeal():
    other = dataclasses.replace(step("appeal"), actor="H002", institution_code="H002")
    with pytest.raises(Forbidden, match="only the institution concerned"):
        apply(re_reviewed(), other, WINDOW)


def test_an_illegal_transition_names_the_status_and_what_is_possible():
    with pytest.raises(Conflict, match=r"case is open: decision is not possible now \(possible: "):
        apply(workflow.opened("H001", 1000), step("decision"), WINDOW)
    dismissed = apply(
        re_reviewed(), step("decision", day=dt.date(2026, 4, 1), outcome="dismissed"), 15
    )
    with pytest.raises(Conflict, match="possible: nothing"):
        apply(dismissed, step("recovery"), WINDOW)


def test_recovery_above_the_amount_at_risk_needs_a_justification():
    confirmed = apply(apply(re_reviewed(1000), step("appeal"), WINDOW), step("decision"), WINDOW)
    state = apply(confirmed, step("recovery", amount_fen=600), WINDOW)
    # 600 + 401 = 1,001 fen = 10.01 yuan, above the 10.00 yuan at risk
    with pytest.raises(Conflict, match=r"10\.01 in all would exceed the amount at risk 10\.00;"):
        apply(state, step("recovery", amount_fen=401), WINDOW)
    assert apply(state, step("recovery", amount_fen=400), WINDOW).recovered_fen == 1000
    justified = step("recovery", amount_fen=900, justification="interest and penalty")
    assert apply(state, justified, WINDOW).recovered_fen == 1500


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("review", {"note": "  "}, "note: must not be empty"),
        ("review", {"recommendation": "maybe"}, "recommendation: must be confirm or dismiss"),
        ("decision", {"outcome": "perhaps"}, "outcome: must be confirmed or dismissed"),
        ("recovery", {"amount_fen": 0}, "amount: must be > 0"),
    ],
)
def test_bad_input_is_refused_with_the_field(action, fields, message):
    ready = {
        "review": workflow.opened("H001", 1000),
        "decision": apply(re_reviewed(), step("appeal"), WINDOW),
        "recovery": apply(apply(re_reviewed(), step("appeal"), WINDOW), step("decision"), WINDOW),
    }[action]
    with pytest.raises(ServiceError, match=message):
        apply(ready, step(action, **fields), WINDOW)


# ---------------------------------------------------------------- random step sequences
def step_request(data, state: CaseState) -> dict:
    """A step request: mostly a well-formed step the status admits (so deep states are
    reached), sometimes anything at all."""
    possible = workflow.allowed_actions(state)
    action = data.draw(st.sampled_from(possible * 6 + list(workflow.ACTIONS)))
    right = workflow.ROLE_OF[action]
    mostly = lambda good, *bad: st.sampled_from([good] * 8 + list(bad))  # noqa: E731
    return {
        "action": action,
        "role": data.draw(mostly(right, "institution", "bureau", "auditor")),
        "actor": data.draw(st.sampled_from(["a1", "a2", "clerk", "H001"])),
        "institution_code": data.draw(mostly("H001", "H002", None)),
        "days": data.draw(st.integers(0, 12)),
        "note": data.draw(mostly("why", "", " ")),
        "recommendation": data.draw(mostly("confirm", "dismiss", None)),
        "outcome": data.draw(mostly("confirmed", "dismissed", None)),
        "amount_fen": data.draw(st.integers(-5, 1500)),
        "justification": data.draw(st.sampled_from([None, "", "penalty"])),
    }


@settings(max_examples=400, deadline=None)
@given(
    amount=st.integers(0, 2000),
    institution=st.sampled_from(["H001", None]),
    identity=st.booleans(),
    length=st.integers(0, 40),
    data=st.data(),
)
def test_random_step_sequences_never_reach_an_illegal_state(
    amount, institution, identity, length, data
):
    state, day = workflow.opened(institution, amount, "r", identity_rule=identity), DAY
    recovered = 0
    for _ in range(length):
        raw = step_request(data, state)
        day += dt.timedelta(days=raw.pop("days"))
        request = Step(day=day, **raw)
        try:
            after = apply(state, request, WINDOW)
        except ServiceError:
            continue  # refused: the state is unchanged (it is immutable)
        # who: the step's own role, the institution concerned, never the reviewer re-reviewing
        assert request.role == workflow.ROLE_OF[request.action]
        assert state.status in workflow.FROM[request.action]
        if request.action == "appeal":
            assert request.institution_code == institution and day <= state.appeal_deadline
        skips_window = identity and institution is None  # nobody could appeal
        if request.action == "decision" and state.status == "re_reviewed" and not skips_window:
            assert day > state.appeal_deadline
        if request.action == "re_review":
            assert request.actor != state.reviewed_by
        if request.action == "decision":
            assert request.actor not in (state.reviewed_by, state.re_reviewed_by)
        # money: recoveries add up, and never above the amount at risk unless justified
        if request.action == "recovery":
            recovered += request.amount_fen
            assert request.amount_fen > 0
            if after.recovered_fen > amount:
                assert (request.justification or "").strip()
        assert after.recovered_fen == recovered
        assert after.status in workflow.STATUSES
        decided = after.status in ("confirmed", "dismissed", "recovered")
        assert (after.decision is not None) == decided
        assert after.decision != "dismissed" or after.recovered_fen == 0
        event(f"reached {after.status}")
        state = after


def test_one_person_is_one_name_whatever_its_case_or_width():
    state = apply(workflow.opened("H001", 1000), step("review", "Inspector-Li"), WINDOW)
    for same in ("inspector-li", "INSPECTOR-LI", "ｉｎｓｐｅｃｔｏｒ-ｌｉ"):
        with pytest.raises(Forbidden, match="Inspector-Li reviewed this case"):
            apply(state, step("re_review", same), WINDOW)


@pytest.mark.parametrize(("auditor", "message"), [("a1", "a1 reviewed"), ("A2", "a2 re-reviewed")])
def test_nobody_decides_a_case_they_reviewed(auditor, message):
    appealed = apply(re_reviewed(), step("appeal"), WINDOW)
    with pytest.raises(Forbidden, match=f"decision: {message} this case and may not decide it"):
        apply(appealed, step("decision", auditor), WINDOW)


def test_a_case_without_an_institution_skips_the_window_only_for_identity_rules():
    # deceased_person finds someone using a dead person's card (EH-37 人证相符): nobody to hear
    identity = workflow.opened(None, 1000, rule="deceased_person", identity_rule=True)
    identity = apply(apply(identity, step("review", "a1"), WINDOW), step("re_review", "a2"), WINDOW)
    assert apply(identity, step("decision"), WINDOW).status == "confirmed"
    # over_frequency is about the institution's care: a case naming none waits out the window
    other = workflow.opened(None, 1000, rule="over_frequency")
    other = apply(apply(other, step("review", "a1"), WINDOW), step("re_review", "a2"), WINDOW)
    with pytest.raises(Conflict, match=(
        "decision: the case names no institution, but over_frequency is not an identity rule: "
        "the appeal window runs until 2026-03-17; decide after that day"
    )):  # fmt: skip
        apply(other, step("decision"), WINDOW)
    assert apply(other, step("decision", day=dt.date(2026, 3, 18)), WINDOW).status == "confirmed"
    # an identity rule's case naming an institution: the institution may appeal, so it waits
    named = workflow.opened("H001", 1000, rule="deceased_person", identity_rule=True)
    named = apply(apply(named, step("review", "a1"), WINDOW), step("re_review", "a2"), WINDOW)
    with pytest.raises(Conflict, match="may appeal until 2026-03-17"):
        apply(named, step("decision"), WINDOW)


def test_identity_rules_are_supervision_rules_cited_by_their_seed():
    params = workflow_params()
    assert set(params.identity_rules.value) <= set(RULE_IDS)
    assert "deceased_person" in params.identity_rules.value
    assert "over_frequency" not in params.identity_rules.value
