"""ID numbers over HTTP (security QA pass): digits other than ASCII 0-9 make no ID number on
any path and never a 500; the 15-digit first generation is no person id and is masked where
it shows; 1101 is held to the settlements' inf_time rule and to the person's birth."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.conftest import Api
from tests.service.world import outpatient
from yibao.service.identity import with_check_digit
from yibao.store.models import Account, AuditEntry, Person

CERTNO = with_check_digit("15250119800101123")
DIGITS_ONLY = "must be 17 digits and a check character"
FULLWIDTH = "".join(chr(ord(d) + 0xFEE0) for d in CERTNO[:17]) + CERTNO[17]
SUPERSCRIPT = "²" + CERTNO[1:]
FIRST_GENERATION = "370202800101123"  # area 370202, born 1980-01-01, sequence 123


def _enroll(api: Api, **person) -> tuple[int, str | None]:
    body = {"region": "erenhot", "person": {"scheme": "resident", **person}}
    answer = api.client.post("/persons", json=body, headers=api.key("bureau"))
    return answer.status_code, answer.json().get("err_msg")


def _refusal(api: Api, query: dict, **kw) -> str:
    answer = api.call("1101", query, **kw)
    assert answer.status_code == 200, answer.text
    assert answer.json()["infcode"] == -1, answer.text
    return answer.json()["err_msg"]


def test_a_fullwidth_copy_of_an_enrolled_id_number_is_no_second_person(api: Api):
    assert _enroll(api, id="Q1", certno=CERTNO)[0] == 200
    assert _enroll(api, id="Q2", certno=FULLWIDTH) == (422, f"person.certno: {DIGITS_ONLY}")
    assert _enroll(api, id="Q3", certno=SUPERSCRIPT) == (422, f"person.certno: {DIGITS_ONLY}")


@pytest.mark.parametrize("person_id", [SUPERSCRIPT, FULLWIDTH, "Ｐ１"])
def test_a_new_person_id_holds_ascii_digits_only(api: Api, person_id):
    assert _enroll(api, id=person_id) == (400, "person.id: digits must be 0-9")  # was a 500


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"certno": FULLWIDTH}, "certno"),
        ({"certno": SUPERSCRIPT}, "certno"),  # was a 500
        ({"mdtrt_cert_type": "02", "mdtrt_cert_no": SUPERSCRIPT}, "mdtrt_cert_no"),  # a 500
        ({"psn_no": "P1", "certno": SUPERSCRIPT}, "certno"),
    ],
)
def test_1101_refuses_an_id_number_in_other_digits(api: Api, query, field):
    assert _refusal(api, query) == f"{field}: {DIGITS_ONLY}"


def test_a_first_generation_id_number_is_no_person_id(api: Api):
    assert _enroll(api, id=FIRST_GENERATION) == (
        400,
        "person.id: must not be an ID number; use certno",
    )
    assert _enroll(api, id="370202801301123")[0] == 200  # month 13: no ID number


def test_a_legacy_first_generation_person_id_is_masked_in_the_audit_log(api: Api):
    with api.world.db.transaction() as session:  # as an older yibao stored it
        session.add(Person(id=FIRST_GENERATION, region="erenhot", scheme="employee"))
        session.flush()
        session.add(Account(person_id=FIRST_GENERATION, balance=0))
    credit = api.client.post(
        f"/persons/{FIRST_GENERATION}/account/credits",
        json={"amount": "10.00"},
        headers=api.key("bureau"),
    )
    assert credit.status_code == 200, credit.text
    with api.world.db.sessions() as session:
        last = session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
    assert (last.action, last.target) == ("account.credit", "3702*********23")


def test_a_legacy_id_number_person_id_is_masked_in_every_audit_detail(api: Api):
    # the audit target was masked, the detail's psn_no of settle / reverse / register was not
    with api.world.db.transaction() as session:  # as an older yibao stored it
        session.add(Person(id=CERTNO, region="erenhot", scheme="employee", employment="in_service"))
        session.flush()
        session.add(Account(person_id=CERTNO, balance=0))
    claim = outpatient("C1", "2023-03-01", "300")
    settled = api.ok("2207", {"psn_no": CERTNO, "claim": claim}, msgid="legacy-1")
    setl_id = settled["setlinfo"]["setl_id"]
    api.ok("2208", {"psn_no": CERTNO, "setl_id": setl_id}, msgid="legacy-2")
    with api.world.db.sessions() as session:
        rows = session.query(AuditEntry).filter(AuditEntry.action.like("settlement.%")).all()
    assert sorted(r.action for r in rows) == ["settlement.reverse", "settlement.settle"]
    assert {r.detail["psn_no"] for r in rows} == {"1525************" + CERTNO[-2:]}


@pytest.mark.parametrize("who", ["hospital", "bureau"])
@pytest.mark.parametrize(
    ("asked", "shown"), [(CERTNO, "1525************" + CERTNO[-2:]), (FIRST_GENERATION, None)]
)
def test_an_unknown_person_asked_by_id_number_is_answered_masked(api: Api, who, asked, shown):
    shown = shown or "3702*********23"
    answer = api.client.get(f"/persons/{asked}", headers=api.key(who))
    assert answer.status_code == 404
    assert answer.json()["err_msg"] == f"person {shown} is not enrolled"
    assert asked not in answer.text


def test_1101_refuses_an_inf_time_ahead_of_the_clock_as_settlements_do(api: Api):
    today = dt.date.today()
    refused = _refusal(api, {"psn_no": "P1"}, inf_time="9999-12-31 00:00:00")
    assert refused == f"inf_time: 9999-12-31 is in the future (today is {today})"
    tomorrow = today + dt.timedelta(days=1)  # a sender's clock may run a little ahead
    answer = api.ok("1101", {"psn_no": "P1"}, inf_time=f"{tomorrow} 08:00:00")
    assert answer["baseinfo"]["age"] >= 0


def test_1101_refuses_an_inf_time_before_the_persons_birth(api: Api):
    refused = _refusal(api, {"psn_no": "P1"}, inf_time="1900-01-01 00:00:00")
    assert refused == "inf_time: 1900-01-01 is before the birth date 1980-01-01 of person P1"
    born = api.ok("1101", {"psn_no": "P1"}, inf_time="1980-01-01 00:00:00")
    assert born["baseinfo"]["age"] == 0


@pytest.mark.parametrize(
    "inf_time", ["2023-03-01", "2023-03-01 23:30:00-05:00", "2023-03-01 23:30:00Z"]
)
def test_inf_time_is_the_whole_national_date_time(api: Api, inf_time):
    # QA: an offset after the time was accepted and dropped (setl_time 23:30:00, not 04:30)
    answer = api.call("1101", {"psn_no": "P1"}, inf_time=inf_time)
    assert answer.status_code == 422
    assert answer.json()["err_msg"] == "inf_time: must be a date-time yyyy-MM-dd HH:mm:ss"


def test_a_settlement_for_an_unknown_id_number_is_answered_masked(api: Api):
    # the psn_no a hospital sends may be an ID number: 1101 and GET /persons mask it, so must 2207
    answer = api.call("2207", {"psn_no": CERTNO, "claim": outpatient("C1", "2023-03-01", "300")})
    assert answer.json()["err_msg"] == f"person 1525************{CERTNO[-2:]} is not enrolled"
