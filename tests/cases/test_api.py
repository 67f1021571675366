"""The case endpoints: who may do what (role × endpoint), money as yuan, errors as JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.cases.helpers import AUDITOR, AUDITOR_2, BUREAU, HOSPITAL, flag, flags
from yibao.cases import service

ROLES = ("hospital", "other", "bureau", "auditor", "auditor2")
# status per caller; the case names H001 ("hospital"); "other" is H002, to whom it is invisible
MATRIX = {
    "import": dict(hospital=403, other=403, bureau=200, auditor=403, auditor2=403),
    "list": dict(hospital=200, other=200, bureau=200, auditor=200, auditor2=200),
    "show": dict(hospital=200, other=404, bureau=200, auditor=200, auditor2=200),
    "review": dict(hospital=403, other=404, bureau=403, auditor=200, auditor2=200),
    # the case was reviewed by "auditor" (inspector), who may not re-review it
    "re-review": dict(hospital=403, other=404, bureau=403, auditor=403, auditor2=200),
    "appeal": dict(hospital=200, other=404, bureau=403, auditor=403, auditor2=403),
    "decision": dict(hospital=403, other=404, bureau=200, auditor=403, auditor2=403),
    "recovery": dict(hospital=403, other=404, bureau=200, auditor=403, auditor2=403),
    "precision": dict(hospital=403, other=403, bureau=200, auditor=200, auditor2=200),
}
BODIES = {
    "review": {"note": "lines repeat", "recommendation": "confirm"},
    "re-review": {"note": "agreed", "recommendation": "confirm"},
    "appeal": {"reason": "given twice"},
    "decision": {"outcome": "confirmed", "reason": "no second dose recorded"},
    "recovery": {"amount": "12.34"},
}


def case_ready_for(db, endpoint: str, n: int) -> int:
    """A new case (claim Cn) in the status where `endpoint` is the next step."""
    case_id = service.import_flags(db, BUREAU, flags(flag(claims=(f"C{n}",))))["case_ids"][0]
    order = ["review", "re-review", "appeal", "decision", "recovery"]
    steps = order[: order.index(endpoint)] if endpoint in order else []
    for done in steps:
        {
            "review": lambda: service.review(db, AUDITOR, case_id, "n", "confirm"),
            "re-review": lambda: service.re_review(db, AUDITOR_2, case_id, "n", "confirm"),
            "appeal": lambda: service.appeal(db, HOSPITAL, case_id, "no"),
            "decision": lambda: service.decide(db, BUREAU, case_id, "confirmed", "r"),
        }[done]()
    return case_id


def call(api, endpoint: str, case_id: int, who: str):
    if endpoint == "import":
        return api.post("/cases/import", {"flags": [flag(claims=(f"I{case_id}",))]}, who)
    if endpoint == "list":
        return api.get("/cases", who)
    if endpoint == "show":
        return api.get(f"/cases/{case_id}", who)
    if endpoint == "precision":
        return api.get("/supervision/precision", who)
    return api.post(f"/cases/{case_id}/{endpoint}", BODIES[endpoint], who)


@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_authorization_matrix(cases_api, endpoint):
    got = {}
    for n, who in enumerate(ROLES):
        case_id = case_ready_for(cases_api.db, endpoint, n)
        response = call(cases_api, endpoint, case_id, who)
        got[who] = response.status_code
        if response.status_code != 200:
            assert set(response.json()) == {"infcode", "err_msg"}, response.text
    assert got == MATRIX[endpoint]


def test_a_case_through_the_api_with_money_in_yuan(cases_api):
    api = cases_api
    raw = [flag(claims=("C1",), amount_fen=12_345), flag(claims=("C1",), amount_fen=5)]
    opened = api.ok(api.post("/cases/import", {"flags": raw}, "bureau"))
    assert opened == {
        "flags": 2, "opened": 1, "updated": 0, "already_open": 0,
        "case_ids": [1], "updated_case_ids": [],
    }  # fmt: skip
    again = api.ok(api.post("/cases/import", {"flags": raw}, "bureau"))
    assert (again["opened"], again["already_open"]) == (0, 2)
    api.ok(api.post("/cases/1/review", BODIES["review"], "auditor"))
    api.ok(api.post("/cases/1/re-review", BODIES["re-review"], "auditor2"))
    api.ok(api.post("/cases/1/appeal", BODIES["appeal"], "hospital"))
    api.ok(api.post("/cases/1/decision", BODIES["decision"], "bureau"))
    api.ok(api.post("/cases/1/recovery", {"amount": "100.00", "note": "deducted"}, "bureau"))
    case = api.ok(api.post("/cases/1/recovery", {"amount": 23.5}, "bureau"))
    # 123.45 + 0.05 yuan at risk (the two flags of one key); 100.00 + 23.50 recovered
    assert case["amount_at_risk"] == Decimal("123.50") and case["recovered"] == Decimal("123.50")
    assert [s["amount"] for s in case["steps"][-2:]] == [Decimal("100.00"), Decimal("23.50")]
    assert case["status"] == "recovered" and case["next_steps"] == ["recovery"]
    assert [s["action"] for s in case["steps"]][:2] == ["open", "review"]
    over = api.post("/cases/1/recovery", {"amount": "0.01"}, "bureau")
    # in yuan, as the amounts are given: 123.50 + 0.01 = 123.51 above the 123.50 at risk
    assert over.status_code == 409 and over.json()["err_msg"] == (
        "case 1: recovery: 123.51 in all would exceed the amount at risk 123.50; "
        "give a justification"
    )
    audit = api.ok(api.get("/audit", "auditor", action="case.recovery"))
    assert len(audit) == 2 and audit[0]["target"] == "case/1"


def test_illegal_steps_and_bad_bodies_are_refused_with_a_clear_message(cases_api):
    api = cases_api
    api.ok(api.post("/cases/import", {"flags": [flag()]}, "bureau"))
    early = api.post("/cases/1/decision", BODIES["decision"], "bureau")
    assert early.status_code == 409
    assert early.json()["err_msg"].startswith("case 1: case is open: decision is not possible")
    bad = api.post("/cases/1/decision", {"outcome": "maybe", "reason": "r"}, "bureau")
    assert bad.status_code == 422 and bad.json()["err_msg"].startswith("outcome: ")
    money = api.post("/cases/1/recovery", {"amount": "1.001"}, "bureau")
    assert money.status_code == 422 and money.json()["err_msg"].startswith("amount: ")
    flagged = api.post(
        "/cases/import", {"flags": [{**flag(), "amount_at_risk_fen": 1.5}]}, "bureau"
    )
    assert flagged.status_code == 422 and "amount_at_risk_fen" in flagged.json()["err_msg"]
    assert api.get("/cases/99", "bureau").status_code == 404


def test_list_filters_and_institutions_see_their_own(cases_api):
    api = cases_api
    raw = [
        flag(claims=("C1",)),
        flag("over_price_limit", claims=("C2",)),
        flag(claims=("C3",), institution="H002"),
    ]
    api.ok(api.post("/cases/import", {"flags": raw}, "bureau"))
    api.ok(api.post("/cases/2/review", BODIES["review"], "auditor"))

    def ids(who, **params):
        return [c["id"] for c in api.ok(api.get("/cases", who, **params))]

    assert ids("bureau") == [1, 2, 3]
    assert ids("auditor", status="reviewed") == [2]
    assert ids("auditor", rule="duplicate_charge") == [1, 3]
    assert ids("bureau", institution="H002") == [3]
    assert ids("hospital") == [1, 2] and ids("other") == [3]
    assert ids("hospital", institution="H002") == []
    unknown = api.get("/cases", "bureau", rule="split")
    assert unknown.status_code == 422 and "split_hospitalization" in unknown.json()["err_msg"]


def test_precision_endpoint_counts_decisions(cases_api):
    api = cases_api
    raw = [flag(claims=(f"C{i}",)) for i in range(3)]
    api.ok(api.post("/cases/import", {"flags": raw}, "bureau"))
    for case_id, outcome in ((1, "confirmed"), (2, "dismissed")):
        api.ok(api.post(f"/cases/{case_id}/review", BODIES["review"], "auditor"))
        api.ok(api.post(f"/cases/{case_id}/re-review", BODIES["re-review"], "auditor2"))
        api.ok(api.post(f"/cases/{case_id}/appeal", BODIES["appeal"], "hospital"))
        body = {"outcome": outcome, "reason": "r"}
        api.ok(api.post(f"/cases/{case_id}/decision", body, "bureau"))
    table = api.ok(api.get("/supervision/precision", "auditor"))
    # 1 confirmed of 2 decided = 0.5000; case 3 still open
    assert table["rules"] == [
        {"rule": "duplicate_charge", "confirmed": 1, "dismissed": 1, "decided": 2,
         "undecided": 1, "precision": Decimal("0.5000")},
    ]  # fmt: skip
    assert table["regions"][0]["region"] == "erenhot"
