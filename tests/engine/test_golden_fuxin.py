"""Fuxin (阜新, seed 002) resident settlements for the rural poor, worked out by hand from the
seed's rules (policy-facts.md FX-*) and the shipped assumptions (G-FX-*, G-ALL-*). Amounts in yuan.

Layer order (FX-29): basic pooling (hifp) → 大病保险 (hifmi) → 医疗救助 (maf) → the poverty
office's supplementary insurance, a top-up to 90% of the in-scope cost (oth, 640100).
"""

from tests.helpers import claim, fen, item, person, settle

R = "fuxin"
POOR = ["poverty_registered"]


def test_g_fx3_inpatient_by_level():
    # G-FX-3: deductible L1 200 / L2 400 / L3 800 per admission; ratio 85% / 75% / 60%.
    # L1 5000: 4800 × 85% = 4080. L2: 4600 × 75% = 3450. L3: 4200 × 60% = 2520.
    # 大病 burden 920 + 1550 + 2480 = 4950 < 10000 (G-FX-1) → 0; ordinary resident: no 救助.
    s, _ = settle(
        R,
        person(),
        [
            claim("C1", "2019-03-01", level=1, items=[item("5000")]),
            claim("C2", "2019-04-01", level=2, items=[item("5000")]),
            claim("C3", "2019-05-01", level=3, items=[item("5000")]),
        ],
    )
    assert [x.setlinfo.act_pay_dedc for x in s] == [fen("200"), fen("400"), fen("800")]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("4080"), fen("3450"), fen("2520")]
    assert [(x.setlinfo.hifmi_pay, x.setlinfo.maf_pay, x.setlinfo.oth_pay) for x in s] == [
        (0, 0, 0)
    ] * 3


def test_g_fx3_basic_cap_150000_then_ordinary_critical_illness():
    # L3 300000: 299200 × 60% = 179520 > cap 150000 (G-FX-3) → 150000; burden 150000.
    # 大病 ordinary (G-FX-1): (50000 − 10000) × 50% + 50000 × 55% + 50000 × 60%
    # = 20000 + 27500 + 30000 = 77500 (below its cap 300000).
    # A later L3 10000: basic 0 (cap used); burden 10000 above 100000 → 60% = 6000.
    s, ytd = settle(
        R,
        person(),
        [
            claim("C1", "2019-03-01", items=[item("300000")]),
            claim("C2", "2019-08-01", items=[item("10000")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("150000"), 0]
    assert [x.setlinfo.hifmi_pay for x in s] == [fen("77500"), fen("6000")]
    assert ytd.amount("pool") == fen("150000")


def test_fx11_fx14_rural_poor_2019_critical_illness_vs_ordinary():
    # L3 60800: basic 60000 × 60% = 36000; burden 24800.
    # Ordinary: (24800 − 10000) × 50% = 7400.
    # Rural poor 2019: deductible 10000 × 50% = 5000 (FX-11), segment 50% + 10 points (FX-14,
    # G-FX-2): (24800 − 5000) × 60% = 11880. General 救助 (G-FX-5) 60% × (24800 − 11880)
    # = 7752. Top-up (G-FX-6): 90% × 60800 = 54720 ≤ funds 55632 → 0.
    s, _ = settle(R, person(), [claim("C1", "2019-03-01", items=[item("60800")])])
    assert (s[0].setlinfo.hifp_pay, s[0].setlinfo.hifmi_pay) == (fen("36000"), fen("7400"))
    s2, _ = settle(R, person(categories=POOR), [claim("C1", "2019-03-01", items=[item("60800")])])
    info = s2[0].setlinfo
    assert (info.hifp_pay, info.hifmi_pay, info.maf_pay, info.oth_pay) == (
        fen("36000"),
        fen("11880"),
        fen("7752"),
        0,
    )


def test_fx13_rural_poor_no_cap_vs_ordinary_cap_300000():
    # L3 800000: basic 150000 (cap); burden 650000.
    # Ordinary 大病: 20000 + 27500 + 550000 × 60% = 377500 > cap 300000 → 300000.
    # Poor 2019: (50000 − 5000) × 60% + 50000 × 65% + 550000 × 70% = 27000 + 32500 + 385000
    # = 444500, no cap (FX-13). General 救助 60% × 205500 = 123300 → limit 20000 (G-FX-5).
    # Top-up: 90% × 800000 = 720000 − (150000 + 444500 + 20000) = 105500. Person 80000.
    s, _ = settle(R, person(), [claim("C1", "2019-03-01", items=[item("800000")])])
    assert s[0].setlinfo.hifmi_pay == fen("300000")
    s2, _ = settle(R, person(categories=POOR), [claim("C1", "2019-03-01", items=[item("800000")])])
    info = s2[0].setlinfo
    assert (info.hifp_pay, info.hifmi_pay, info.maf_pay, info.oth_pay) == (
        fen("150000"),
        fen("444500"),
        fen("20000"),
        fen("105500"),
    )
    assert info.psn_part_amt == fen("80000")


def test_fx12_2020_ratio_floor_70_percent():
    # The same L3 200800 stay in 2019 and in 2020 (accumulators reset, G-ALL-1).
    # Basic 200000 × 60% = 120000 both years; burden 80800.
    # 2019 (FX-14): (50000 − 5000) × 60% + 30800 × 65% = 27000 + 20020 = 47020.
    # 2020 (FX-12, G-FX-2): 70% in every segment: (80800 − 5000) × 70% = 53060.
    # General 救助 60%: 2019 (80800 − 47020) × 60% = 20268 → limit 20000;
    #                   2020 (80800 − 53060) × 60% = 16644 (the limit is new for 2020).
    # Top-up: 90% × 200800 = 180720 < funds (187020 / 189704) → 0.
    s, _ = settle(
        R,
        person(categories=POOR),
        [
            claim("C1", "2019-06-01", items=[item("200800")]),
            claim("C2", "2020-06-01", items=[item("200800")]),
        ],
    )
    assert [x.policy_version for x in s] == ["fuxin/2019-01-01", "fuxin/2020-01-01"]
    assert [x.setlinfo.hifp_pay for x in s] == [fen("120000"), fen("120000")]
    assert [x.setlinfo.hifmi_pay for x in s] == [fen("47020"), fen("53060")]
    assert [x.setlinfo.maf_pay for x in s] == [fen("20000"), fen("16644")]
    assert [x.setlinfo.oth_pay for x in s] == [0, 0]
    # Ordinary residents keep their segments in 2020: (24800 − 10000) × 50% = 7400.
    s2, _ = settle(R, person(), [claim("C1", "2020-03-01", items=[item("60800")])])
    assert s2[0].setlinfo.hifmi_pay == fen("7400")


def test_fx27_major_disease_assistance_65_then_70_vs_general_60():
    # L3 60800 for a 建档立卡 person: basic 36000; burden 24800.
    # 2019 终末期肾病 (FX-21, N18.5): 大病 11880; 救助 65% (FX-27) × 12920 = 8398.
    # 2020 终末期肾病: 大病 (24800 − 5000) × 70% = 13860; 救助 70% × 10940 = 7658.
    # 2019 pneumonia (not one of the eight): general 60% × 12920 = 7752.
    def maf(date: str, dx: str) -> int:
        s, _ = settle(
            R, person(categories=POOR), [claim("C1", date, diagnoses=[dx], items=[item("60800")])]
        )
        return s[0].setlinfo.maf_pay

    assert maf("2019-03-01", "N18.5") == fen("8398")
    assert maf("2020-03-01", "N18.5") == fen("7658")
    assert maf("2019-03-01", "J18.9") == fen("7752")
    # Chronic kidney disease stage 2 (N18.2) is not 终末期肾病: the general 60% as pneumonia
    # (N18 as a whole had matched, QA)
    assert maf("2019-03-01", "N18.2") == fen("7752")


def test_g_fx5_major_disease_limit_50000_then_top_up():
    # 建档立卡, 终末期肾病, L3 800000 in 2019: basic 150000; 大病 444500 (no cap, as above);
    # 救助 65% × 205500 = 133575 → limit 50000 (G-FX-5, not the general 20000).
    # Top-up (G-FX-6): 720000 − (150000 + 444500 + 50000) = 75500. Person 80000 = 10%.
    s, _ = settle(
        R,
        person(categories=POOR),
        [claim("C1", "2019-03-01", diagnoses=["N18.5"], items=[item("800000")])],
    )
    info = s[0].setlinfo
    assert (info.hifmi_pay, info.maf_pay, info.oth_pay) == (
        fen("444500"),
        fen("50000"),
        fen("75500"),
    )
    assert info.fund_pay_sumamt == fen("720000")
    assert info.psn_part_amt == fen("80000")


def test_g_fx5_tekun_100_percent_limit_20000():
    # 特困, two L3 60800 stays in 2019 (特困 are rural poor for 大病, FX-02).
    # C1: basic 36000; 大病 11880; 救助 100% × 12920 = 12920; person 0.
    # C2: basic 36000 (72000 < 150000); burden 24800, year 24800 → 49600 all in the 60%
    #     segment: 14880; left 9920; 救助 room 20000 − 12920 = 7080 → 7080.
    #     Top-up: 54720 < funds 57960 → 0. Person 60800 − 57960 = 2840.
    s, _ = settle(
        R,
        person(categories=["tekun"]),
        [
            claim("C1", "2019-03-01", items=[item("60800")]),
            claim("C2", "2019-06-01", items=[item("60800")]),
        ],
    )
    assert [x.setlinfo.hifmi_pay for x in s] == [fen("11880"), fen("14880")]
    assert [x.setlinfo.maf_pay for x in s] == [fen("12920"), fen("7080")]
    assert [x.setlinfo.oth_pay for x in s] == [0, 0]
    assert [x.setlinfo.psn_part_amt for x in s] == [0, fen("2840")]


def test_g_fx5_tekun_with_a_listed_disease_takes_the_disease_programme():
    # G-FX-5: the eight diseases 65% / 50000 whatever the category; 特困 100% / 20000 for
    # "other illness" only. 特困, 2019, L3, 甲类 100000 each:
    # C1 I63.9 (not listed): basic (100000 − 800) × 60% = 59520; burden 40480 → 大病 (threshold
    #     5000, FX-11) 35480 × 60% = 21288; 救助 特困 100% × 19192 = 19192 (room 20000).
    # C2 N18.5 (终末期肾病, FX-21): basic 59520; burden 40480, year 80960 → 大病 9520 × 60%
    #     + 30960 × 65% = 25836; left 14644; 救助 重特大疾病 65% = 9518.60 from its own 50000,
    #     not the 808 left of the 特困 limit. Person 5125.40 (under 10% of cost: no top-up).
    s, _ = settle(
        R,
        person(categories=["tekun"]),
        [
            claim("C1", "2019-03-10", diagnoses=["I63.9"], items=[item("100000")]),
            claim("C2", "2019-06-10", diagnoses=["N18.5"], items=[item("100000")]),
        ],
    )
    assert [x.setlinfo.hifmi_pay for x in s] == [fen("21288"), fen("25836")]
    assert [x.setlinfo.maf_pay for x in s] == [fen("19192"), fen("9518.60")]
    assert [x.setlinfo.psn_part_amt for x in s] == [0, fen("5125.40")]


def test_g_fx5_dibao_general_assistance_limit_20000():
    # 低保, 2019, L3.
    # C1 150800: basic 150000 × 60% = 90000; burden 60800; 大病 45000 × 60% + 10800 × 65%
    #     = 27000 + 7020 = 34020; 救助 60% × 26780 = 16068.
    # C2 50800: basic 50000 × 60% = 30000 (room 60000); burden 20800, year 60800 → 81600 at
    #     65% = 13520; 救助 60% × 7280 = 4368 wanted, room 20000 − 16068 = 3932 → 3932.
    s, _ = settle(
        R,
        person(categories=["dibao"]),
        [
            claim("C1", "2019-03-01", items=[item("150800")]),
            claim("C2", "2019-06-01", items=[item("50800")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("90000"), fen("30000")]
    assert [x.setlinfo.hifmi_pay for x in s] == [fen("34020"), fen("13520")]
    assert [x.setlinfo.maf_pay for x in s] == [fen("16068"), fen("3932")]


def test_g_fx6_top_up_to_90_percent_in_county_only():
    # 建档立卡, L3 4800 in 2019: basic 4000 × 60% = 2400; burden 2400 < 5000 → 大病 0;
    # general 救助 60% × 2400 = 1440; funds 3840.
    # In county: top-up 90% × 4800 − 3840 = 480 (640100); person 480 = 10%.
    # Out of region (G-FX-6 in-county only): no top-up; person 960.
    s, _ = settle(
        R,
        person(categories=POOR),
        [
            claim("C1", "2019-03-01", items=[item("4800")]),
            claim("C2", "2019-05-01", out_of_region=True, items=[item("4800")]),
        ],
    )
    assert [x.setlinfo.hifp_pay for x in s] == [fen("2400"), fen("2400")]
    assert [x.setlinfo.maf_pay for x in s] == [fen("1440"), fen("1440")]
    assert [x.setlinfo.oth_pay for x in s] == [fen("480"), 0]
    assert [x.setlinfo.psn_part_amt for x in s] == [fen("480"), fen("960")]
    assert any(d.fund_pay_type == "640100" and d.fund_payamt == fen("480") for d in s[0].setldetail)
    # An ordinary resident gets neither 救助 nor the top-up.
    s2, _ = settle(R, person(), [claim("C1", "2019-03-01", items=[item("4800")])])
    assert (s2[0].setlinfo.maf_pay, s2[0].setlinfo.oth_pay) == (0, 0)


def test_fx19_fx22_major_disease_list_limits_age_and_sex():
    # Same L3 60800 stay in 2019, 救助 base 12920 as above (65% → 8398, general 60% → 7752).
    # 儿童白血病 (FX-19, C91.0): a 9-year-old → 8398; a 29-year-old is no child → 7752.
    # 妇女乳腺癌 (FX-22, C50.9): a woman → 8398; a man → general 7752.
    def maf(dx: str, **who: str) -> int:
        s, _ = settle(
            R,
            person(categories=POOR, **who),
            [claim("C1", "2019-03-01", diagnoses=[dx], items=[item("60800")])],
        )
        return s[0].setlinfo.maf_pay

    assert maf("C91.0", birth_date="2010-01-01") == fen("8398")
    assert maf("C91.0", birth_date="1990-01-01") == fen("7752")
    assert maf("C50.9", sex="F") == fen("8398")
    assert maf("C50.9", sex="M") == fen("7752")
