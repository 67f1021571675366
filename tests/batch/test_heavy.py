"""Hand-made heavy cases: every cap reached, waivers and repeat admissions, year boundaries
and policy versions — equal to the per-claim engine, and really reaching what they claim."""

from __future__ import annotations

from tests.batch.equality import assert_same, frames, totals
from tests.helpers import claim, fen, item, person


def stay(cid: str, admit: str, discharge: str, price: str, level: int = 3, **extra) -> dict:
    """An inpatient stay of one in-scope line (甲类) and one 乙类 line."""
    return claim(
        cid,
        admit,
        "21",
        level,
        admit_date=admit,
        discharge_date=discharge,
        items=[item(price), item("1000", "B", code="S006")],
        **extra,
    )


def visit(cid: str, date: str, med_type: str, price: str, level: int = 3, **extra) -> dict:
    return claim(cid, date, med_type, level, items=[item(price)], **extra)


def test_liaoyang_pool_cap_overflow_waivers_and_combined_cap():
    """Annual pool cap 30,000 reached by the third chemotherapy stay (deductible waived from
    the third); the rest overflows to 超限额补充 until the combined 150,000; a psychiatric
    stay has no deductible; a stay discharged in January belongs to the new year."""
    chemo = {"diagnoses": ["Z51.102", "C50.9"]}  # a national code under Z51.1
    who = person(
        "employee",
        employment="retired",
        categories=["civil_servant"],
        account_balance="3000",
        birth_date="1950-05-01",
    )
    claims = [
        stay("C1", "2023-01-05", "2023-01-20", "20000", **chemo),
        stay("C2", "2023-02-05", "2023-02-20", "30000", **chemo),
        stay("C3", "2023-03-05", "2023-03-20", "50000", **chemo),
        stay("C4", "2023-04-05", "2023-05-20", "90000", diagnoses=["F20.0"]),
        stay("C5", "2023-06-01", "2023-06-30", "60000", level=2, diagnoses=["K35.8"]),
        visit("C6", "2023-07-01", "14", "3000", disease="hypertension", diagnoses=["I10"]),
        stay("C7", "2023-12-20", "2024-01-06", "40000", **chemo),
        visit("C8", "2024-02-01", "14", "2000", diagnoses=["I10"]),
    ]
    persons, lines = frames([{"region": "liaoyang", "person": who, "claims": claims}])
    result = assert_same(persons, lines)
    year = totals(result, "P", 2023)
    assert year["hifp_pay_fen"] == fen("30000")
    assert year["hifob_pay_fen"] == fen("120000")
    assert year["cvlserv_pay_fen"] > 0 and year["acct_pay_fen"] == fen("3000")
    rows = result.rows.filter(result.rows["claim_id"] == "C3").row(0, named=True)
    assert rows["act_pay_dedc_fen"] == 0  # third chemotherapy admission: no deductible
    assert totals(result, "P", 2024)["hifp_pay_fen"] > 0  # a new year, a new cap


def test_tongliao_poor_and_tekun_reach_assistance_limits_and_outpatient_caps():
    poor = person(categories=["poverty_registered", "dibao"], birth_date="1960-01-01", sex="F")
    poor_claims = [
        stay("C1", "2021-01-05", "2021-01-25", "150000", level=2),
        stay("C2", "2021-03-05", "2021-03-25", "150000", level=2),  # repeat at level 2: waived
        stay("C3", "2021-05-05", "2021-05-25", "200000", level=3, out_of_region=True),
        *[
            visit(f"D{i}", f"2021-01-{10 + i}", "14", "2500", level=1, diagnoses=["I10"])
            for i in range(4)
        ],
        *[visit(f"G{i}", f"2021-01-{15 + i}", "11", "400", level=1) for i in range(3)],
    ]
    tekun = person(categories=["tekun"], birth_date="1940-01-01")
    tekun_claims = [
        stay("C1", "2021-01-05", "2021-02-01", "120000"),
        stay("C2", "2021-04-05", "2021-05-01", "120000"),
    ]
    disabled = person(categories=["disabled_child"], birth_date="2015-01-01")
    disabled_claims = [stay("C1", "2021-01-05", "2021-01-09", "8000", level=1)]
    rich = person(birth_date="1970-01-01")
    rich_claims = [stay("C1", "2021-02-01", "2021-03-01", "2000000")]
    files = [
        {"region": "tongliao", "person": {**p, "id": pid}, "claims": c}
        for pid, p, c in [
            ("POOR", poor, poor_claims),
            ("TEKUN", tekun, tekun_claims),
            ("DISABLED", disabled, disabled_claims),
            ("RICH", rich, rich_claims),
        ]
    ]
    result = assert_same(*frames(files))
    assert totals(result, "POOR", 2021)["maf_pay_fen"] == fen("30000")
    assert totals(result, "TEKUN", 2021)["maf_pay_fen"] == fen("30000")
    assert totals(result, "POOR", 2021)["oth_pay_fen"] > 0  # 兜底 to 90%
    assert totals(result, "RICH", 2021)["hifmi_pay_fen"] == fen("300000")  # 大病 cap
    assert totals(result, "RICH", 2021)["hifp_pay_fen"] == fen("300000")  # pool cap
    by_claim = {
        r["claim_id"]: r for r in result.rows.filter(person_id="POOR").iter_rows(named=True)
    }
    assert by_claim["C2"]["act_pay_dedc_fen"] == 0
    assert sum(by_claim[f"G{i}"]["hifp_pay_fen"] for i in range(3)) == fen("300")
    assert sum(by_claim[f"D{i}"]["hifp_pay_fen"] for i in range(4)) == fen("5000")
    assert totals(result, "DISABLED", 2021)["act_pay_dedc_fen"] == 0


def test_qingdao_two_disease_cap_rises_and_every_layer_caps():
    """两病: hypertension alone caps at 300; once diabetes is seen too, at 600. Employees'
    大额 reaches the combined 500,000; residents' 大病 its 400,000; 琴岛e保 pays above 20,000."""
    resident = person(
        categories=["low_income_marginal"], products=["qindao_ebao"], birth_date="1955-01-01"
    )
    resident_claims = [
        *[visit(f"H{i}", f"2022-01-{10 + i}", "11", "400", diagnoses=["I10"]) for i in range(3)],
        *[visit(f"E{i}", f"2022-02-{10 + i}", "11", "400", diagnoses=["E11.9"]) for i in range(3)],
        stay("C1", "2022-03-01", "2022-04-01", "1500000"),
        stay("C2", "2022-05-01", "2022-06-01", "300000", out_of_region=True),
        claim("C3", "2022-07-01", "21", 2, admit_date="2022-07-01", discharge_date="2022-07-09",
              items=[item("50000", "C")]),
    ]  # fmt: skip
    employee = person(
        "employee",
        employment="retired",
        products=["qindao_ebao"],
        account_balance="100000",
        birth_date="1950-01-01",
    )
    employee_claims = [
        stay("C1", "2022-01-05", "2022-02-05", "300000"),
        stay("C2", "2022-03-05", "2022-04-05", "400000"),
        stay("C3", "2022-12-25", "2023-01-03", "80000"),
        visit("C4", "2023-02-01", "14", "30000", diagnoses=["N18.5"]),
    ]
    community = person(flags=["community_contract"], birth_date="1980-01-01")
    community_claims = [visit(f"V{i}", f"2022-03-{10 + i}", "11", "500", level=1) for i in range(4)]
    files = [
        {"region": "qingdao", "person": {**p, "id": pid}, "claims": c}
        for pid, p, c in [
            ("RES", resident, resident_claims),
            ("EMP", employee, employee_claims),
            ("COM", community, community_claims),
        ]
    ]
    result = assert_same(*frames(files))
    rows = {r["claim_id"]: r for r in result.rows.filter(person_id="RES").iter_rows(named=True)}
    assert sum(rows[f"H{i}"]["hifp_pay_fen"] for i in range(3)) == fen("300")
    both = [f"H{i}" for i in range(3)] + [f"E{i}" for i in range(3)]
    assert sum(rows[c]["hifp_pay_fen"] for c in both) == fen("600")
    year = totals(result, "RES", 2022)
    assert year["hifmi_pay_fen"] == fen("400000") and year["oth_pay_fen"] > 0
    employee_year = totals(result, "EMP", 2022)
    assert employee_year["hifp_pay_fen"] + employee_year["hifob_pay_fen"] == fen("500000")
    assert employee_year["oth_pay_fen"] > 0 and employee_year["acct_pay_fen"] > 0
    assert totals(result, "COM", 2022)["hifp_pay_fen"] == fen("600")


def test_erenhot_annual_deductibles_outpatient_cap_and_versions():
    """The general-outpatient 1,000 deductible spreads over small visits, its cap is 4,000
    in service; 2022 Q4 and 2023 are two policy versions and two years."""
    who = person(
        "employee",
        employment="in_service",
        categories=["civil_servant"],
        account_balance="20000",
        birth_date="1975-01-01",
    )
    claims = [
        *[visit(f"G{i}", f"2022-10-{10 + i}", "11", "300") for i in range(5)],
        *[visit(f"O{i}", f"2022-11-{10 + i}", "41", "3000") for i in range(4)],
        visit("K1", "2022-11-20", "14", "800", diagnoses=["E11.9"]),
        visit("K2", "2022-11-21", "14", "900", diagnoses=["E11.9"]),
        visit("M1", "2022-12-01", "14", "20000", disease="day_surgery"),
        stay("C1", "2022-12-10", "2023-01-10", "400000"),
        *[visit(f"N{i}", f"2023-03-{10 + i}", "11", "2000", level=2) for i in range(4)],
    ]
    persons, lines = frames([{"region": "erenhot", "person": who, "claims": claims}])
    result = assert_same(persons, lines)
    rows = {r["claim_id"]: r for r in result.rows.iter_rows(named=True)}
    assert sum(rows[f"G{i}"]["act_pay_dedc_fen"] for i in range(5)) == fen("1000")
    outpatient = [f"G{i}" for i in range(5)] + [f"O{i}" for i in range(4)]
    assert sum(rows[c]["hifp_pay_fen"] for c in outpatient) == fen("4000")
    assert rows["G0"]["policy_version"] == "erenhot/2022-10-01"
    assert rows["C1"]["policy_version"] == "erenhot/2023-01-01"
    year = totals(result, "P", 2023)
    assert year["hifmi_pay_fen"] > 0 and year["hifob_pay_fen"] > 0 and year["cvlserv_pay_fen"] > 0


def test_fuxin_versions_top_up_in_region_and_child_disease_assistance():
    child = person(categories=["dibao"], birth_date="2012-06-01", sex="F")
    child_claims = [
        stay("C1", "2019-03-01", "2019-04-01", "80000", diagnoses=["C91.0"]),
        stay("C2", "2019-12-20", "2020-01-10", "60000", diagnoses=["C91.0"]),
        stay("C3", "2020-05-01", "2020-05-20", "30000", diagnoses=["J18.9"], out_of_region=True),
    ]
    adult = person(categories=["poverty_registered"], birth_date="1950-06-01", sex="F")
    adult_claims = [
        stay("C1", "2019-03-01", "2019-04-01", "300000", diagnoses=["C50.9"]),
        stay("C2", "2019-06-01", "2019-06-20", "20000", diagnoses=["K35.8"]),
    ]
    files = [
        {"region": "fuxin", "person": {**p, "id": pid}, "claims": c}
        for pid, p, c in [("CHILD", child, child_claims), ("ADULT", adult, adult_claims)]
    ]
    result = assert_same(*frames(files))
    versions = set(result.rows.get_column("policy_version"))
    assert versions == {"fuxin/2019-01-01", "fuxin/2020-01-01"}
    rows = {r["claim_id"]: r for r in result.rows.filter(person_id="CHILD").iter_rows(named=True)}
    assert rows["C3"]["oth_pay_fen"] == 0  # out of region: no 兜底
    assert totals(result, "ADULT", 2019)["maf_pay_fen"] > 0
