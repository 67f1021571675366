"""The transaction lane (`api/lane.py`) answers a cached key's valid envelope exactly as the
FastAPI route would, and passes everything else on to the route."""

from __future__ import annotations

import pytest

from tests.api.test_fastpath_api import CLAIM
from tests.databases import _admin
from yibao.api import lane

PERSON = {"psn_no": "P1"}


@pytest.fixture
def taken(monkeypatch) -> list[str]:
    """The infno of every envelope the lane answered itself."""
    seen: list[str] = []
    answer = lane.answer

    def counted(envelope, who, db):
        seen.append(envelope.infno)
        return answer(envelope, who, db)

    monkeypatch.setattr(lane, "answer", counted)
    return seen


def test_a_cached_key_takes_the_lane_and_gets_the_routes_answer(api, taken):
    by_route = api.call("1101", PERSON, msgid="same-1")  # first use of the key: the route
    assert taken == []
    by_lane = api.call("1101", PERSON, msgid="same-2")
    assert taken == ["1101"]
    assert by_lane.status_code == by_route.status_code == 200
    assert by_lane.content == by_route.content
    assert by_lane.headers["content-type"] == by_route.headers["content-type"]


def test_a_settlement_in_the_lane_is_settled_once_and_replayed(api, taken):
    api.call("1101", PERSON)  # warms the key
    first = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, msgid="lane-1")
    again = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, msgid="lane-1")
    assert taken == ["2207", "2207"]
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert b'"hifp_pay":300.00' in first.content  # EH-12: 60% x (1500 - 1000 deductible)


def test_a_refusal_in_the_lane_is_the_routes_refusal(api, taken):
    by_route = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, who="auditor")
    by_lane = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, who="auditor")
    assert taken == ["2207"]
    assert by_lane.status_code == by_route.status_code == 403
    assert by_lane.content == by_route.content


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"infno": "1101",', "application/json", 422),  # not JSON
        (b'{"infno": "9999", "msgid": "m", "inf_time": "2023-03-01 10:00:00"}', None, 422),
        (b'{"infno": "1101", "msgid": "m", "inf_time": "yesterday"}', None, 422),
        (b"", "application/json", 422),
        (b'{"infno": "1101"}', "text/plain", 422),  # the route does not read it as JSON
    ],
)
def test_what_the_lane_does_not_take_the_route_answers(api, taken, body, content_type, status):
    api.call("1101", PERSON)  # warms the key
    headers = {**api.key("hospital"), "Content-Type": content_type or "application/json"}
    response = api.client.post("/api/transactions", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["infcode"] == -1
    assert taken == []


def test_a_deeply_nested_body_gets_the_routes_400_through_the_lane_too(api, taken):
    api.call("1101", PERSON)  # warms the key
    nested = b'{"infno": "1101", "msgid": "deep", "inf_time": "2023-03-01 10:00:00", "input": '
    body = nested + b"[" * 100_000 + b"]" * 100_000 + b"}"  # under the size limit
    response = api.client.post(
        "/api/transactions",
        content=body,
        headers={**api.key("hospital"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["infcode"] == -1
    assert taken == []


def test_over_the_bad_key_limit_the_route_still_serves_a_cached_key(api, taken):
    """The lane steps aside for an address over the limit; the route serves a valid key
    (a stale workstation behind the same NAT must not stop the others) and refuses bad ones."""
    api.call("1101", PERSON)  # warms the key
    for _ in range(20):
        api.client.post("/api/transactions", json={}, headers={"X-API-Key": "wrong"})
    response = api.call("1101", PERSON)
    assert response.status_code == 200 and response.json()["infcode"] == 0
    assert taken == []
    wrong = api.client.post("/api/transactions", json={}, headers={"X-API-Key": "wrong"})
    assert wrong.status_code == 429


def test_after_a_lost_connection_the_retry_settles_once(api):
    """No pool pre-ping (`store/db.py`): a settlement on a connection the server dropped fails
    once (500); its retry with the same msgid gets a fresh connection and settles, once."""
    db = api.client.app.state.db
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a dropped server connection is a PostgreSQL matter")
    api.call("1101", PERSON)  # a pooled connection exists now
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{db.engine.url.database}'"
    )
    failed = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, msgid="lost-1")
    retried = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, msgid="lost-1")
    again = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, msgid="lost-1")
    assert failed.status_code == 500
    assert retried.status_code == 200 and retried.json()["infcode"] == 0
    assert again.content == retried.content  # settled once: the retry's answer replayed
