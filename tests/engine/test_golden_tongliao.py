"""Tongliao (通辽, seed 000) resident settlements worked out by hand from the seed's rules
(policy-facts.md TL-*) and the shipped assumptions (G-TL-*). Amounts in yuan."""

from tests.helpers import claim, fen, item, person, settle

R = "tongliao"


def test_tl26_worked_example_level3_inpatient():
    # TL-26: total 3722.93, insurance 2046.77 at 通辽市医院 (level 3, in-city).
    # G-TL-2 fit: excluded (丙类) 198.97 → in-scope 3523.96; deductible L3 600 (G-TL-1);
    # (3523.96 − 600) × 70% = 2046.772 → 2046.77, exactly the seed's figure.
    s, _ = settle(
        R, person(), [claim("C1", "2017-03-01", items=[item("3523.96"), item("198.97", "C")])]
    )
    info = s[0].setlinfo
    assert info.medfee_sumamt == fen("3722.93")
    assert info.act_pay_dedc == fen("600.00")
    assert info.hifp_pay == fen("2046.77")
    assert info.psn_part_amt == fen("1676.16")  # TL-26 derived personal share


def test_tl05_transfer_out_with_referral():
    # TL-05: 转外 deductible 1000; G-TL-2: referred 60%. (11000 − 1000) × 60% = 6000.
    s, _ = settle(
        R,
        person(),
        [claim("C1", "2017-05-01", out_of_region=True, referral=True, items=[item("11000")])],
    )
    assert s[0].setlinfo.act_pay_dedc == fen("1000")
    assert s[0].setlinfo.hifp_pay == fen("6000")


def test_tl05_transfer_out_without_referral_pays_40_percent():
    # G-TL-3: without a referral the same 1000 deductible, ratio −20 points = 40%.
    # (11000 − 1000) × 40% = 4000.
    s, _ = settle(
        R, person(), [claim("C1", "2017-05-01", out_of_region=True, items=[item("11000")])]
    )
    assert s[0].setlinfo.hifp_pay == fen("4000")
    assert str(s[0].setlinfo.pool_prop_selfpay) == "0.4000"


def test_tl12_tl13_registered_poor_level2_and_assistance():
    # Level 2: deductible 400 × 50% (TL-12) = 200; ratio 80% + 5 (TL-13) = 85%.
    # hifp = (10000 − 200) × 85% = 8330. Burden 1670 < 大病 threshold 6000 → 0.
    # Medical assistance (G-TL-11) 70% × 1670 = 1169. Funds 9499 ≥ 90% × 10000 → no top-up.
    s, _ = settle(
        R,
        person(categories=["poverty_registered"]),
        [claim("C1", "2017-04-01", level=2, items=[item("10000")])],
    )
    info = s[0].setlinfo
    assert (info.act_pay_dedc, info.hifp_pay) == (fen("200"), fen("8330"))
    assert (info.hifmi_pay, info.maf_pay, info.oth_pay) == (0, fen("1169"), 0)


def test_tl14_second_admission_same_level_has_no_deductible():
    # TL-14: the poor's second admission at the same level in the year: no deductible.
    # 1st L2: deductible 200. 2nd L2: 0 → hifp = 1000 × 85% = 850.
    # 3rd at L3 (a new level): halved deductible 300 → (1000 − 300) × 75% = 525.
    poor = person(categories=["poverty_registered"])
    s, _ = settle(
        R,
        poor,
        [
            claim("C1", "2017-02-01", level=2, items=[item("1000")]),
            claim("C2", "2017-06-01", level=2, items=[item("1000")]),
            claim("C3", "2017-07-01", level=3, items=[item("1000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("200"), 0, fen("300")]
    assert s[1].setlinfo.hifp_pay == fen("850")
    assert s[2].setlinfo.hifp_pay == fen("525")


def test_tl14_waiver_does_not_cross_the_new_year():
    # Accumulators reset on 1 January (G-ALL-1): the Jan 2018 L2 stay is a first admission.
    poor = person(categories=["poverty_registered"])
    s, ytd = settle(
        R,
        poor,
        [
            claim("C1", "2017-12-01", level=2, items=[item("1000")]),
            claim("C2", "2018-01-05", level=2, items=[item("1000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("200"), fen("200")]
    assert ytd.year == 2018 and ytd.count("admissions") == 1


def test_tl19_disabled_child_no_deductible_at_county_level_only():
    # TL-19: 病残儿童 at banner/county (L2) or township (L1): no deductible; not at L3.
    # L2: 2000 × 80% = 1600. L3: (2000 − 600) × 70% = 980.
    child = person(categories=["disabled_child"], birth_date="2012-01-01")
    s, _ = settle(
        R,
        child,
        [
            claim("C1", "2017-03-01", level=2, items=[item("2000")]),
            claim("C2", "2017-04-01", level=3, items=[item("2000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [0, fen("600")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("1600"), fen("980")]


def test_tl04_annual_cap_then_critical_illness_segments():
    # (500000 − 600) × 70% = 349580 > cap 300000 (TL-04) → hifp 300000.
    # 大病 (G-TL-5) on burden 200000: (50000−12000)×50% + 50000×60% + 100000×70%
    # = 19000 + 30000 + 70000 = 119000.
    s, ytd = settle(R, person(), [claim("C1", "2017-08-01", items=[item("500000")])])
    info = s[0].setlinfo
    assert info.hifp_pay == fen("300000")
    assert info.hifmi_pay == fen("119000")
    assert ytd.amount("pool") == fen("300000")
    # A later claim in the year gets nothing more from the pooling fund.
    s2, _ = settle(
        R,
        person(),
        [
            claim("C1", "2017-08-01", items=[item("500000")]),
            claim("C2", "2017-09-01", items=[item("5000")]),
        ],
    )
    assert s2[1].setlinfo.hifp_pay == 0


def test_tl15_top_up_lifts_poor_to_90_percent():
    # Poor at L3: deductible 300, ratio 75%. In-scope 2000: hifp = 1700 × 75% = 1275.
    # Burden 725 (< 大病 threshold); assistance 70% × 725 = 507.50 → funds 1782.50.
    # TL-15 floor 90% × 2000 = 1800 → 兜底 top-up 17.50 in oth_pay (640100).
    s, _ = settle(
        R,
        person(categories=["poverty_registered"]),
        [claim("C1", "2017-03-01", items=[item("2000")])],
    )
    info = s[0].setlinfo
    assert (info.hifp_pay, info.maf_pay, info.oth_pay) == (fen("1275"), fen("507.50"), fen("17.50"))
    assert info.fund_pay_sumamt == fen("1800")
    assert any(
        d.fund_pay_type == "640100" and d.fund_payamt == fen("17.50") for d in s[0].setldetail
    )


def test_tl07_outpatient_pooling_level1_cap_300():
    # G-TL-8: level 1 only, no deductible, 50%, annual cap 300.
    # 400 → 200; next 400 → 200 wanted, 100 left → 100; a level-2 visit → no pooling.
    s, _ = settle(
        R,
        person(),
        [
            claim("C1", "2017-03-01", "11", 1, items=[item("400")]),
            claim("C2", "2017-03-09", "11", 1, items=[item("400")]),
            claim("C3", "2017-03-10", "11", 2, items=[item("400")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("200"), fen("100"), 0]


def test_tl17_chronic_outpatient_poor_plus_10_points_at_county():
    # Diabetes (placeholder list G-TL-9) at L2: annual deductible 300, 60% + 10 (TL-17) = 70%.
    # 1300: (1300 − 300) × 70% = 700; second visit 1000: 1000 × 70% = 700.
    # At L3 the tilt does not apply: 1000 × 50% = 500.
    poor = person(categories=["poverty_registered"])
    s, _ = settle(
        R,
        poor,
        [
            claim("C1", "2017-03-01", "14", 2, diagnoses=["E11.9"], items=[item("1300")]),
            claim("C2", "2017-04-01", "14", 2, diagnoses=["E11.9"], items=[item("1000")]),
            claim("C3", "2017-05-01", "14", 3, diagnoses=["E11.9"], items=[item("1000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("700"), fen("700"), fen("500")]


def test_a_chronic_visit_is_for_its_primary_diagnosis():
    # 低保 (not a TL-17 tilt group), L2: 60% (G-TL-9). Hypertension's 5000 cap and the 300
    # deductible are used up; a visit for diabetes (primary) that also lists hypertension is a
    # diabetes visit: 7000 × 60% = 4200 within diabetes' own cap (QA: as hypertension, 0.00).
    carried = {"year": 2021, "amounts": {"cap:chronic_per_disease:hypertension": "5000.00",
                                         "deductible:chronic_outpatient": "300.00"}}  # fmt: skip
    s, ytd = settle(
        R,
        person(categories=["dibao"], ytd=carried),
        [claim("M5", "2021-06-10", "14", 2, diagnoses=["E11.9", "I10"], items=[item("7000")])],
    )
    assert s[0].setlinfo.hifp_pay == fen("4200")
    assert ytd.amount("cap:chronic_per_disease:diabetes") == fen("4200")


def test_b_class_first_selfpay_and_price_limit():
    # G-ALL-5: 乙类 first self-pay 10%: 1000 → preselfpay 100, in-scope 900.
    # Price limit 300 on a 500 item → overlmt 200, in-scope 300. L1: (1200 − 200) × 90% = 900.
    s, _ = settle(
        R,
        person(),
        [
            claim(
                "C1",
                "2017-03-01",
                level=1,
                items=[item("1000", "B"), item("500", "A", price_limit="300")],
            )
        ],
    )
    info = s[0].setlinfo
    assert (info.preselfpay_amt, info.overlmt_selfpay, info.inscp_scp_amt) == (
        fen("100"),
        fen("200"),
        fen("1200"),
    )
    assert info.hifp_pay == fen("900")


def test_trace_cites_the_seed_sentence_creating_each_benefit():
    # The outpatient pooling benefit exists by TL-07; its numbers are assumptions (G-TL-8).
    s, _ = settle(R, person(), [claim("C1", "2017-03-01", "11", 1, items=[item("100")])])
    sources = {t.rule: t.source for t in s[0].trace}
    assert "參保人員統一享受到了門診統籌待遇" in sources["tongliao.general_outpatient.benefit"]
    assert sources["tongliao.general_outpatient.ratio.base"] == "assumed (G-TL-8)"
