"""Operations over HTTP: revoked, rotated and suspended keys stop within the key cache's
ttl; key names are unique across roles and not the command line's; enrollment checks the ID
number; credits are bounded; a backwards range and a too-deep body are refused with what is
wrong."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.service.world import outpatient
from yibao.service import institutions
from yibao.service.identity import with_check_digit

TTL = 10.0  # KeyCache's default


def _frozen_cache(api: Api) -> list[float]:
    now = [1000.0]
    api.client.app.state.key_cache.clock = lambda: now[0]
    return now


def _person(api: Api) -> int:
    return api.client.get("/persons/P1", headers=api.key("hospital")).status_code


def test_a_revoked_key_gets_401_once_the_key_cache_forgets_it(api: Api):
    now = _frozen_cache(api)
    assert _person(api) == 200  # now cached
    institutions.revoke_key(api.world.db, "H001")
    assert _person(api) == 200  # the cache's documented grace
    now[0] += TTL + 0.5
    assert _person(api) == 401


def test_a_rotated_key_replaces_the_old_one(api: Api):
    now = _frozen_cache(api)
    assert _person(api) == 200
    new = institutions.rotate_key(api.world.db, "H001")
    now[0] += TTL + 0.5
    assert _person(api) == 401
    answer = api.client.get("/persons/P1", headers={"X-API-Key": new})
    assert answer.status_code == 200


def test_a_suspended_institution_settles_nothing_and_its_key_then_gets_401(api: Api):
    now = _frozen_cache(api)
    done = api.ok("2207", {"psn_no": "P1", "claim": outpatient("C1", "2023-03-01", "100")})
    institutions.set_institution_status(api.world.db, "H001", "suspend")
    refused = api.call("2207", {"psn_no": "P1", "claim": outpatient("C2", "2023-03-01", "100")})
    assert refused.status_code == 403  # the key is still cached; the settlement reads status
    assert refused.json()["err_msg"] == "institution H001 is suspended"
    undo = {"psn_no": "P1", "setl_id": done["setlinfo"]["setl_id"]}
    refused = api.call("2208", undo, inf_time="2023-03-02 09:00:00")  # nor a reversal (QA)
    assert (refused.status_code, refused.json()["err_msg"]) == (
        403,
        "institution H001 is suspended",
    )
    now[0] += TTL + 0.5
    gone = api.call("1101", {"psn_no": "P1"})
    assert gone.status_code == 401
    assert gone.json()["err_msg"] == "X-API-Key: unknown, revoked or suspended"
    institutions.set_institution_status(api.world.db, "H001", "resume")
    api.ok("2207", {"psn_no": "P1", "claim": outpatient("C3", "2023-03-01", "100")})


def test_an_institution_code_may_not_be_a_users_key_name(api: Api):
    body = {"code": "clerk", "name": "某诊所", "level": 1, "kind": "hospital", "region": "erenhot"}
    taken = api.client.post("/institutions", json=body, headers=api.key("bureau"))
    assert taken.status_code == 409
    assert taken.json()["err_msg"] == "a key named clerk already exists (role bureau)"


@pytest.mark.parametrize("code", ["system", "cli", "SYSTEM"])
def test_an_institution_may_not_take_a_name_the_command_line_audits_as(api: Api, code):
    body = {"code": code, "name": "某诊所", "level": 1, "kind": "hospital", "region": "erenhot"}
    taken = api.client.post("/institutions", json=body, headers=api.key("bureau"))
    assert taken.status_code == 409
    assert taken.json()["err_msg"] == f"{code} is reserved: the audit log names the command line so"


CERTNO = with_check_digit("15250119800101123")  # born 1980-01-01, digit 17 odd: a man


def _enroll(api: Api, **person) -> tuple[int, str | None]:
    body = {"region": "erenhot", "person": {"scheme": "resident", **person}}
    answer = api.client.post("/persons", json=body, headers=api.key("bureau"))
    return answer.status_code, answer.json().get("err_msg")


def test_enrollment_refuses_a_second_person_with_the_same_id_number(api: Api):
    assert _enroll(api, id="Q1", certno=CERTNO)[0] == 200
    assert _enroll(api, id="Q1", certno=CERTNO)[0] == 200  # the same person again: an update
    assert _enroll(api, id="Q2", certno=CERTNO.lower()) == (
        409,
        "person.certno: already enrolled for person Q1",
    )


def test_birth_date_and_sex_come_from_the_id_number_and_may_not_contradict_it(api: Api):
    assert _enroll(api, id="Q3", certno=CERTNO, birth_date="1990-05-05") == (
        400,
        "person.birth_date: 1990-05-05 contradicts certno (born 1980-01-01)",
    )
    assert _enroll(api, id="Q3", certno=CERTNO, sex="F") == (
        400,
        "person.sex: F contradicts certno (M)",
    )
    assert _enroll(api, id="Q3", certno=CERTNO)[0] == 200
    seen = api.client.get("/persons/Q3", headers=api.key("bureau")).json()
    assert (seen["birth_date"], seen["sex"]) == ("1980-01-01", "M")


def test_a_person_id_may_not_be_an_id_number(api: Api):
    status, message = _enroll(api, id=CERTNO, certno=CERTNO)
    assert (status, message) == (400, "person.id: must not be an ID number; use certno")


def test_persons_enrolled_before_the_rules_can_still_be_updated(api: Api):
    # as an older yibao stored them: an ID number as id, and a twin with the same certno
    from yibao.store.models import Person

    with api.world.db.transaction() as session:
        for pid in (CERTNO, "TWIN"):
            session.add(Person(id=pid, region="erenhot", scheme="resident", certno=CERTNO))
    assert _enroll(api, id=CERTNO, certno=CERTNO, name="改名")[0] == 200
    assert _enroll(api, id="TWIN", certno=CERTNO, name="改名")[0] == 200
    assert _enroll(api, id="NEW", certno=CERTNO)[0] == 409  # a new twin is still refused


def test_an_account_credit_is_bounded_and_says_so(api: Api):
    credit = api.client.post(
        "/persons/P1/account/credits", json={"amount": "99999999999"}, headers=api.key("bureau")
    )
    assert credit.status_code == 400
    assert credit.json()["err_msg"] == (
        "amount: must be at most 1,000,000,000.00 (the largest claim amount)"
    )


def test_settlements_with_begin_after_end_are_refused(api: Api):
    backwards = api.client.get(
        "/settlements?begin=2023-12-31&end=2023-01-01", headers=api.key("bureau")
    )
    assert backwards.status_code == 400
    assert backwards.json()["err_msg"] == "end: 2023-01-01 is before begin 2023-12-31"


def test_a_too_deeply_nested_body_is_refused_as_such(api: Api):
    deep = "[" * 5000 + "]" * 5000
    body = (
        '{"infno":"1101","msgid":"deep","inf_time":"2023-03-01 10:00:00",'
        f'"input":{{"psn_no":"P1","x":{deep}}}}}'
    )
    for _ in range(2):  # the first looks the key up (route), the second is cached (lane)
        answer = api.client.post(
            "/api/transactions",
            content=body,
            headers={**api.key("hospital"), "Content-Type": "application/json"},
        )
        assert answer.status_code == 400
        assert answer.json()["err_msg"] == "body: JSON nested too deeply to parse"
