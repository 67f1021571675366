"""Keys, roles, limits and what never leaks: the authorization matrix, 401 / 403 / 404,
413 for large bodies, 429 after too many bad keys, masked ID numbers, no stack traces."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.databases import fresh_database
from tests.service.world import build_world, outpatient
from yibao.api.app import create_app
from yibao.api.limits import MAX_BODY_BYTES
from yibao.api.logmask import MaskIdNumbers
from yibao.service import settlement, visits

YEAR = "begin=2023-01-01&end=2023-12-31"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request, db_templates, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """One world for the whole matrix: its requests do not change each other's outcome."""
    for db in fresh_database(request.param, db_templates, tmp_path_factory.mktemp("matrix")):
        world = build_world(db)
        claim = outpatient("C1", "2023-03-01", "100")
        own = settlement.settle(db, world.hospital, "P1", claim, "H001", "seed-1", "2207")
        at_h002 = outpatient("C1", "2023-03-01", "100", level=1)  # H002's registered level
        other = settlement.settle(db, world.other_hospital, "P2", at_h002, "H002", "seed-2", "2207")
        visit = visits.register(
            db,
            world.hospital,
            {"psn_no": "P1", "begntime": "2023-03-01", "ipt_otp_no": "1"},
            "H001",
            "seed-3",
            "2201",
        )
        app = create_app(db.url)
        app.state.key_guard.limit = 10_000  # the matrix sends many bad keys on purpose
        with TestClient(app, raise_server_exceptions=False) as client:
            yield {
                "client": client,
                "keys": {**world.keys, "bad": "yb_not-a-key"},
                "own": own["setlinfo"]["setl_id"],
                "other": other["setlinfo"]["setl_id"],
                "visit": visit["data"]["mdtrt_id"],
            }
        app.state.db.dispose()


def _envelope(infno: str, input: dict, code: str | None = "H001", msgid: str = "m") -> dict:
    body = {"infno": infno, "msgid": msgid, "inf_time": "2023-03-01 10:00:00", "input": input}
    return body | ({"fixmedins_code": code} if code else {})


PERSON = {"region": "erenhot", "person": {"id": "P9", "scheme": "resident"}}
INSTITUTION = {"name": "新医院", "level": 2, "kind": "hospital", "region": "erenhot"}

# endpoint: (method, path, body) — `{own}` / `{other}` / `{visit}` filled from the world.
ENDPOINTS: dict[str, tuple[str, str, Any]] = {
    "enroll": ("POST", "/persons", PERSON),
    "get_person": ("GET", "/persons/P1", None),
    "credit": ("POST", "/persons/P1/account/credits", {"amount": "10.00", "note": "t"}),
    "own_settlement": ("GET", "/settlements/{own}", None),
    "other_settlement": ("GET", "/settlements/{other}", None),
    "settlements": ("GET", f"/settlements?{YEAR}", None),
    "add_institution": ("POST", "/institutions", INSTITUTION),
    "institutions": ("GET", "/institutions", None),
    "reconciliation": ("GET", f"/reconciliations?{YEAR}", None),
    "other_reconciliation": ("GET", f"/reconciliations?{YEAR}&fixmedins_code=H002", None),
    "visit": ("GET", "/visits/{visit}", None),
    "audit": ("GET", "/audit", None),
    "tx_1101": ("POST", "/api/transactions", _envelope("1101", {"psn_no": "P1"})),
    "tx_2207": (
        "POST",
        "/api/transactions",
        _envelope("2207", {"psn_no": "P1", "claim": outpatient("C9", "2023-03-02", "5")}),
    ),
    "tx_3201": (
        "POST",
        "/api/transactions",
        _envelope("3201", {"stmt_begndate": "2023-01-01", "stmt_enddate": "2023-12-31"}, None),
    ),
}

ROLES = ("none", "bad", "hospital", "bureau", "auditor")
# Expected status per endpoint for: no key, unknown key, institution H001, bureau, auditor.
MATRIX: dict[str, tuple[int, ...]] = {
    "enroll": (401, 401, 403, 200, 403),
    "get_person": (401, 401, 200, 200, 200),
    "credit": (401, 401, 403, 200, 403),
    "own_settlement": (401, 401, 200, 200, 200),
    "other_settlement": (401, 401, 404, 200, 200),
    "settlements": (401, 401, 200, 200, 200),
    "add_institution": (401, 401, 403, 201, 403),
    "institutions": (401, 401, 200, 200, 200),
    "reconciliation": (401, 401, 200, 200, 200),
    "other_reconciliation": (401, 401, 403, 200, 200),
    "visit": (401, 401, 200, 200, 200),
    "audit": (401, 401, 403, 200, 200),
    "tx_1101": (401, 401, 200, 200, 200),
    "tx_2207": (401, 401, 200, 200, 403),
    "tx_3201": (401, 401, 200, 200, 200),
}
CASES = [
    pytest.param(endpoint, who, MATRIX[endpoint][i], id=f"{endpoint}-{who}")
    for endpoint in ENDPOINTS
    for i, who in enumerate(ROLES)
]


@pytest.mark.parametrize(("endpoint", "who", "expected"), CASES)
def test_authorization_matrix(shared, endpoint, who, expected):
    method, path, body = ENDPOINTS[endpoint]
    path = path.format(own=shared["own"], other=shared["other"], visit=shared["visit"])
    if isinstance(body, dict) and "msgid" in body:
        body = {**body, "msgid": f"{endpoint}-{who}"}
    if endpoint == "add_institution":
        body = {**body, "code": f"N-{who}"}
    if endpoint == "tx_2207":  # a claim settles once: each caller sends a claim of its own
        claim = {**body["input"]["claim"], "id": f"C9-{who}"}
        body = {**body, "input": {**body["input"], "claim": claim}}
    headers = {} if who == "none" else {"X-API-Key": shared["keys"][who]}
    response = shared["client"].request(method, path, json=body, headers=headers)
    assert response.status_code == expected, response.text
    payload = response.json()
    if expected >= 400:
        assert payload["infcode"] == -1 and payload["err_msg"]
    elif endpoint.startswith("tx_"):
        assert payload["infcode"] == 0, payload["err_msg"]


def test_institutions_see_masked_id_numbers_and_the_bureau_sees_them_whole(api: Api):
    with api.world.db.sessions() as session:
        from yibao.store.models import Person

        certno = session.get(Person, "P1").certno
    as_hospital = api.client.get("/persons/P1", headers=api.key("hospital"))
    assert certno not in as_hospital.text
    assert as_hospital.json()["certno"] == certno[:4] + "*" * 12 + certno[-2:]
    assert api.client.get("/persons/P1", headers=api.key("bureau")).json()["certno"] == certno
    settled = api.call("2207", {"psn_no": "P1", "claim": outpatient("C1", "2023-03-01", "9")})
    assert certno not in settled.text


def test_large_bodies_are_refused_with_413(api: Api):
    big = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    headers = {**api.key("hospital"), "content-type": "application/json"}
    response = api.client.post("/api/transactions", content=big, headers=headers)
    assert response.status_code == 413 and response.json()["infcode"] == -1

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"x" * 65_536

    streamed = api.client.post("/api/transactions", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    fine = api.call("1101", {"psn_no": "P1", "pad": "x" * 500_000})
    assert fine.status_code == 200


def test_too_many_bad_keys_from_one_client_get_429_until_the_window_passes(api: Api):
    now = [1000.0]
    guard = api.client.app.state.key_guard
    guard.clock = lambda: now[0]
    bad = {"X-API-Key": "yb_guess"}
    for _ in range(20):
        assert api.client.get("/persons/P1", headers=bad).status_code == 401
        now[0] += 1
    blocked = api.client.get("/persons/P1", headers=bad)
    assert blocked.status_code == 429 and blocked.json()["infcode"] == -1
    assert int(blocked.headers["Retry-After"]) == 40  # the first bad key leaves at 1060
    assert api.client.get("/persons/P1", headers={}).status_code == 429  # no key: refused too
    now[0] += 40
    assert api.client.get("/persons/P1", headers=bad).status_code == 401


def test_a_valid_key_is_served_from_an_address_over_the_bad_key_limit(api: Api):
    """One workstation retrying a stale key behind a hospital's NAT must not stop the
    others: a key that authenticates (looked up, then cached) is served; bad ones get 429."""
    for _ in range(20):
        assert api.client.get("/persons/P1", headers={"X-API-Key": "yb_stale"}).status_code == 401
    assert api.client.get("/persons/P1", headers={"X-API-Key": "yb_stale"}).status_code == 429
    for _ in range(2):  # the first looks the key up, the second finds it cached
        assert api.client.get("/persons/P1", headers=api.key("hospital")).status_code == 200
        output = api.ok("1101", {"psn_no": "P1"})
        assert output["baseinfo"]["psn_no"] == "P1"
    assert api.client.get("/persons/P1", headers={"X-API-Key": "yb_stale"}).status_code == 429


def test_unexpected_errors_are_500_json_and_the_log_masks_id_numbers(api: Api, monkeypatch, caplog):
    certno = "150102198001010011"

    def explode(*_args: Any) -> dict:
        raise RuntimeError(f"database said something about {certno}")

    monkeypatch.setattr("yibao.service.persons.insured_info", explode)
    with caplog.at_level(logging.INFO, logger="yibao.api"):
        response = api.call("1101", {"psn_no": "P1"})
    assert response.status_code == 500
    assert response.json() == {"infcode": -1, "err_msg": "internal error"}
    assert "RuntimeError" in caplog.text and "Traceback" in caplog.text
    assert certno not in caplog.text and "1501************11" in caplog.text


def test_the_mask_filter_covers_message_arguments_and_tracebacks():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s" %d',
        ("127.0.0.1", "GET", "/persons?certno=15010219800101001X", 200),
        None,
    )
    MaskIdNumbers().filter(record)
    assert record.getMessage() == '127.0.0.1 - "GET /persons?certno=1501************1X" 200'


def test_unknown_routes_and_methods_answer_json(api: Api):
    missing = api.client.get("/nowhere", headers=api.key("bureau"))
    assert missing.status_code == 404 and missing.json()["infcode"] == -1
    wrong = api.client.delete("/persons/P1", headers=api.key("bureau"))
    assert wrong.status_code == 405 and wrong.json()["infcode"] == -1


def test_the_openapi_page_documents_the_key_and_every_resource(api: Api):
    spec = api.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": spec["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    assert {"/api/transactions", "/persons", "/settlements", "/reconciliations"} <= set(
        spec["paths"]
    )
    answer = spec["components"]["schemas"]["SetlInfoOut"]["properties"]["hifp_pay"]
    assert answer["type"] == "number"
    assert api.client.get("/docs").status_code == 200


def test_the_mask_knows_first_generation_id_numbers_and_leaves_the_services_ids():
    from yibao.api.logmask import scrub

    kept = (
        "msgid=H37020200001202612011100000001 msgid=202612011100000000000000000001 "
        "setl_id=S20261201A1B2C3D4E5F60718 mdtrt_id=M2026120112345678901234AB "
        "psn_no=3702000000000002 amount=100000000000000"  # 15 digits, no birth date
    )
    assert scrub(kept) == kept
    assert scrub("GET /persons/370202800101123 404") == "GET /persons/3702*********23 404"
