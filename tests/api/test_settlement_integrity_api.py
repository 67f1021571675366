"""Settlement integrity over `POST /api/transactions`: registered level, a claim settled once,
national date-times in setl_time (the request's time of day), 3201 by insutype/clr_type."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.api.conftest import decimal_json
from tests.api.test_national_flow import DAY, fee
from tests.service.world import outpatient

NATIONAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def test_a_level_other_than_the_registered_one_is_a_business_error(api):
    claim = outpatient("C1", "2023-03-01", "2000", level=1)
    response = api.call("2207", {"psn_no": "P2", "claim": claim})
    assert response.status_code == 200
    body = response.json()
    assert body["infcode"] == -1
    assert body["err_msg"] == "claim.hospital_level: 1 is not the registered level 3 of H001"
    omitted = {k: v for k, v in claim.items() if k != "hospital_level"}
    done = api.ok("2207", {"psn_no": "P2", "claim": omitted})
    assert done["setlinfo"]["pool_prop_selfpay"] == Decimal("0.6500")  # level 3, retired


def test_a_second_msgid_for_a_settled_claim_is_refused_naming_the_settlement(api):
    claim = outpatient("C1", "2023-03-01", "600")
    first = api.call("2207", {"psn_no": "P2", "claim": claim}, msgid="H001-1")
    setl_id = decimal_json(first)["output"]["setlinfo"]["setl_id"]
    retry = api.call("2207", {"psn_no": "P2", "claim": claim}, msgid="H001-2").json()
    assert retry["infcode"] == -1
    assert retry["err_msg"].startswith(f"claim C1 already settled as {setl_id}")
    # an mdtrt_id echoed on the claim path does not make it a visit's batch
    echoed = {"psn_no": "P2", "claim": claim, "mdtrt_id": "ANY"}
    assert api.call("2207", echoed, msgid="H001-3").json()["infcode"] == -1
    assert api.call("2207", {"psn_no": "P2", "claim": claim}, msgid="H001-1").text == first.text


def test_setl_time_is_a_national_date_time_at_the_requests_time_of_day(api):
    claim = outpatient("C1", "2023-03-01", "600")
    at = "2023-03-01 14:05:09"
    pre = api.ok("2206", {"psn_no": "P2", "claim": claim}, inf_time=at)["setlinfo"]
    done = api.ok("2207", {"psn_no": "P2", "claim": claim}, inf_time=at)["setlinfo"]
    assert pre["setl_time"] == done["setl_time"] == "2023-03-01 14:05:09"
    undo = {"psn_no": "P2", "setl_id": done["setl_id"]}
    reversal = api.ok("2208", undo, inf_time="2023-04-02 08:00:01")["setlinfo"]
    assert reversal["setl_time"] == "2023-04-02 08:00:01"
    # the REST views keep the date
    view = api.client.get(f"/settlements/{reversal['setl_id']}", headers=api.key("hospital"))
    assert view.json()["setl_time"] == "2023-04-02"
    assert (
        api.ok("3201", {"stmt_begndate": "2023-03-01", "stmt_enddate": "2023-03-31"})["setl_cnt"]
        == 1
    )  # March stays as reconciled; the reversal is April's


def test_a_visit_settles_batch_by_batch_under_one_mdtrt_id(api):
    # the national flow's claim id is the visit's mdtrt_id, shared by its batches: each
    # batch still settles (its lines settle once by reservation)
    mdtrt_id = api.ok("2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP1"})["data"][
        "mdtrt_id"
    ]
    m = {"mdtrt_id": mdtrt_id}
    batches = [
        fee("1", "XC08CAA001", "12.50", "2", "25.00", **m),
        {**fee("2", "XC08CAA001", "12.50", "4", "50.00", **m), "chrg_bchno": "B2"},
    ]
    api.ok("2204", {"feedetail": batches})
    settled = []
    for batch in ("B1", "B2"):
        data = {"psn_no": "P2", "mdtrt_id": mdtrt_id, "chrg_bchno": batch}
        info = api.ok("2207", {"data": data}, inf_time="2023-03-01 11:22:33")["setlinfo"]
        assert NATIONAL_DATETIME.fullmatch(info["setl_time"])
        assert info["setl_time"] == "2023-03-01 11:22:33"
        settled.append(info["medfee_sumamt"])
    assert settled == [Decimal("25.00"), Decimal("50.00")]


def test_3201_selects_by_insutype_and_clr_type_and_refuses_unknown_codes(api):
    api.ok("2207", {"psn_no": "P2", "claim": outpatient("C1", "2023-03-01", "600")})
    period = {"stmt_begndate": "2023-03-01", "stmt_enddate": "2023-03-31"}
    employee = api.ok("3201", {"data": {**period, "insutype": "310", "clr_type": "11"}})
    assert employee["setl_cnt"] == 1 and employee["insutype"] == "310"
    resident = api.ok("3201", {"data": {**period, "insutype": "390", "clr_type": "11"}})
    assert resident["setl_cnt"] == 0 and resident["medfee_sumamt"] == Decimal("0.00")
    inpatient = api.ok("3201", {"data": {**period, "insutype": "310", "clr_type": "21"}})
    assert inpatient["setl_cnt"] == 0
    bad = api.call("3201", {"data": {**period, "clr_type": "X"}}).json()
    assert bad["infcode"] == -1 and bad["err_msg"].startswith("clr_type: X is not a 清算类别")
