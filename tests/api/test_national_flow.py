"""The national flow as a hospital system drives it: 9001 → 2201 → 2203 → 2204 → 2206 →
2207 (and 2401 → 2301 → 2402 → 2303 → 2304 for a stay), equal to `yibao settle`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.service.world import outpatient
from yibao.engine.inputs import ClaimFile
from yibao.render.settlement_json import setlinfo_dict
from yibao.settling import settle_file

DAY = "2023-03-01 09:30:00"


def fee(sn: str, code: str, pric: str, cnt: str, total: str, **extra: Any) -> dict[str, Any]:
    return {
        "feedetl_sn": sn,
        "mdtrt_id": extra.pop("mdtrt_id"),
        "psn_no": "P2",
        "chrg_bchno": "B1",
        "fee_ocur_time": DAY,
        "med_list_codg": code,
        "medins_list_codg": f"HIS-{code}",
        "pric": pric,
        "cnt": cnt,
        "det_item_fee_sumamt": total,
        "bilg_dept_codg": "D01",
        "bilg_dr_codg": "DR1",
        **extra,
    }


def lines(mdtrt_id: str) -> list[dict[str, Any]]:
    m = {"mdtrt_id": mdtrt_id}
    return [
        fee("1", "XC08CAA001", "12.50", "10", "125.00", chrgitm_lv="01", **m),  # 甲类 drug
        fee("2", "XC10AAA005", "100", "1", "100.00", **m),  # 乙类: region default 10%
        fee("3", "M002", "1800.00", "1", "1800.00", **m),  # 乙类 material, limit 1500, 20%
        fee("4", "LOCAL-B", "50", "1", "50.00", chrgitm_lv="02", hilist_name="院内乙类", **m),
        fee("5", "LOCAL-X", "80", "1", "80.00", medins_list_name="院内自制", **m),  # no class
        fee("6", "XN02BEA001", "0.123456", "100", "12.35", **m),  # unit price finer than fen
        fee("7", "XB01ACA056", "30", "1", "30.00", **m),  # 限定适应症 I20–I25/I63/I65
    ]


def settle_locally(person: dict, claim: dict) -> dict[str, Decimal]:
    """What `yibao settle` prints as `setlinfo` for this claim (same engine, same policy)."""
    claim_file = ClaimFile.model_validate(
        {"region": "erenhot", "person": person, "claims": [claim]}
    )
    settlements, _ = settle_file(claim_file)
    return setlinfo_dict(settlements[0].setlinfo)


def test_outpatient_visit_from_registration_to_settlement(api):
    sign = api.ok("9001", {"signIn": {"opter_no": "OP1", "mac": "00:11", "ip": "10.0.0.1"}})
    assert (
        sign["signinoutb"]["sign_time"] == "2023-03-01 10:00:00" and sign["signinoutb"]["sign_no"]
    )

    reg = api.ok(
        "2201",
        {
            "data": {
                "psn_no": "P2",
                "insutype": "310",
                "begntime": DAY,
                "mdtrt_cert_type": "02",
                "ipt_otp_no": "OP20230301001",
                "atddr_no": "DR1",
                "dr_name": "王医生",
                "dept_code": "D01",
                "dept_name": "内科",
                "caty": "A03",
            }
        },
    )["data"]
    mdtrt_id = reg["mdtrt_id"]
    assert reg["psn_no"] == "P2" and reg["ipt_otp_no"] == "OP20230301001"

    api.ok(
        "2203",
        {
            "mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": "P2", "med_type": "11", "begntime": DAY},
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": "2",
                    "diag_code": "e11.9",
                    "diag_name": "糖尿病",
                    "diag_dept": "内科",
                    "dise_dor_no": "DR1",
                    "dise_dor_name": "王医生",
                    "diag_time": DAY,
                    "vali_flag": "1",
                },
                {
                    "diag_type": "1",
                    "diag_srt_no": "1",
                    "diag_code": "I10",
                    "diag_name": "高血压",
                    "diag_dept": "内科",
                    "dise_dor_no": "DR1",
                    "dise_dor_name": "王医生",
                    "diag_time": DAY,
                    "vali_flag": "1",
                },
                {
                    "diag_type": "1",
                    "diag_srt_no": "3",
                    "diag_code": "Z00",
                    "diag_name": "作废",
                    "diag_dept": "内科",
                    "dise_dor_no": "DR1",
                    "dise_dor_name": "王医生",
                    "diag_time": DAY,
                    "vali_flag": "0",
                },
            ],
        },
    )

    uploaded = api.ok("2204", {"feedetail": lines(mdtrt_id)})["result"]
    by_sn = {row["feedetl_sn"]: row for row in uploaded}
    assert [row["feedetl_sn"] for row in uploaded] == ["1", "2", "3", "4", "5", "6", "7"]

    def buckets(sn: str) -> tuple:
        row = by_sn[sn]
        return (
            row["chrgitm_lv"],
            row["fulamt_ownpay_amt"],
            row["overlmt_amt"],
            row["preselfpay_amt"],
            row["inscp_scp_amt"],
            row["selfpay_prop"],
        )

    d = Decimal
    assert buckets("1") == ("01", d("0.00"), d("0.00"), d("0.00"), d("125.00"), d("0.0000"))
    assert buckets("2") == ("02", d("0.00"), d("0.00"), d("10.00"), d("90.00"), d("0.1000"))
    assert buckets("3") == ("02", d("0.00"), d("300.00"), d("300.00"), d("1200.00"), d("0.2000"))
    assert by_sn["3"]["pric_uplmt_amt"] == d("1500.00")
    assert buckets("4") == ("02", d("0.00"), d("0.00"), d("5.00"), d("45.00"), d("0.1000"))
    # outside the catalogue, classed on the sender's word: the memo says both (QA)
    assert by_sn["4"]["memo"].startswith("目录外: class from the sender's chrgitm_lv 02")
    assert "目录外" not in by_sn["1"]["memo"]  # listed: chrgitm_lv 01 agrees with the catalogue
    assert buckets("5") == ("03", d("80.00"), d("0.00"), d("0.00"), d("0.00"), d("1.0000"))
    assert "not in catalogue" in by_sn["5"]["memo"]
    assert buckets("6")[1:5] == (d("0.00"), d("0.00"), d("0.00"), d("12.35"))
    assert by_sn["6"]["pric"] == d("0.123456") and by_sn["6"]["cnt"] == d("100")
    assert buckets("7")[1] == d("30.00") and by_sn["7"]["lmt_used_flag"] == "1"
    assert "限定适应症" in by_sn["7"]["memo"]
    for row in uploaded:
        parts = ("fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt")
        assert sum(row[p] for p in parts) == row["det_item_fee_sumamt"]

    total = "2197.35"
    settle_input = {
        "psn_no": "P2",
        "mdtrt_cert_type": "02",
        "med_type": "11",
        "medfee_sumamt": total,
        "psn_setlway": "01",
        "mdtrt_id": mdtrt_id,
        "chrg_bchno": "B1",
        "acct_used_flag": "1",
        "insutype": "310",
    }
    wrong_total = api.call("2206", {"data": {**settle_input, "medfee_sumamt": "2000.00"}}).json()
    assert wrong_total["infcode"] == -1 and "medfee_sumamt: 2000.00" in wrong_total["err_msg"]
    pre = api.ok("2206", {"data": settle_input})
    done = api.ok("2207", {"data": {**settle_input, "invono": "INV1"}}, msgid="visit-settle")
    info = done["setlinfo"]
    assert info["mdtrt_id"] == mdtrt_id and info["setl_id"]
    assert info["medfee_sumamt"] == d(total)

    expected = settle_locally(
        {"id": "P2", "scheme": "employee", "employment": "retired"},
        {
            "id": mdtrt_id,
            "date": "2023-03-01",
            "med_type": "11",
            "hospital_level": 3,
            "diagnoses": ["I10", "E11.9"],
            "items": [
                {"code": "XC08CAA001", "price": "12.50", "quantity": 10},
                {"code": "XC10AAA005", "price": "100.00"},
                {"code": "M002", "price": "1800.00"},
                {"code": "LOCAL-B", "category": "B", "price": "50"},
                {"code": "LOCAL-X", "price": "80"},
                {"code": "XN02BEA001", "price": "12.35"},
                {"code": "XB01ACA056", "price": "30"},
            ],
        },
    )
    for name, value in expected.items():
        assert info[name] == value, name
        assert pre["setlinfo"][name] == value, name

    # Settled lines are not settled again; reversing the settlement frees them.
    again = api.call("2207", {"data": settle_input}).json()
    assert again["infcode"] == -1 and "no unsettled fee lines" in again["err_msg"]
    retry = api.ok("2207", {"data": {**settle_input, "invono": "INV1"}}, msgid="visit-settle")
    assert retry == done
    visit = api.client.get(f"/visits/{mdtrt_id}", headers=api.key("hospital")).json()
    assert {line["state"] for line in visit["feedetail"]} == {"settled"}
    assert visit["diagnoses"] == ["I10", "E11.9"]
    api.ok("2208", {"data": {"psn_no": "P2", "setl_id": info["setl_id"], "mdtrt_id": mdtrt_id}})
    assert api.ok("2206", {"data": settle_input})["setlinfo"]["medfee_sumamt"] == d(total)
    cancelled = api.ok("2205", {"data": {"mdtrt_id": mdtrt_id, "psn_no": "P2", "chrg_bchno": "B1"}})
    assert cancelled["result"]["cancelled"] == 7
    api.ok("2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": "P2", "ipt_otp_no": "OP20230301001"}})
    gone = api.call("2204", {"feedetail": lines(mdtrt_id)[:1]}).json()
    assert gone["infcode"] == -1 and "cancelled" in gone["err_msg"]


def test_inpatient_stay_settles_from_admission_to_discharge(api):
    adm = api.ok(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": "P2",
                "insutype": "310",
                "begntime": "2023-04-01 08:00:00",
                "mdtrt_cert_type": "02",
                "med_type": "21",
                "ipt_no": "ZY001",
                "atddr_no": "DR1",
                "chfpdr_name": "李医生",
                "adm_diag_dscr": "脑梗死",
                "adm_dept_codg": "D02",
                "adm_dept_name": "神经内科",
                "adm_bed": "12",
                "dscg_maindiag_code": "I63.9",
                "dscg_maindiag_name": "脑梗死",
            },
            "diseinfo": [],
        },
        inf_time="2023-04-01 08:00:00",
    )
    mdtrt_id = adm["result"]["mdtrt_id"]
    m = {"mdtrt_id": mdtrt_id, "med_type": "21"}
    stay = [
        fee("B1", "S002", "80.00", "5", "400.00", **m),  # bed: limit 60 a day
        fee("D1", "XB01ACA056", "30", "10", "300.00", **m),  # indicated for I63
        fee("D2", "XC08CAA001", "12.50", "4", "50.00", **m),
    ]
    for line in stay:
        line["fee_ocur_time"] = "2023-04-03 10:00:00"
    rows = api.ok("2301", {"feedetail": stay}, inf_time="2023-04-03 10:00:00")["result"]
    assert [r["overlmt_amt"] for r in rows] == [Decimal("100.00"), Decimal("0.00"), Decimal("0.00")]
    assert rows[1]["preselfpay_amt"] == Decimal("30.00")  # indicated: 乙类 10%, not refused
    wrong_kind = api.call("2204", {"feedetail": stay[:1]}).json()
    assert wrong_kind["infcode"] == -1 and "inpatient stay" in wrong_kind["err_msg"]

    ahead = {"mdtrt_id": mdtrt_id, "psn_no": "P2", "endtime": "2099-04-06 09:00:00"}
    refused = api.call("2402", {"dscginfo": ahead}).json()  # a discharge still to come (QA)
    assert refused["err_msg"].startswith("dscginfo.endtime: 2099-04-06 is in the future")
    api.ok(
        "2402",
        {"dscginfo": {"mdtrt_id": mdtrt_id, "psn_no": "P2", "endtime": "2023-04-06 09:00:00"}},
    )
    data = {"psn_no": "P2", "mdtrt_id": mdtrt_id, "medfee_sumamt": "750.00", "mid_setl_flag": "0"}
    pre = api.ok("2303", {"data": data}, inf_time="2023-04-06 10:00:00")
    done = api.ok("2304", {"data": data}, inf_time="2023-04-06 10:00:00", msgid="STAY-1")
    twin = api.call("2304", {"data": data}, who="bureau", msgid="STAY-1", inf_time=DAY).json()
    assert "for another caller" in twin["err_msg"]  # not a second admission (QA)
    info = done["setlinfo"]
    assert info["setl_time"] == "2023-04-06 10:00:00"  # discharge day, at inf_time's time
    expected = settle_locally(
        {"id": "P2", "scheme": "employee", "employment": "retired"},
        {
            "id": mdtrt_id,
            "date": "2023-04-01",
            "med_type": "21",
            "hospital_level": 3,
            "admit_date": "2023-04-01",
            "discharge_date": "2023-04-06",
            "diagnoses": ["I63.9"],
            "items": [
                {"code": "S002", "price": "80.00", "quantity": 5},
                {"code": "XB01ACA056", "price": "30", "quantity": 10},
                {"code": "XC08CAA001", "price": "12.50", "quantity": 4},
            ],
        },
    )
    assert {k: info[k] for k in expected} == expected
    assert {k: pre["setlinfo"][k] for k in expected} == expected
    reversal = api.ok(
        "2305",
        {"data": {"psn_no": "P2", "setl_id": info["setl_id"]}},
        inf_time="2023-04-06 16:00:00",
    )
    assert reversal["setlinfo"]["hifp_pay"] == -info["hifp_pay"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            {"det_item_fee_sumamt": "10.00"},
            "feedetail[0].det_item_fee_sumamt: 10.00 is not pric × cnt (12.50)",
        ),
        ({"cnt": "-1"}, "feedetail[0].cnt: must be > 0"),
        ({"chrgitm_lv": "09"}, "feedetail[0].chrgitm_lv: 09 is not a 收费项目等级"),
        ({"pric": "abc"}, "feedetail[0].pric: not a number"),
        (  # not a 500 at settlement: refused on upload
            {"cnt": "1e20", "det_item_fee_sumamt": "1.25e21"},
            "feedetail[0].det_item_fee_sumamt: must be at most 1,000,000,000.00",
        ),
        (  # a fee still to come is refused where it is sent, not at settlement (QA)
            {"fee_ocur_time": "2099-01-01 09:00:00"},
            "feedetail[0].fee_ocur_time: 2099-01-01 is in the future",
        ),
        (  # read as Unix seconds it was 1970-08-23 (QA)
            {"fee_ocur_time": "20230301"},
            "feedetail[0].fee_ocur_time: must be a date-time string yyyy-MM-dd HH:mm:ss",
        ),
        (
            {"fee_ocur_time": "20230301093000"},
            "feedetail[0].fee_ocur_time: must be a date-time string yyyy-MM-dd HH:mm:ss",
        ),
    ],
)
def test_fee_upload_errors_name_the_line(api, line, message):
    mdtrt_id = api.ok("2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP1"})["data"][
        "mdtrt_id"
    ]
    upload = {"feedetail": [{**fee("1", "X", "12.50", "1", "12.50", mdtrt_id=mdtrt_id), **line}]}
    answer = api.call("2204", upload).json()
    assert answer["infcode"] == -1 and answer["err_msg"].startswith(message)


def test_a_price_limited_line_priced_finer_than_the_fen_settles(api):
    # QA: 2204 answered M002 (limit 1500.00) at 1500.333333 × 2, then 2206 / 2207 refused the
    # visit: "price_limit: 3000.00 is above the catalogue's 1500.00". The line settles as its
    # total 3000.67 with the limit scaled to 2 × 1500.00, as `yibao settle` settles it.
    mdtrt_id = api.ok("2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP1"})["data"][
        "mdtrt_id"
    ]
    line = fee("1", "M002", "1500.333333", "2", "3000.67", mdtrt_id=mdtrt_id)
    row = api.ok("2204", {"feedetail": [line]})["result"][0]
    assert row["overlmt_amt"] == Decimal("0.67")
    data = {"psn_no": "P2", "mdtrt_id": mdtrt_id}
    assert api.ok("2206", {"data": data})["setlinfo"]["overlmt_selfpay"] == Decimal("0.67")
    info = api.ok("2207", {"data": data})["setlinfo"]
    expected = settle_locally(
        {"id": "P2", "scheme": "employee", "employment": "retired"},
        {
            "id": mdtrt_id,
            "date": "2023-03-01",
            "med_type": "11",
            "hospital_level": 3,
            "items": [{"code": "M002", "price": "3000.67", "price_limit": "3000.00"}],
        },
    )
    assert {k: info[k] for k in expected} == expected


def test_fee_lines_are_uploaded_once_and_visits_stay_with_their_institution(api):
    mdtrt_id = api.ok("2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP1"})["data"][
        "mdtrt_id"
    ]
    upload = {"feedetail": [fee("1", "XC08CAA001", "1.00", "1", "1.00", mdtrt_id=mdtrt_id)]}
    first = api.call("2204", upload, msgid="up-1")
    assert api.call("2204", upload, msgid="up-1").text == first.text  # a retry: same answer
    twice = api.call("2204", upload).json()
    assert twice["infcode"] == -1 and "already uploaded" in twice["err_msg"]
    elsewhere = api.call("2204", upload, who="other", fixmedins_code="H002").json()
    assert elsewhere["infcode"] == -1 and "not found" in elsewhere["err_msg"]
    assert api.client.get(f"/visits/{mdtrt_id}", headers=api.key("other")).status_code == 404
    inpatient_code = api.call(
        "2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP2", "med_type": "21"}
    ).json()
    assert "inpatient type" in inpatient_code["err_msg"]


def _registered_with_lines(api) -> tuple[str, dict[str, Any]]:
    mdtrt_id = api.ok("2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP1"})["data"][
        "mdtrt_id"
    ]
    api.ok("2204", {"feedetail": lines(mdtrt_id)[:2]})
    return mdtrt_id, {"psn_no": "P2", "mdtrt_id": mdtrt_id}


def test_concurrent_settlements_of_one_visit_settle_its_lines_once(api):
    from concurrent.futures import ThreadPoolExecutor

    from yibao.service import visits
    from yibao.service.errors import ServiceError

    _, data = _registered_with_lines(api)
    world = api.world

    def settle(msgid: str) -> str:
        try:
            visits.settle_visit(
                world.db,
                world.hospital,
                data,
                "H001",
                msgid,
                "2207",
                datetime.fromisoformat("2023-03-01 10:00:00"),
            )
            return "settled"
        except ServiceError as exc:
            return exc.message

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(settle, [f"race-{i}" for i in range(4)]))
    assert outcomes.count("settled") == 1, outcomes
    totals = api.ok("3201", {"stmt_begndate": "2023-03-01", "stmt_enddate": "2023-03-01"})
    assert totals["setl_cnt"] == 1 and totals["medfee_sumamt"] == Decimal("225.00")


def test_the_same_msgid_from_another_caller_settles_a_visit_once(api):
    # msgids are each caller's own; the bureau resending the hospital's 2207 (same msgid, same
    # input) settled the visit's lines a second time, its deductible met: 1,189.50 for 269.75
    _, data = _registered_with_lines(api)
    first = api.call("2207", {"data": data}, msgid="TWIN-1")
    twin = api.call("2207", {"data": data}, who="bureau", msgid="TWIN-1").json()
    assert twin["infcode"] == -1
    assert (
        twin["err_msg"].startswith("msgid TWIN-1 settled visit")
        and "another caller" in twin["err_msg"]
    )
    totals = api.ok("3201", {"stmt_begndate": "2023-03-01", "stmt_enddate": "2023-03-01"})
    assert totals["setl_cnt"] == 1
    assert api.call("2207", {"data": data}, msgid="TWIN-1").text == first.text  # a retry replays


@pytest.mark.parametrize(("who", "code", "level"), [("other", "H002", 1), ("bureau", "H001", 3)])
def test_a_claim_echoing_the_visit_under_the_same_msgid_leaves_its_lines_alone(
    api, who, code, level
):
    # QA: another caller's claim-path 2207 under the hospital's msgid text, echoing the
    # visit's mdtrt_id, was taken for the settlement of the visit's lines: reversed, it freed
    # them for a second settlement (450.00 counted for 225.00); standing, it kept them settled
    # after the hospital reversed its own
    _, data = _registered_with_lines(api)
    first = api.ok("2207", {"data": data}, msgid="M-1")["setlinfo"]["setl_id"]
    claim = {"psn_no": "P2", "claim": outpatient("Q9", "2023-03-01", "10.00", level)}
    claim["mdtrt_id"] = data["mdtrt_id"]
    theirs = api.ok("2207", claim, who=who, msgid="M-1", fixmedins_code=code)["setlinfo"]
    undo = {"psn_no": "P2", "setl_id": theirs["setl_id"], "mdtrt_id": data["mdtrt_id"]}
    api.ok("2208", undo, who=who, msgid="R-1", fixmedins_code=code)
    again = api.call("2207", {"data": data}, msgid="M-2").json()
    assert "has no unsettled fee lines" in again["err_msg"]  # settled once, by M-1
    api.ok("2208", {"psn_no": "P2", "setl_id": first, "mdtrt_id": data["mdtrt_id"]})
    resettled = api.ok("2207", {"data": data}, msgid="M-3")["setlinfo"]
    assert resettled["medfee_sumamt"] == Decimal("225.00")


def test_a_msgid_another_caller_used_on_the_visit_stays_theirs_after_a_reversal(api):
    # QA: the bureau's reversed M-1 on the visit made the hospital's later M-1 reservation read
    # as free, so a second message settled the same new line while M-1 was in flight (and a
    # stay twice). On one visit a msgid settles for one caller, reversed or not.
    _, data = _registered_with_lines(api)
    theirs = api.ok("2207", {"data": data}, who="bureau", msgid="M-1")["setlinfo"]["setl_id"]
    api.ok("2208", {"psn_no": "P2", "setl_id": theirs}, who="bureau", msgid="R-1")
    api.ok("2207", {"data": data}, msgid="M-2")  # the hospital settles the lines again
    api.ok("2204", {"feedetail": lines(data["mdtrt_id"])[2:3]})
    mine = api.call("2207", {"data": data}, msgid="M-1").json()
    assert mine["err_msg"].startswith("msgid M-1 settled visit") and theirs in mine["err_msg"]
    assert api.ok("2207", {"data": data}, msgid="M-3")["setlinfo"]["medfee_sumamt"] == Decimal(
        "1800.00"
    )


def test_lines_of_a_failed_settlement_are_free_again(api, monkeypatch):
    from yibao.service import settlement, visits
    from yibao.service.errors import ServiceError

    mdtrt_id, data = _registered_with_lines(api)

    def refuse(*_args: Any, **_kw: Any) -> dict:
        raise ServiceError("claim: refused for the test")

    monkeypatch.setattr(settlement, "settle", refuse)
    assert api.call("2207", {"data": data}).json()["err_msg"] == "claim: refused for the test"
    monkeypatch.undo()
    assert api.ok("2207", {"data": data})["setlinfo"]["medfee_sumamt"] == Decimal("225.00")

    # A crash leaves the lines reserved: other messages wait, the same message resumes.
    mdtrt_id, data = _registered_with_lines(api)

    def crash(*_args: Any, **_kw: Any) -> dict:
        raise RuntimeError("power cut")

    monkeypatch.setattr(settlement, "settle", crash)
    assert api.call("2207", {"data": data}, msgid="crashed").status_code == 500
    monkeypatch.undo()
    waiting = api.call("2207", {"data": data}).json()
    assert waiting["infcode"] == -1 and "being settled by message crashed" in waiting["err_msg"]
    later = visits._now() + visits.RESERVATION_TIMEOUT
    monkeypatch.setattr(visits, "_now", lambda: later)
    assert api.call("2206", {"data": data}).json()["infcode"] == 0  # abandoned: free again
    monkeypatch.undo()
    assert api.ok("2207", {"data": data}, msgid="crashed")["setlinfo"]["mdtrt_id"] == mdtrt_id


def test_a_msgid_used_by_another_trade_is_refused_not_replayed(api):
    # the msgid of a registration (2201) sent again with a settlement by mdtrt_id (2207) or
    # a fee upload (2204) must not answer with the registration's output as a success
    mdtrt_id, by_visit = _registered_with_lines(api)
    reg = api.ok("2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP2"}, msgid="reg-x")
    for infno, data in (("2207", by_visit), ("2204", {"feedetail": lines(mdtrt_id)[2:]})):
        response = api.call(infno, data, msgid="reg-x")
        body = response.json()
        assert body["infcode"] == -1, (infno, body)
        assert "already used for transaction 2201" in body["err_msg"]
    # and the settlement's own msgid is refused to a registration the same way
    settled = api.ok("2207", by_visit, msgid="setl-x")
    assert settled["setlinfo"]["setl_id"]
    again = api.call("2201", {"psn_no": "P2", "begntime": DAY, "ipt_otp_no": "OP3"}, msgid="setl-x")
    assert "already used for transaction 2207" in again.json()["err_msg"]
    assert reg["data"]["mdtrt_id"] != mdtrt_id
