"""What the national flow refuses, and why (found by a HIS vendor's QA pass): settling before
the care, a stay settled in parts, a msgid reused for another request or raced by its own
retry, a reversal naming another visit, and input PostgreSQL or Decimal cannot hold."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from tests.api.test_national_flow import DAY, fee, lines
from yibao.service import visits


def _visit(api, msgid: str | None = None) -> str:
    reg = api.ok("2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP1"}, msgid=msgid)
    return reg["data"]["mdtrt_id"]


def _refused(api, infno: str, data: dict[str, Any], **kw: Any) -> str:
    body = api.call(infno, data, **kw).json()
    assert body["infcode"] == -1, body
    return body["err_msg"]


def test_a_visit_is_not_settled_before_its_registration_or_its_fees(api):
    mdtrt_id = _visit(api)  # registered 2023-03-01
    api.ok("2204", {"feedetail": lines(mdtrt_id)[:1]})
    data = {"psn_no": "P2", "mdtrt_id": mdtrt_id}
    for infno in ("2206", "2207"):  # a year back: it would take 2022's deductible
        message = _refused(api, infno, {"data": data}, inf_time="2022-12-01 10:00:00")
        assert message == "inf_time: 2022-12-01 is before the visit's registration (2023-03-01)"
    later = fee("2", "XC08CAA001", "1.00", "1", "1.00", mdtrt_id=mdtrt_id)
    later["fee_ocur_time"] = "2023-03-05 09:00:00"
    api.ok("2204", {"feedetail": [later]}, inf_time="2023-03-05 10:00:00")
    message = _refused(api, "2207", {"data": data}, inf_time="2023-03-02 10:00:00")
    assert (
        message == "inf_time: 2023-03-02 is before fee line 2 (fee_ocur_time 2023-03-05 09:00:00)"
    )
    settled = api.ok("2207", {"data": data}, inf_time="2023-03-05 11:00:00")
    assert settled["setlinfo"]["medfee_sumamt"] == Decimal("126.00")


def _stay(api) -> tuple[str, dict[str, Any]]:
    admitted = api.ok(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": "P2",
                "begntime": "2023-04-01 08:00:00",
                "ipt_no": "ZY9",
                "med_type": "21",
            }
        },
        inf_time="2023-04-01 08:00:00",
    )
    mdtrt_id = admitted["result"]["mdtrt_id"]
    line = fee("D1", "XC08CAA001", "12.50", "4", "50.00", mdtrt_id=mdtrt_id, med_type="21")
    line["fee_ocur_time"] = "2023-04-02 10:00:00"
    api.ok("2301", {"feedetail": [line]}, inf_time="2023-04-02 10:00:00")
    return mdtrt_id, {"psn_no": "P2", "mdtrt_id": mdtrt_id, "endtime": "2023-04-06 09:00:00"}


def test_a_stay_is_settled_once_not_in_parts(api):
    # each part would count as an admission and pay its deductible again (QA: 800 + 400
    # deductible on one Erenhot stay, 340.00 short)
    mdtrt_id, data = _stay(api)
    at = {"inf_time": "2023-04-06 10:00:00"}
    message = _refused(api, "2304", {"data": {**data, "mid_setl_flag": "1"}}, **at)
    assert message.startswith("mid_setl_flag: 1 (中途结算) is not settled here")
    first = api.ok("2304", {"data": {**data, "mid_setl_flag": "0"}}, **at)["setlinfo"]
    more = fee("D2", "XC08CAA001", "12.50", "2", "25.00", mdtrt_id=mdtrt_id, med_type="21")
    more["fee_ocur_time"] = "2023-04-05 10:00:00"
    api.ok("2301", {"feedetail": [more]}, **at)
    for infno in ("2303", "2304"):
        message = _refused(api, infno, {"data": data}, **at)
        assert message.startswith(f"mdtrt_id: stay {mdtrt_id} is already settled")
    api.ok("2305", {"data": {"psn_no": "P2", "setl_id": first["setl_id"]}}, **at)
    whole = api.ok("2304", {"data": data}, **at)["setlinfo"]
    assert whole["medfee_sumamt"] == Decimal("75.00")


def test_a_msgid_sent_again_with_another_request_is_refused(api):
    one, two = _visit(api), _visit(api)
    api.ok("2204", {"feedetail": lines(one)[:1]})
    api.ok("2204", {"feedetail": lines(two)[1:2]})
    first = api.ok("2207", {"data": {"psn_no": "P2", "mdtrt_id": one}}, msgid="SEQ-0001")
    # a HIS whose sequence restarted: answered with visit one's settlement before
    message = _refused(api, "2207", {"data": {"psn_no": "P2", "mdtrt_id": two}}, msgid="SEQ-0001")
    assert message.startswith("msgid SEQ-0001 was already used for another 2207 request")
    retry = api.ok("2207", {"data": {"psn_no": "P2", "mdtrt_id": one}}, msgid="SEQ-0001")
    assert retry == first  # the same request again: the first answer
    assert (
        api.ok("2207", {"data": {"psn_no": "P2", "mdtrt_id": two}})["setlinfo"]["mdtrt_id"] == two
    )


def test_a_retry_racing_its_first_upload_gets_the_first_answer(api):
    mdtrt_id = _visit(api)
    upload = {"feedetail": lines(mdtrt_id)}
    start = threading.Barrier(4)

    def send(_: int) -> dict[str, Any]:
        start.wait()
        return api.call("2204", upload, msgid="UP-RACE").json()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, range(4)))
    assert [a["infcode"] for a in answers] == [0, 0, 0, 0], answers
    assert all(a == answers[0] for a in answers)


def test_a_business_refusal_after_the_twin_committed_replays_the_twin(api, monkeypatch):
    # deterministic form of the race above: the twin commits while this one does its work
    mdtrt_id = _visit(api)
    upload = {"feedetail": lines(mdtrt_id)[:1]}
    real = visits.upload_fees
    first = api.ok("2204", upload, msgid="UP-TWIN")

    def refused_after_twin(*args: Any, **kw: Any) -> dict:
        stored = visits.replay

        def none_first(*a: Any, **k: Any) -> None:
            monkeypatch.setattr(visits, "replay", stored)  # only the first look misses
            return None

        monkeypatch.setattr(visits, "replay", none_first)
        return real(*args, **kw)

    monkeypatch.setattr(visits, "upload_fees", refused_after_twin)
    assert api.ok("2204", upload, msgid="UP-TWIN") == first


def test_a_reversal_naming_another_visit_is_refused(api):
    one, two = _visit(api), _visit(api)
    api.ok("2204", {"feedetail": lines(one)[:1]})
    setl_id = api.ok("2207", {"data": {"psn_no": "P2", "mdtrt_id": one}})["setlinfo"]["setl_id"]
    wrong = {"psn_no": "P2", "setl_id": setl_id, "mdtrt_id": two}
    assert _refused(api, "2208", {"data": wrong}) == (
        f"mdtrt_id: {two} is not the visit of settlement {setl_id} (visit {one})"
    )
    right = {**wrong, "mdtrt_id": one}
    assert api.ok("2208", {"data": right})["setlinfo"]["setl_id"] != setl_id


def test_input_that_cannot_be_held_is_refused_with_a_reason(api):
    mdtrt_id = _visit(api)
    huge = fee("1", "XC08CAA001", "0", "1", "0.00", mdtrt_id=mdtrt_id) | {"cnt": "1e24"}
    message = _refused(api, "2204", {"feedetail": [huge]})
    assert message == "feedetail[0].cnt: must be below 1,000,000,000,000"
    nul = api.call("1101", {"data": {"psn_no": "P2\u0000"}})
    assert nul.status_code == 400
    assert nul.json()["err_msg"] == "body: a NUL character (\\u0000) is not accepted"
    path = api.client.get("/settlements/S%00", headers=api.key("hospital"))
    assert path.status_code == 400 and path.json()["err_msg"].startswith("path: a NUL")
    flag = {"psn_no": "P2", "mdtrt_id": mdtrt_id, "acct_used_flag": "x"}
    assert _refused(api, "2206", {"data": flag}).startswith("acct_used_flag: ")


def test_a_pharmacy_registers_purchases_only(api):
    from yibao.service import institutions
    from yibao.service.errors import ServiceError
    from yibao.service.principal import SYSTEM

    institutions.add_institution(api.world.db, "PH1", "定点药店", 3, "pharmacy", "erenhot")

    def register(**data: Any) -> dict:
        raw = {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "RX1", **data}
        return visits.register(api.world.db, SYSTEM, raw, "PH1", f"rx-{len(data)}", "2201")

    opened = register()["data"]["mdtrt_id"]  # no med_type: a purchase (41), not 11
    assert api.client.get(f"/visits/{opened}", headers=api.key("bureau")).json()["med_type"] == "41"
    try:  # refused when registered, not first at settlement (QA)
        register(med_type="14")
        raise AssertionError("a chronic-disease visit was registered at a pharmacy")
    except ServiceError as exc:
        assert exc.message.startswith("med_type: 14 (门诊慢特病) cannot be settled at pharmacy PH1")


def test_a_stay_is_not_settled_batch_by_batch(api):
    # a batch leaving lines out would strand them: every later 2304 is refused (QA)
    mdtrt_id, data = _stay(api)
    more = fee("D2", "XC08CAA001", "12.50", "2", "25.00", mdtrt_id=mdtrt_id, med_type="21")
    more |= {"fee_ocur_time": "2023-04-05 10:00:00", "chrg_bchno": "B2"}
    at = {"inf_time": "2023-04-06 10:00:00"}
    api.ok("2301", {"feedetail": [more]}, **at)
    message = _refused(api, "2304", {"data": {**data, "chrg_bchno": "B2"}}, **at)
    assert message == (
        f"chrg_bchno: stay {mdtrt_id} has unsettled fee lines outside batch B2 (D1): a stay "
        "settles all its fee lines at once"
    )
    assert api.ok("2304", {"data": data}, **at)["setlinfo"]["medfee_sumamt"] == Decimal("75.00")


def test_a_copy_of_a_stay_settlement_replays_it(api, monkeypatch):
    # the copy that lost the race finds the stay settled by its own msgid (QA, PostgreSQL)
    _, data = _stay(api)
    at = {"inf_time": "2023-04-06 10:00:00", "msgid": "STAY-1"}
    first = api.ok("2304", {"data": data}, **at)
    stored = visits.replay

    def none_first(*a: Any, **k: Any) -> None:
        monkeypatch.setattr(visits, "replay", stored)  # only the copy's first look misses
        return None

    monkeypatch.setattr(visits, "replay", none_first)
    assert api.ok("2304", {"data": data}, **at) == first


def test_endtime_must_be_the_recorded_discharge(api):
    mdtrt_id, data = _stay(api)
    discharged = {"mdtrt_id": mdtrt_id, "psn_no": "P2", "endtime": "2023-04-04 09:00:00"}
    api.ok("2402", {"dscginfo": discharged}, inf_time="2023-04-04 10:00:00")
    message = _refused(api, "2304", {"data": data}, inf_time="2023-04-06 10:00:00")
    assert message == "endtime: 2023-04-06 is not the discharge 2402 recorded (2023-04-04)"
    same = {**data, "endtime": "2023-04-04 09:00:00"}
    assert api.ok("2304", {"data": same}, inf_time="2023-04-06 10:00:00")["setlinfo"]


def test_a_lone_surrogate_and_an_empty_mdtrt_id(api):
    body = '{"infno": "1101", "msgid": "S1", "inf_time": "2023-03-01 10:00:00", '
    body += '"fixmedins_code": "H001", "input": {"data": {"psn_no": "P\\ud800"}}}'
    headers = {**api.key("hospital"), "content-type": "application/json"}
    answer = api.client.post("/api/transactions", content=body.encode(), headers=headers)
    assert answer.status_code == 400 and "lone UTF-16 surrogate" in answer.json()["err_msg"]
    one = _visit(api)
    api.ok("2204", {"feedetail": lines(one)[:1]})
    setl_id = api.ok("2207", {"data": {"psn_no": "P2", "mdtrt_id": one}})["setlinfo"]["setl_id"]
    empty = {"psn_no": "P2", "setl_id": setl_id, "mdtrt_id": ""}  # none given, as absent
    assert api.ok("2208", {"data": empty})["setlinfo"]["setl_id"] != setl_id


def test_a_msgid_raced_onto_another_visit_frees_its_lines(api, monkeypatch):
    # the copy for visit two lost the race to visit one's settlement under the same msgid:
    # refused, and visit two's lines are free at once, not reserved for the timeout (QA)
    one, two = _visit(api), _visit(api)
    api.ok("2204", {"feedetail": lines(one)[:1]})
    api.ok("2204", {"feedetail": lines(two)[1:2]})
    api.ok("2207", {"data": {"psn_no": "P2", "mdtrt_id": one}}, msgid="SEQ-RACE")
    stored = visits.replay

    def none_first(*a: Any, **k: Any) -> None:
        monkeypatch.setattr(visits, "replay", stored)
        return None

    monkeypatch.setattr(visits, "replay", none_first)
    message = _refused(api, "2207", {"data": {"psn_no": "P2", "mdtrt_id": two}}, msgid="SEQ-RACE")
    assert "already used for another 2207 request" in message
    view = api.client.get(f"/visits/{two}", headers=api.key("hospital")).json()
    assert {line["state"] for line in view["feedetail"]} == {"free"}
