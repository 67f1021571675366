"""Long-term care over HTTP (roles, statuses, exact yuan) and on the command line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.ltc.world import build
from yibao.api.app import create_app
from yibao.cli.main import app
from yibao.store.db import Database
from yibao.store.migrate import upgrade

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ltc"
ASSESSMENT = {"psn_no": "QDR", "level": 5, "assessor": "评估中心",
              "assessed_on": "2023-01-01", "valid_until": "2023-12-31"}  # fmt: skip
CLAIM = {"claim_id": "H1", "psn_no": "QDR", "care_type": "hospital",
         "start": "2023-03-01", "end": "2023-03-10"}  # fmt: skip


@pytest.fixture
def api(db):
    world = build(db)
    with TestClient(create_app(db.url)) as client:
        yield client, world


def test_api_roles_and_money(api):
    client, world = api
    key = {name: {"X-API-Key": k} for name, k in world.keys.items()}
    assert client.post("/ltc/assessments", json=ASSESSMENT).status_code == 401
    assert client.post("/ltc/assessments", json=ASSESSMENT, headers=key["QN01"]).status_code == 403
    made = client.post("/ltc/assessments", json=ASSESSMENT, headers=key["bureau"])
    assert made.status_code == 201, made.text
    assert client.post("/ltc/claims", json=CLAIM, headers=key["auditor"]).status_code == 403
    paid = client.post("/ltc/claims", json=CLAIM, headers=key["QN01"])
    assert paid.status_code == 201, paid.text
    # resident, hospital special care, 10 days: 10 × 170 = 1700.00; × 80% = 1360.00
    out = json.loads(paid.text, parse_float=Decimal)
    assert (out["fund_pay"], out["person_pay"]) == (Decimal("1360.00"), Decimal("340.00"))
    assert '"fund_pay":1360.00' in paid.text
    assert client.post("/ltc/claims", json=CLAIM, headers=key["QN01"]).status_code == 409
    assert [c["claim_id"] for c in client.get("/ltc/claims", headers=key["QN02"]).json()] == []
    assert [c["claim_id"] for c in client.get("/ltc/claims", headers=key["auditor"]).json()] == [
        "H1"
    ]
    bad = client.post("/ltc/claims", json={**CLAIM, "claim_id": "H2", "psn_no": "QDE"},
                      headers=key["QN01"])  # fmt: skip
    assert bad.status_code == 400 and "no assessment of QDE" in bad.json()["err_msg"]


runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["ltc", *args], env={"YIBAO_DATABASE_URL": ""})


def test_quote_the_example():
    done = run("quote", str(EXAMPLES / "home_care_resident.json"))
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    # 25 hours in 10 days, 20 covered: fund 20 × 50 × 80% = 800; person 1250 − 800 = 450
    assert (out["fund_pay"], out["person_pay"]) == (800, 450)


def test_quote_of_a_level_that_is_not_severe_answers_the_refusal(tmp_path):
    file = tmp_path / "e.json"
    file.write_text(json.dumps({"scheme": "resident", "level": 1, "care_type": "institution",
                                "start": "2023-03-01", "end": "2023-03-02"}))  # fmt: skip
    out = json.loads(run("quote", str(file)).stdout)
    assert out["eligible"] is False and "not severe disability" in out["refusal"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        ('{"scheme": "employee"}', "level: Field required"),
        (
            '{"scheme": "employee", "level": 4, "care_type": "home", "start": "2023-03-01",'
            ' "end": "2023-03-02"}',
            "units: home care is priced per hour",
        ),
    ],
)
def test_quote_errors_are_one_line(tmp_path, content, message):
    file = tmp_path / "e.json"
    if content is not None:
        file.write_text(content)
    done = run("quote", str(file))
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.startswith(f"error: {file}: ") and message in done.stderr


def test_assess_and_claim_on_a_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'ltc.db'}"
    upgrade(url)
    db = Database(url)
    build(db)
    db.dispose()
    done = run("assess", "QDE", "--level", "4", "--assessor", "评估中心", "--date", "2023-01-01",
               "--valid-until", "2023-12-31", "--database-url", url)  # fmt: skip
    assert done.exit_code == 0, done.output
    file = tmp_path / "c.json"
    example = json.loads((EXAMPLES / "institution_claim.json").read_text())
    file.write_text(json.dumps({**example, "psn_no": "QDE"}))
    paid = run("claim", str(file), "--database-url", url)
    assert paid.exit_code == 0, paid.output
    # employee, institution, 31 days: 2015.00 × 90% = 1813.50
    assert json.loads(paid.stdout)["fund_pay"] == 1813.5
    again = run("claim", str(file), "--database-url", url)
    assert again.exit_code == 2 and "already exists" in again.stderr and again.stdout == ""
    refused = run("assess", "NOBODY", "--level", "4", "--assessor", "x", "--date", "2023-01-01",
                  "--valid-until", "2023-12-31", "--database-url", url)  # fmt: skip
    assert refused.exit_code == 2 and "person NOBODY is not enrolled" in refused.stderr
