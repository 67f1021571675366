"""REST resources: enrollment, accounts, institutions, settlements, reconciliation, audit."""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import Api, decimal_json
from tests.service.world import outpatient
from yibao.service.identity import with_check_digit

CERTNO = with_check_digit("15010219550302001")


def test_enroll_read_and_credit_a_person(api: Api):
    bureau = api.key("bureau")
    body = {
        "region": "erenhot",
        "person": {
            "id": "P7",
            "scheme": "employee",
            "employment": "retired",
            "birth_date": "1955-03-02",
            "sex": "M",
            "certno": CERTNO,
            "name": "张三",
            "category_periods": [
                {"category": "dibao", "valid_from": "2023-03-01", "valid_to": "2023-10-31"}
            ],
            "family": [{"holder": "P1", "relation": "child"}],
        },
    }
    created = api.client.post("/persons", json=body, headers=bureau)
    assert created.status_code == 200 and created.json() == {"id": "P7", "created": True}
    updated = api.client.post("/persons", json=body, headers=bureau)
    assert updated.json() == {"id": "P7", "created": False}

    seen = api.client.get("/persons/P7", headers=bureau).json()
    assert seen["certno"] == CERTNO and seen["category_periods"][0]["category"] == "dibao"
    masked = api.client.get("/persons/P7", headers=api.key("hospital")).json()
    assert masked["certno"] == CERTNO[:4] + "*" * 12 + CERTNO[-2:]

    credit = api.client.post(
        "/persons/P7/account/credits", json={"amount": "150.50", "note": "划入"}, headers=bureau
    )
    assert credit.status_code == 200
    assert decimal_json(credit) == {
        "person_id": "P7",
        "balance": Decimal("150.50"),
        "balance_fen": 15050,
    }
    assert '"balance":150.50' in credit.text
    info = api.ok("1101", {"psn_no": "P7"}, inf_time="2023-06-01 08:00:00")
    assert info["baseinfo"]["age"] == 68 and info["baseinfo"]["categories"] == ["dibao"]
    assert info["insuinfo"][0]["balc"] == Decimal("150.50")
    assert info["idetinfo"] == [
        {"psn_idet_type": "dibao", "begntime": "2023-03-01", "endtime": "2023-10-31"}
    ]


def test_enrollment_and_credit_errors_name_the_field(api: Api):
    bureau = api.key("bureau")
    bad_id = {"region": "erenhot", "person": {"id": "P8", "scheme": "resident", "certno": "123"}}
    response = api.client.post("/persons", json=bad_id, headers=bureau)
    assert response.status_code == 422
    assert response.json()["err_msg"] == "person.certno: must be 17 digits and a check character"
    region = api.client.post(
        "/persons",
        json={"region": "mars", "person": {"id": "P8", "scheme": "resident"}},
        headers=bureau,
    )
    assert region.status_code == 422 and region.json()["err_msg"].startswith("region:")
    slash = {"region": "erenhot", "person": {"id": "P8/x", "scheme": "resident"}}
    unreadable = api.client.post("/persons", json=slash, headers=bureau)  # never readable back
    assert unreadable.status_code == 422
    assert unreadable.json()["err_msg"].startswith("person.id: must not contain '/'")
    orphan = {
        "region": "erenhot",
        "person": {
            "id": "P8",
            "scheme": "resident",
            "family": [{"holder": "X", "relation": "spouse"}],
        },
    }
    assert api.client.post("/persons", json=orphan, headers=bureau).status_code == 400
    # QA: swapped dates were accepted, a 低保 period no day falls in
    swapped = {"category": "dibao", "valid_from": "2023-10-01", "valid_to": "2023-03-01"}
    periods = {"region": "erenhot", "person": {"id": "P8", "scheme": "resident"}}
    periods["person"]["category_periods"] = [swapped]
    answer = api.client.post("/persons", json=periods, headers=bureau)
    assert answer.status_code == 422
    assert answer.json()["err_msg"] == (
        "person.category_periods[0]: valid_to 2023-03-01 is before valid_from 2023-10-01"
    )
    for amount in ("0", "-5", "1.234", "abc", True):
        answer = api.client.post(
            "/persons/P1/account/credits", json={"amount": amount}, headers=bureau
        )
        assert answer.status_code == 422, amount
        assert answer.json()["err_msg"].startswith("amount:")
    nobody = api.client.post("/persons/NOBODY/account/credits", json={"amount": 1}, headers=bureau)
    assert nobody.status_code == 404
    assert api.client.get("/persons/NOBODY", headers=bureau).status_code == 404


def test_the_claim_files_account_balance_opens_the_account_once(api: Api):
    # contract: the body is the claim file's person object — its account_balance is the
    # opening balance; afterwards the balance moves only by credits and settlements
    bureau = api.key("bureau")
    person = {"id": "P9", "scheme": "employee", "employment": "in_service"}
    body = {"region": "erenhot", "person": {**person, "account_balance": "300.00"}}
    assert api.client.post("/persons", json=body, headers=bureau).json()["created"] is True
    seen = api.client.get("/persons/P9", headers=bureau).json()
    assert seen["account_balance_fen"] == 30_000
    assert api.client.post("/persons", json=body, headers=bureau).status_code == 200  # same
    other = {"region": "erenhot", "person": {**person, "account_balance": "500.00"}}
    changed = api.client.post("/persons", json=other, headers=bureau)
    assert changed.status_code == 400
    assert changed.json()["err_msg"] == (
        "person.account_balance: the account holds 300.00; "
        "change it with POST /persons/P9/account/credits"
    )
    ytd = {"region": "erenhot", "person": {**person, "ytd": {"year": 2023}}}
    refused = api.client.post("/persons", json=ytd, headers=bureau)
    assert refused.status_code == 422
    assert refused.json()["err_msg"].startswith("person.ytd: year-to-date totals here come")


def test_register_an_institution_and_use_its_key_once_shown(api: Api):
    bureau = api.key("bureau")
    body = {"code": "H009", "name": "新区医院", "level": 2, "kind": "hospital", "region": "erenhot"}
    created = api.client.post("/institutions", json=body, headers=bureau)
    assert created.status_code == 201
    key = created.json()["api_key"]
    assert created.json()["status"] == "active"
    assert api.client.post("/institutions", json=body, headers=bureau).status_code == 409
    mine = api.client.get("/institutions", headers={"X-API-Key": key}).json()
    assert [i["code"] for i in mine] == ["H009"]
    everyone = api.client.get("/institutions", headers=bureau).json()
    assert [i["code"] for i in everyone] == ["H001", "H002", "H009"]
    assert key not in api.client.get("/audit", headers=bureau).text
    done = api.ok(
        "2207",
        {"psn_no": "P2", "claim": outpatient("C1", "2023-05-01", "80", level=2)},
        who="bureau",
        fixmedins_code="H009",
    )
    assert done["setlinfo"]["setl_id"]


def test_settlements_are_listed_and_read_per_institution(api: Api):
    claim = outpatient("C1", "2023-03-01", "1500")
    mine = api.ok("2207", {"psn_no": "P1", "claim": claim})["setlinfo"]
    theirs = api.ok(
        "2207",
        {"psn_no": "P2", "claim": outpatient("C2", "2023-03-05", "700", 1)},
        who="other",
        fixmedins_code="H002",
    )["setlinfo"]
    hospital = api.key("hospital")

    one = api.client.get(f"/settlements/{mine['setl_id']}", headers=hospital)
    detail = decimal_json(one)
    assert detail["status"] == "settled" and detail["setlinfo"]["hifp_pay"] == mine["hifp_pay"]
    assert detail["setlinfo"]["pool_prop_selfpay"] == Decimal("0.6000")
    assert detail["setldetail"][0]["fund_payamt"] == Decimal("300.00")
    assert detail["lines"][0]["det_item_fee_sumamt"] == Decimal("1500.00")
    assert api.client.get(f"/settlements/{theirs['setl_id']}", headers=hospital).status_code == 404

    listed = api.client.get("/settlements?begin=2023-01-01&end=2023-12-31", headers=hospital)
    assert [s["setl_id"] for s in listed.json()] == [mine["setl_id"]]
    everything = api.client.get(
        "/settlements?begin=2023-01-01&end=2023-12-31", headers=api.key("auditor")
    ).json()
    assert [s["setl_id"] for s in everything] == [mine["setl_id"], theirs["setl_id"]]
    only_p2 = api.client.get(
        "/settlements?begin=2023-01-01&end=2023-12-31&psn_no=P2", headers=api.key("bureau")
    ).json()
    assert [s["psn_no"] for s in only_p2] == ["P2"]
    bad_date = api.client.get("/settlements?begin=0&end=2023-12-31", headers=hospital)
    assert bad_date.status_code == 422 and bad_date.json()["err_msg"].startswith("query.begin")


def test_reconciliation_totals_and_details(api: Api):
    first = api.ok("2207", {"psn_no": "P1", "claim": outpatient("C1", "2023-03-01", "1500")})
    api.ok("2207", {"psn_no": "P2", "claim": outpatient("C2", "2023-03-02", "600")})
    api.ok("2208", {"psn_no": "P1", "setl_id": first["setlinfo"]["setl_id"]})
    recon = decimal_json(
        api.client.get(
            "/reconciliations?begin=2023-03-01&end=2023-03-31&fixmedins_code=H001",
            headers=api.key("bureau"),
        )
    )
    assert recon["setl_cnt"] == 3 and recon["fixmedins_code"] == "H001"
    assert recon["medfee_sumamt"] == Decimal("600.00")
    assert sorted(d["status"] for d in recon["details"]) == ["reversal", "reversed", "settled"]
    assert recon["funds"][0]["fund_payamt"] == recon["fund_pay_sumamt"]
    backwards = api.client.get(
        "/reconciliations?begin=2023-03-31&end=2023-03-01", headers=api.key("bureau")
    )
    assert backwards.status_code == 400  # was 200 with all zeros; 3201 refuses the same
    assert backwards.json()["err_msg"] == "end: 2023-03-01 is before begin 2023-03-31"


def test_every_write_is_in_the_audit_log_with_masked_id_numbers(api: Api):
    bureau = api.key("bureau")
    body = {"region": "erenhot", "person": {"id": "P7", "scheme": "resident", "certno": CERTNO}}
    api.client.post("/persons", json=body, headers=bureau)
    mdtrt_id = api.ok("2201", {"psn_no": "P7", "begntime": "2023-03-01", "ipt_otp_no": "1"})[
        "data"
    ]["mdtrt_id"]
    entries = api.client.get("/audit?limit=5", headers=api.key("auditor"))
    assert CERTNO not in entries.text
    actions = [(e["action"], e["target"]) for e in entries.json()]
    assert actions[:2] == [("visit.register", mdtrt_id), ("person.enroll", "P7")]
    assert entries.json()[1]["detail"]["certno"].startswith("1501***")
