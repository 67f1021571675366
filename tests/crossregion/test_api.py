"""The cross-region HTTP API: roles, statuses and exact money (SQLite + PostgreSQL)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.crossregion.world import build, file_referral, inpatient, settle_at
from yibao.api.app import create_app


@pytest.fixture
def api(db):
    world = build(db)
    with TestClient(create_app(db.url)) as client:
        yield client, world


def key(world, who: str) -> dict[str, str]:
    return {"X-API-Key": world.keys[who]}


def body(response) -> object:
    return json.loads(response.text, parse_float=Decimal)


FILING = {"psn_no": "TL1", "kind": "referral", "treating_region": "qingdao",
          "valid_from": "2023-01-01", "valid_to": "2023-12-31"}  # fmt: skip


def test_filings_crud_by_role(api):
    client, world = api
    assert client.post("/cross-region/filings", json=FILING).status_code == 401
    assert (
        client.post("/cross-region/filings", json=FILING, headers=key(world, "Q3")).status_code
        == 403
    )
    assert (
        client.post("/cross-region/filings", json=FILING, headers=key(world, "auditor")).status_code
        == 403
    )
    made = client.post("/cross-region/filings", json=FILING, headers=key(world, "bureau"))
    assert made.status_code == 201, made.text
    fid = made.json()["id"]
    again = client.post("/cross-region/filings", json=FILING, headers=key(world, "bureau"))
    assert again.status_code == 409
    seen = client.get(
        "/cross-region/filings",
        params={"psn_no": "TL1", "on": "2023-03-01"},
        headers=key(world, "Q3"),
    )
    assert [f["id"] for f in seen.json()] == [fid]
    other = client.get(
        f"/cross-region/filings/{fid}", params={"on": "2023-03-01"}, headers=key(world, "E3")
    )
    assert other.status_code == 404
    changed = client.patch(
        f"/cross-region/filings/{fid}",
        json={"valid_to": "2023-06-30"},
        headers=key(world, "bureau"),
    )
    assert changed.json()["valid_to"] == "2023-06-30"
    assert (
        client.delete(f"/cross-region/filings/{fid}", headers=key(world, "Q3")).status_code == 403
    )
    revoked = client.delete(f"/cross-region/filings/{fid}", headers=key(world, "bureau"))
    assert revoked.json()["status"] == "revoked"


def test_preview_answers_exact_yuan(api):
    client, world = api
    claim_file = {
        "region": "tongliao", "person": {"id": "TL1", "scheme": "resident"},
        "claims": [inpatient("C1", "2023-03-01", "2023-03-08", "5000.00")],
        "treating_region": "qingdao", "filing": "referral",
    }  # fmt: skip
    answer = client.post(
        "/cross-region/settlements/preview", json=claim_file, headers=key(world, "Q3")
    )
    assert answer.status_code == 200, answer.text
    info = body(answer)["settlements"][0]["setlinfo"]
    # (5000 − 1000) × 60% = 2400.00, written with two decimals
    assert info["hifp_pay"] == Decimal("2400.00") and '"hifp_pay":2400.00' in answer.text
    bad = client.post(
        "/cross-region/settlements/preview", json={**claim_file, "treating_region": "atlantis"},
        headers=key(world, "bureau"),
    )  # fmt: skip
    assert bad.status_code == 400 and "unknown region" in bad.json()["err_msg"]


def test_clearing_and_statistics(api):
    client, world = api
    file_referral(world, "TL1", "qingdao", 2023)
    settle_at(world, "TL1", "Q3", inpatient("A", "2023-03-01", "2023-03-05", "10000.00"))
    month = {"month": "2023-03"}
    assert (
        client.post(
            "/cross-region/clearing-runs", json=month, headers=key(world, "auditor")
        ).status_code
        == 403
    )
    run = client.post("/cross-region/clearing-runs", json=month, headers=key(world, "bureau"))
    assert run.status_code == 200, run.text
    # (10000 − 1000) × 60% = 5400.00 owed by tongliao to qingdao
    assert body(run)["nets"] == [
        {"a": "qingdao", "b": "tongliao", "gross_a_to_b": Decimal("0.00"),
         "gross_b_to_a": Decimal("5400.00"), "net": Decimal("-5400.00"), "net_fen": -540000,
         "payer": "tongliao"}
    ]  # fmt: skip
    again = client.post("/cross-region/clearing-runs", json=month, headers=key(world, "bureau"))
    assert again.json()["written"] == 0
    view = client.get("/cross-region/clearing/2023-03", headers=key(world, "auditor"))
    assert body(view)["positions"] == {
        "qingdao": Decimal("5400.00"),
        "tongliao": Decimal("-5400.00"),
    }
    assert client.get("/cross-region/clearing/2023-03", headers=key(world, "Q3")).status_code == 403
    assert (
        client.get("/cross-region/clearing/2023-02", headers=key(world, "bureau")).status_code
        == 404
    )
    params = {"region": "tongliao", "begin": "2023-01", "end": "2023-12"}
    stats = body(
        client.get("/cross-region/statistics", params=params, headers=key(world, "auditor"))
    )
    assert stats["rows"] == [
        {"month": "2023-03", "direction": "outbound", "scheme": "resident", "visits": 1,
         "medfee_sumamt": Decimal("10000.00"), "fund_pay_sumamt": Decimal("5400.00")}
    ]  # fmt: skip
    assert any(b["id"] == "TL-31-out" and b["visits"] == 604 for b in stats["benchmarks"])
    assert (
        client.get("/cross-region/statistics", params=params, headers=key(world, "Q3")).status_code
        == 403
    )
