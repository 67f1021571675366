"""DRG grouping and pricing (EH-34; weights, base rate and outliers assumed, no seed number)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.payment.drg import Stay, group_stay, price_stay
from yibao.payment.pricing import price_stay_request
from yibao.payment.terms import region_terms

TERMS = region_terms("liaoyang").drg
YUAN = 100


def stay(diagnoses, procedures=(), total=32_000, patient=6_400, level=3) -> Stay:
    return Stay(tuple(diagnoses), tuple(procedures), total * YUAN, patient * YUAN, level)


@pytest.mark.parametrize(
    ("diagnoses", "procedures", "group"),
    [
        (["I21.001"], ["36.0601"], "FM19"),  # surgical group: diagnosis + stent procedure
        (["I25.103"], [], "FR29"),  # same diagnosis family, no procedure: medical group
        (["I21.001"], [], None),  # FR29 lists I20/I25 only: ungroupable
        (["O80.x00"], ["74.1x01"], "OC19"),  # surgical groups are tried first
        (["O80.x00"], [], "OB29"),
        (["O82.000"], [], None),
        (["J18.900", "I21.001"], ["36.06"], "ES29"),  # only the main diagnosis groups
        ([], [], None),
    ],
)
def test_grouping_by_main_diagnosis_and_procedure(diagnoses, procedures, group):
    found = group_stay(tuple(diagnoses), tuple(procedures), TERMS)
    assert (found.code if found else None) == group


def test_golden_price_is_base_rate_times_weight():
    # level 3 base rate 10,000.00 × FM19 weight 2.8 = 28,000.00; the patient paid 6,400.00,
    # so the fund pays 28,000 − 6,400 = 21,600.00.
    paid = price_stay(stay(["I21.001"], ["36.0601"]), TERMS)
    assert (paid.method, paid.group, paid.payment_fen, paid.fund_fen) == (
        "drg",
        "FM19",
        28_000 * YUAN,
        21_600 * YUAN,
    )


def test_level_2_price():
    # level 2 base 8,000.00 × FR29 0.9 = 7,200.00; cost 9,000 within [2,880, 21,600].
    paid = price_stay(stay(["I25.1"], total=9_000, patient=1_800, level=2), TERMS)
    assert (paid.payment_fen, paid.fund_fen) == (7_200 * YUAN, 5_400 * YUAN)


def test_high_outlier_is_paid_fee_for_service():
    # 3 × 28,000 = 84,000; a stay costing 90,000 is a high outlier: the fund pays its
    # fee-for-service share 90,000 − 9,000 = 81,000.
    paid = price_stay(stay(["I21"], ["36.06"], total=90_000, patient=9_000), TERMS)
    assert (paid.method, paid.payment_fen, paid.fund_fen) == (
        "drg_outlier",
        90_000 * YUAN,
        81_000 * YUAN,
    )
    assert "high outlier" in paid.lines[-1].rule


def test_the_threshold_itself_is_not_an_outlier():
    paid = price_stay(stay(["I21"], ["36.06"], total=84_000, patient=9_000), TERMS)
    assert (paid.method, paid.payment_fen) == ("drg", 28_000 * YUAN)


def test_low_outlier_is_paid_fee_for_service():
    # 0.4 × 28,000 = 11,200; a stay costing 10,000 is a low outlier.
    paid = price_stay(stay(["I21"], ["36.06"], total=10_000, patient=2_000), TERMS)
    assert (paid.method, paid.fund_fen) == ("drg_outlier", 8_000 * YUAN)


def test_ungroupable_stay_is_fee_for_service_and_flagged():
    paid = price_stay(stay(["Z99"], total=5_000, patient=1_000), TERMS)
    assert (paid.method, paid.fund_fen, paid.flag) == ("ffs", 4_000 * YUAN, "drg_ungroupable")


def test_a_stay_without_diagnoses_is_flagged_as_such_not_as_ungroupable():
    # a stay settled through 2207 without a 2401/2402 visit has no diagnosis to group by:
    # fee for service (5,000 − 1,000 = 4,000), and the flag says what is known.
    paid = price_stay(stay([], ["36.06"], total=5_000, patient=1_000), TERMS)
    assert (paid.method, paid.fund_fen, paid.flag) == ("ffs", 4_000 * YUAN, "drg_no_diagnoses")
    assert "2401/2402" in paid.lines[0].rule


def test_the_fund_never_pays_below_zero():
    # price 7,200 (level 2 FR29) but the patient already paid 8,000 of a 9,000 stay.
    paid = price_stay(stay(["I25"], total=9_000, patient=8_000, level=2), TERMS)
    assert paid.fund_fen == 0


@pytest.mark.parametrize(
    "bad", [stay(["I25"], total=100, patient=200), stay(["I25"], level=4), stay(["I25"], total=-1)]
)
def test_impossible_stays_are_refused(bad):
    with pytest.raises(ValueError):
        price_stay(bad, TERMS)


@given(
    total=st.integers(min_value=0, max_value=10**9),
    data=st.data(),
    level=st.sampled_from([1, 2, 3]),
    main=st.sampled_from(["I21", "I25", "J18", "E11", "O80", "Z00"]),
    procedure=st.sampled_from([[], ["36.06"], ["74.1"]]),
)
def test_fund_plus_patient_covers_the_payment_unless_the_patient_paid_more(
    total, data, level, main, procedure
):
    patient = data.draw(st.integers(min_value=0, max_value=total))
    paid = price_stay(Stay((main,), tuple(procedure), total, patient, level), TERMS)
    assert paid.fund_fen >= 0
    assert paid.fund_fen == max(0, paid.payment_fen - patient)
    if paid.method != "drg":  # outliers and ungroupable stays: exactly fee for service
        assert paid.payment_fen == total


def test_price_stay_request_names_an_unknown_region():
    with pytest.raises(ValueError, match="region"):
        price_stay_request("atlantis", 3, ["I21"], [], 100, 0)
