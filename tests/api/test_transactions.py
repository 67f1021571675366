"""`POST /api/transactions` with the contract's inputs: settle → 3201 → 2208, retries, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api.conftest import decimal_json
from tests.service.world import outpatient


def test_settle_reconcile_reverse_round_trip(api):
    claim = outpatient("C1", "2023-03-01", "1500")
    pre = api.ok("2206", {"psn_no": "P1", "claim": claim})
    assert "setl_id" not in pre["setlinfo"]

    done = api.ok("2207", {"psn_no": "P1", "claim": claim}, msgid="settle-1")
    info = done["setlinfo"]
    # EH-10/12: in service, level 3: 1000 deductible, 60% of the other 500; account pays 1000.
    assert (info["hifp_pay"], info["act_pay_dedc"], info["acct_pay"]) == (
        Decimal("300.00"),
        Decimal("1000.00"),
        Decimal("1000.00"),
    )
    assert info["medins_setl_id"] == "settle-1"
    assert {k: pre["setlinfo"][k] for k in ("hifp_pay", "psn_cash_pay")} == {
        k: info[k] for k in ("hifp_pay", "psn_cash_pay")
    }
    assert [d["fund_pay_type"] for d in done["setldetail"]] == ["310100"]
    assert (info["psn_cert_type"], info["cvlserv_flag"]) == ("01", "0")  # nhsa.md: Y

    totals = api.ok("3201", {"stmt_begndate": "2023-03-01", "stmt_enddate": "2023-03-31"})
    assert totals["fixmedins_code"] == "H001" and totals["setl_cnt"] == 1
    assert totals["fund_pay_sumamt"] == Decimal("300.00")
    assert totals["funds"] == [
        {
            "fund_pay_type": "310100",
            "fund_pay_type_name": "职工基本医疗保险统筹基金",
            "fund_payamt": Decimal("300.00"),
        }
    ]

    wrong = api.call("2305", {"psn_no": "P1", "setl_id": info["setl_id"]}).json()
    assert wrong["infcode"] == -1 and wrong["err_msg"].endswith("reverse it with 2208")
    undone = api.ok("2208", {"psn_no": "P1", "setl_id": info["setl_id"]})
    reversal = undone["setlinfo"]
    assert reversal["setl_id"] != info["setl_id"]
    assert reversal["reversed_setl_id"] == info["setl_id"]
    assert reversal["fund_pay_sumamt"] == Decimal("-300.00")
    # the national 2208 output (nhsa.md): the ratio, the balance after the refund, the
    # reversal's own medins_setl_id, and setldetail negating the settlement's fund rows
    assert reversal["pool_prop_selfpay"] == info["pool_prop_selfpay"]
    assert reversal["balc"] == Decimal("1000.00") and reversal["medins_setl_id"]
    assert undone["setldetail"] == [
        {**d, "inscp_scp_amt": -d["inscp_scp_amt"], "fund_payamt": -d["fund_payamt"]}
        | {"setl_proc_info": "撤销"}
        for d in done["setldetail"]
    ]

    after = api.ok("3201", {"data": {"stmt_begndate": "2023-03-01", "stmt_enddate": "2023-03-31"}})
    assert after["fund_pay_sumamt"] == Decimal("0.00") and after["setl_cnt"] == 2
    person = api.client.get("/persons/P1", headers=api.key("bureau")).json()
    assert person["account_balance_fen"] == 100_000  # the account is refunded exactly

    again = api.call("2208", {"psn_no": "P1", "setl_id": info["setl_id"]}).json()
    assert again["infcode"] == -1 and "is reversed" in again["err_msg"]


def test_3201_compares_the_institutions_own_totals(api):
    api.ok("2207", {"psn_no": "P2", "claim": outpatient("C1", "2023-03-02", "1200")})
    period = {"stmt_begndate": "2023-03-01 00:00:00", "stmt_enddate": "2023-03-31 23:59:59"}
    agree = api.ok("3201", {**period, "medfee_sumamt": "1200.00", "fixmedins_setl_cnt": 1})
    assert agree["stmtinfo"]["stmt_rslt"] == "0"
    assert agree["stmtinfo"]["setl_optins"] == "152501"  # the settling bureau, not H001
    differ = api.ok("3201", {**period, "medfee_sumamt": 1100, "fixmedins_setl_cnt": 1})
    assert differ["stmtinfo"]["stmt_rslt"] == "1"
    assert "medfee_sumamt 1100 ≠ 1200.00" in differ["stmtinfo"]["stmt_rslt_dscr"]


def test_the_same_msgid_returns_the_first_answer_and_settles_once(api):
    claim = outpatient("C1", "2023-03-01", "2000")
    first = api.call("2207", {"psn_no": "P2", "claim": claim}, msgid="retry-me")
    again = api.call("2207", {"psn_no": "P2", "claim": claim}, msgid="retry-me")
    assert first.status_code == again.status_code == 200
    assert again.text == first.text
    totals = api.ok("3201", {"stmt_begndate": "2023-01-01", "stmt_enddate": "2023-12-31"})
    assert totals["setl_cnt"] == 1
    # Another caller's msgid of the same text is another message: its own settlement.
    theirs = api.call(
        "2207",
        {"psn_no": "P2", "claim": {**claim, "hospital_level": 1}},  # H002's level
        who="other",
        fixmedins_code="H002",
        msgid="retry-me",
    )
    assert theirs.json()["infcode"] == 0, theirs.text
    assert (
        theirs.json()["output"]["setlinfo"]["setl_id"]
        != first.json()["output"]["setlinfo"]["setl_id"]
    )
    assert api.call("2207", {"psn_no": "P2", "claim": claim}, msgid="retry-me").text == first.text


def test_another_caller_cannot_take_an_institutions_next_msgid(api):
    # A national msgid is the institution's code, a timestamp and a sequence number: easy to
    # guess. Taken first by another caller, it must neither refuse nor reveal the owner's.
    taken = api.call(
        "9001",
        {"signIn": {"opter_no": "1", "mac": "m", "ip": "1"}},
        who="other",
        fixmedins_code="H002",
        msgid="H00120261201110000001",
    )
    assert taken.json()["infcode"] == 0, taken.text
    mine = api.call(
        "2207",
        {"psn_no": "P2", "claim": outpatient("C1", "2023-03-01", "2000")},
        msgid="H00120261201110000001",
    )
    assert mine.json()["infcode"] == 0, mine.text


def test_business_errors_answer_200_with_the_field_path(api):
    bad = outpatient("C1", "2023-03-01", "100")
    bad["items"][0]["price"] = "-1"
    response = api.call("2207", {"psn_no": "P1", "claim": bad})
    assert response.status_code == 200
    assert response.json() == {
        "infcode": -1,
        "err_msg": "claim.items[0].price: must be >= 0",
        "output": None,
    }
    nobody = api.call("1101", {"psn_no": "NOBODY"}).json()
    assert nobody["infcode"] == -1 and nobody["err_msg"] == "person NOBODY is not enrolled"
    missing = api.call("2207", {"claim": outpatient("C2", "2023-03-01", "1")}).json()
    assert missing["err_msg"] == "psn_no: Field required"
    neither = api.call("2206", {"psn_no": "P1"}).json()
    assert neither["err_msg"].startswith("claim: required")
    huge = outpatient("C3", "2023-03-01", "100")
    huge["items"][0] |= {"price": "100000000000000000", "quantity": 1000}  # once a 500
    too_much = api.call("2207", {"psn_no": "P1", "claim": huge})
    assert too_much.status_code == 200
    assert too_much.json()["err_msg"].startswith("claim.items[0].price: must be at most")


def test_malformed_envelopes_are_4xx_with_a_json_body(api):
    headers = api.key("hospital")
    cases = [
        {"msgid": "m", "inf_time": "2023-03-01 10:00:00", "input": {}},  # no infno
        {"infno": "9999", "msgid": "m", "inf_time": "2023-03-01 10:00:00", "input": {}},
        {"infno": "1101", "msgid": "m", "inf_time": "yesterday", "input": {}},
        {"infno": "1101", "msgid": "m", "inf_time": "2023-03-01 10:00:00", "input": []},
        {"infno": "1101", "msgid": "", "inf_time": "2023-03-01 10:00:00", "input": {}},
    ]
    for envelope in cases:
        response = api.client.post("/api/transactions", json=envelope, headers=headers)
        assert response.status_code == 422, envelope
        body = response.json()
        assert body["infcode"] == -1 and ":" in body["err_msg"]
    broken = api.client.post(
        "/api/transactions",
        content=b"{not json",
        headers={**headers, "content-type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["infcode"] == -1


def test_1101_by_psn_no_or_id_number_masks_it_for_institutions(api):
    with api.world.db.sessions() as session:
        from yibao.store.models import Person

        certno = session.get(Person, "P1").certno
    mine = api.ok("1101", {"data": {"psn_no": "P1"}})
    base = mine["baseinfo"]
    assert base["certno"] != certno and base["certno"][:4] == certno[:4] and "*" in base["certno"]
    assert (base["insutype"], base["psn_type"], base["insuplc_admdvs"]) == (
        "310",
        "1101",
        "152501",  # 二连浩特市: the 6-digit code a hospital echoes in its envelopes
    )
    assert mine["insuinfo"][0]["balc"] == Decimal("1000.00")
    by_card = api.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})
    assert by_card["baseinfo"]["psn_no"] == "P1"
    assert certno not in api.call("1101", {"certno": certno}).text
    bureau = api.ok("1101", {"psn_no": "P1"}, who="bureau", fixmedins_code=None)
    assert bureau["baseinfo"]["certno"] == certno
    wrong = api.call("1101", {"certno": certno[:-1] + ("0" if certno[-1] != "0" else "1")})
    assert wrong.json()["err_msg"] == "certno: check character does not match"
    # the field named is the one sent; an ID number of someone else beside psn_no is refused
    bad_card = {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno[:-1] + "Z"}
    assert api.call("1101", bad_card).json()["err_msg"].startswith("mdtrt_cert_no: ")
    other = api.call("1101", {"psn_no": "P2", "mdtrt_cert_type": "02", "mdtrt_cert_no": certno})
    assert other.json()["err_msg"] == "mdtrt_cert_no: not the ID number of person P2"


def test_bureau_settles_for_a_named_institution_and_auditors_only_read(api):
    claim = outpatient("C1", "2023-03-01", "300", level=1)  # H002's registered level
    nameless = api.call("2207", {"psn_no": "P2", "claim": claim}, who="bureau", fixmedins_code=None)
    assert nameless.json()["infcode"] == -1 and "fixmedins_code" in nameless.json()["err_msg"]
    done = api.ok("2207", {"psn_no": "P2", "claim": claim}, who="bureau", fixmedins_code="H002")
    setl_id = done["setlinfo"]["setl_id"]
    seen = api.client.get(f"/settlements/{setl_id}", headers=api.key("other")).json()
    assert seen["fixmedins_code"] == "H002"

    assert api.call("2207", {"psn_no": "P2", "claim": claim}, who="auditor").status_code == 403
    assert api.call("1101", {"psn_no": "P2"}, who="auditor").json()["infcode"] == 0
    totals = api.ok(
        "3201",
        {"stmt_begndate": "2023-01-01", "stmt_enddate": "2023-12-31"},
        who="auditor",
        fixmedins_code=None,
    )
    assert totals["setl_cnt"] == 1 and totals["fixmedins_code"] is None
    # An institution key acts only as itself.
    assert (
        api.call("2207", {"psn_no": "P2", "claim": claim}, fixmedins_code="H002").status_code == 403
    )
    foreign = api.call("2208", {"psn_no": "P2", "setl_id": setl_id})
    assert foreign.json()["infcode"] == -1 and "not found" in foreign.json()["err_msg"]


def test_money_is_written_as_exact_json_numbers(api):
    response = api.call("2207", {"psn_no": "P2", "claim": outpatient("C1", "2023-03-01", "0.10")})
    assert '"medfee_sumamt":0.10' in response.text
    assert '"pool_prop_selfpay":' in response.text
    assert decimal_json(response)["output"]["setlinfo"]["psn_cash_pay"] == Decimal("0.10")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (
            b'{"infno": "1101"}',
            "application/x-www-form-urlencoded",
            422,
            "body: a JSON object is required (send Content-Type: application/json)",
        ),
        (b"not json", "application/json", 422, "body: not valid JSON ("),
        (b"", "application/json", 422, "body: empty; a JSON object is required"),
        (b'{"infno": "\xff"}', "application/json", 400, "body: cannot be read as JSON"),
    ],
)
def test_an_unreadable_body_says_what_is_wrong_with_it(api, body, content_type, status, message):
    # curl -d sends a form content type by default: the answer must say what to change
    headers = {**api.key("hospital"), "Content-Type": content_type}
    response = api.client.post("/api/transactions", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["infcode"] == -1
    assert response.json()["err_msg"].startswith(message)


def test_an_envelope_without_input_is_malformed(api):
    # nhsa.md marks `input` required: a 4xx for the envelope, not a trade answering {}
    body = {"infno": "1101", "msgid": "no-input", "inf_time": "2023-03-01 10:00:00"}
    response = api.client.post("/api/transactions", json=body, headers=api.key("hospital"))
    assert response.status_code == 422
    assert response.json()["err_msg"] == "input: Field required"
