"""The funding routes: bills, crediting runs and account payments; bureau only."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.service.world import build_world, enroll
from yibao.api.app import create_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contributions"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


class Client:
    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def post(self, path: str, body: dict, who: str = "bureau"):
        response = self.client.post(path, json=body, headers={"X-API-Key": self.keys[who]})
        return response.status_code, json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def api(db):
    world = build_world(db)
    enroll(
        db, "C1", scheme="resident", employment=None, family=[{"holder": "P1", "relation": "child"}]
    )
    app = create_app(db.url)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Client(client, world.keys)
    app.state.db.dispose()


def test_bureau_computes_a_bill_with_sources(api):
    body = {"kind": "unit", "period": "2021-06", "description": example("qingdao_unit.json")}
    status, bill = api.post("/contributions/bills", body)
    assert status == 200, bill
    # 7% × 6,000.00 + 2% × 6,000.00 + 7% × 4,567.89 (319.75) + 2% × 4,567.89 (91.36)
    assert bill["total"] == Decimal("951.11") and bill["total_fen"] == 95_111
    assert bill["lines"][0]["amount"] == Decimal("420.00")
    assert any("QD-08" in s for s in bill["lines"][0]["sources"])


def test_the_levy_line_carries_its_heads_and_months(api):
    body = {"kind": "unit", "period": "2023-01", "description": example("liaoyang_unit.json")}
    status, bill = api.post("/contributions/bills", body)
    assert status == 200, bill
    levy = [line for line in bill["lines"] if line.get("heads")]
    # 12,000.00 × 6% × 3 persons × 1/12 = 180.00, as the text line gives it
    assert [(x["heads"], x["months"], x["amount"]) for x in levy] == [(3, 1, Decimal("180.00"))]


def test_a_bad_description_names_the_field(api):
    raw = example("qingdao_unit.json")
    raw["members"][0]["base"] = "12.345"
    status, body = api.post(
        "/contributions/bills", {"kind": "unit", "period": "2021-06", "description": raw}
    )
    assert status == 400
    assert body["err_msg"].startswith("description.members[0].base: ")


@pytest.mark.parametrize("who", ["hospital", "auditor"])
def test_only_the_bureau_bills_credits_and_pays(api, who):
    bill = {
        "kind": "person",
        "period": "2017",
        "description": example("tongliao_poor_resident.json"),
    }
    assert api.post("/contributions/bills", bill, who)[0] == 403
    assert (
        api.post("/accounts/crediting-runs", {"region": "erenhot", "month": "2023-01"}, who)[0]
        == 403
    )
    pay = {"beneficiary": "C1", "purpose": "resident_contribution", "year": 2023, "amount": "10.00"}
    assert api.post("/accounts/P1/payments", pay, who)[0] == 403


def test_crediting_run_over_http_is_idempotent(api):
    # Only P2 (retired) is credited: 2% × 3,000.00 = 60.00; P1 has no declared base.
    status, run = api.post("/accounts/crediting-runs", {"region": "erenhot", "month": "2023-01"})
    assert status == 200, run
    assert (run["credited_now"], run["total"], run["status"]) == (1, Decimal("60.00"), "done")
    status, again = api.post("/accounts/crediting-runs", {"region": "erenhot", "month": "2023-01"})
    assert (status, again["credited_now"], again["run_id"]) == (200, 0, run["run_id"])


def test_family_payment_and_forbidden_purpose(api):
    pay = {
        "beneficiary": "C1",
        "purpose": "resident_contribution",
        "year": 2023,
        "amount": "380.00",
    }
    status, paid = api.post("/accounts/P1/payments", pay)
    assert status == 200, paid
    assert (paid["amount"], paid["balance"]) == (Decimal("380.00"), Decimal("620.00"))
    status, refused = api.post("/accounts/P1/payments", {**pay, "purpose": "wellness"})
    assert status == 400 and "forbidden use" in refused["err_msg"] and "EH-08" in refused["err_msg"]
    assert api.post("/accounts/P1/payments", pay)[0] == 409  # the same year twice
