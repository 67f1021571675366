"""The payment endpoints: the bureau writes, auditors read, an institution reads its own."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.payment.world import CENTRAL, build_payment_world, central_year
from yibao.api.app import create_app


@pytest.fixture
def api(db):
    world, inst_keys = build_payment_world(db)
    keys = {**world.keys, **inst_keys}
    app = create_app(db.url)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, keys
    app.state.db.dispose()


def h(keys, who):
    return {"X-API-Key": keys[who]}


def body(response):
    return json.loads(response.text, parse_float=Decimal)


AGREEMENT = {
    "kind": "hospital",
    "ownership": "public",
    "valid_from": "2023-01-01",
    "valid_to": "2023-12-31",
    "methods": [{"method": "drg"}],
}


def test_the_bureau_runs_a_year_and_the_institution_reads_its_statement(api, db):
    client, keys = api
    bureau = h(keys, "bureau")
    created = client.post(f"/institutions/{CENTRAL}/agreements", json=AGREEMENT, headers=bureau)
    assert created.status_code == 201, created.text
    assert body(created)["methods"] == [{"method": "drg", "persons": 0}]
    central_year(db)
    budget = client.post(
        "/budgets",
        json={"institution_code": CENTRAL, "year": 2023, "budget": "500000.00",
              "vbp_budget": "50000.00", "vbp_paid": "30000.00"},
        headers=bureau,
    )  # fmt: skip
    assert budget.status_code == 200, budget.text
    assert body(budget)["budget"] == Decimal("500000.00")
    assessed = client.post(
        f"/institutions/{CENTRAL}/assessments",
        json={"year": 2023, "score": 90, "sanctions": ["warning_interview"]},
        headers=bureau,
    )
    assert assessed.status_code == 201, assessed.text
    assert body(assessed)["status"] == "normal"
    run = client.post("/year-end-runs", json={"region": "liaoyang", "year": 2023}, headers=bureau)
    assert body(run)["written"] == [CENTRAL]
    own = client.get(f"/institutions/{CENTRAL}/statements/2023", headers=h(keys, CENTRAL))
    assert own.status_code == 200, own.text
    statement = body(own)
    # golden year (test_statement.py): balance 9,224.00, payable 494,800.00
    assert statement["totals"]["balance"] == Decimal("9224.00")
    assert statement["totals"]["payable"] == Decimal("494800.00")
    assert statement["lines"][-1]["key"] == "year_end_balance"
    deposits = client.get(f"/institutions/{CENTRAL}/deposits?year=2023", headers=h(keys, CENTRAL))
    assert body(deposits)[0] == {"month": 1, "kind": "withheld", "amount": Decimal("50000.00"),
                                 "note": "G-LY-8"}  # fmt: skip
    auditor = client.get(f"/institutions/{CENTRAL}/statements/2023", headers=h(keys, "auditor"))
    assert auditor.status_code == 200


@pytest.mark.parametrize("who", ["auditor", "hospital", CENTRAL])
def test_only_the_bureau_writes(api, who):
    client, keys = api
    headers = h(keys, who)
    writes = [
        (f"/institutions/{CENTRAL}/agreements", AGREEMENT),
        (f"/institutions/{CENTRAL}/assessments", {"year": 2023, "score": 90}),
        ("/year-end-runs", {"region": "liaoyang", "year": 2023}),
        ("/budgets", {"institution_code": CENTRAL, "year": 2023, "budget": "1.00"}),
    ]
    for path, payload in writes:
        assert client.post(path, json=payload, headers=headers).status_code == 403, path


def test_another_institution_may_not_read(api):
    client, keys = api
    client.post(f"/institutions/{CENTRAL}/agreements", json=AGREEMENT, headers=h(keys, "bureau"))
    other = h(keys, "hospital")
    assert client.get(f"/institutions/{CENTRAL}/agreements", headers=other).status_code == 403
    assert client.get(f"/institutions/{CENTRAL}/statements/2023", headers=other).status_code == 403
    assert client.get(f"/institutions/{CENTRAL}/agreements").status_code == 401


def test_errors_are_structured(api):
    client, keys = api
    bureau = h(keys, "bureau")
    missing = client.get(f"/institutions/{CENTRAL}/statements/2023", headers=bureau)
    assert missing.status_code == 404 and body(missing)["infcode"] == -1
    bad = client.post(
        f"/institutions/{CENTRAL}/agreements", json={**AGREEMENT, "kind": "x"}, headers=bureau
    )
    assert bad.status_code == 422 and "kind" in body(bad)["err_msg"]
    client.post(f"/institutions/{CENTRAL}/agreements", json=AGREEMENT, headers=bureau)
    again = client.post(f"/institutions/{CENTRAL}/agreements", json=AGREEMENT, headers=bureau)
    assert again.status_code == 409
    cents = client.post(
        "/budgets",
        json={"institution_code": CENTRAL, "year": 2023, "budget": "1.00", "vbp_paid": "0.001"},
        headers=bureau,
    )
    assert cents.status_code == 422 and "vbp_paid" in body(cents)["err_msg"]
    for typed in ("1e5", "+5", "\uff11\uff10\uff10", " 5"):  # as the CLI and credits (QA)
        loose = client.post(
            "/budgets",
            json={"institution_code": CENTRAL, "year": 2023, "budget": "1.00", "vbp_budget": typed},
            headers=bureau,
        )
        assert loose.status_code == 422, typed
        assert "vbp_budget: must be yuan like 100.00" in body(loose)["err_msg"]


def test_drg_grouping_is_pure_and_open_to_every_role(api):
    client, keys = api
    stay = {"region": "liaoyang", "level": 3, "diagnoses": ["I21.001"], "procedures": ["36.0601"],
            "total": "32000.00", "patient_paid": "6400.00"}  # fmt: skip
    response = client.post("/payment/drg/group", json=stay, headers=h(keys, "hospital"))
    assert response.status_code == 200, response.text
    out = body(response)
    # 10,000.00 × 2.8 = 28,000.00; fund 28,000 − 6,400 = 21,600.00
    assert (out["group"], out["payment"], out["fund"]) == ("FM19", Decimal("28000.00"),
                                                           Decimal("21600.00"))  # fmt: skip
    bad = client.post(
        "/payment/drg/group", json={**stay, "patient_paid": "40000.00"}, headers=h(keys, "bureau")
    )
    assert bad.status_code == 400 and "patient paid" in body(bad)["err_msg"]
