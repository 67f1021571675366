"""The quality deposit (G-LY-8, LY-24, LY-32): monthly withholding, return by score."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.payment.deposit import withhold, year_end_return
from yibao.payment.terms import region_terms

TERMS = region_terms("liaoyang").deposit
YUAN = 100


def test_ten_percent_of_each_monthly_payable_is_withheld():
    # 10% of 1,000,000.00 = 100,000.00 each month; a month that nets negative withholds 0;
    # 10% of 0.05 = 0.005 yuan = 0.5 fen → 1 fen (half-up).
    withheld = withhold({1: 1_000_000 * YUAN, 2: -300, 3: 5}, TERMS)
    assert withheld == {1: 100_000 * YUAN, 2: 0, 3: 1}


def test_score_90_returns_90_percent_and_forfeits_the_rest():
    # 12 months × 100,000.00 = 1,200,000.00 withheld; score 90 → 1,080,000.00 returned,
    # 120,000.00 forfeited (it becomes the reward fund, LY-24).
    result = year_end_return(1_200_000 * YUAN, 0, Decimal(90), False, TERMS)
    assert result.returned_fen == 1_080_000 * YUAN
    assert result.forfeited_fen == 120_000 * YUAN


def test_a_sanction_deduction_comes_off_before_the_return():
    # LY-32: 50,000.00 deducted; (1,200,000 − 50,000) × 0.9 = 1,035,000 returned,
    # 1,150,000 − 1,035,000 = 115,000 forfeited.
    result = year_end_return(1_200_000 * YUAN, 50_000 * YUAN, Decimal(90), False, TERMS)
    assert result.deducted_fen == 50_000 * YUAN
    assert result.returned_fen == 1_035_000 * YUAN
    assert result.forfeited_fen == 115_000 * YUAN


def test_a_deduction_beyond_the_deposit_is_reported_uncovered():
    result = year_end_return(1_000, 1_500, Decimal(100), False, TERMS)
    assert (result.deducted_fen, result.returned_fen, result.uncovered_deduction_fen) == (
        1_000,
        0,
        500,
    )


def test_a_pharmacy_veto_forfeits_the_whole_deposit():
    result = year_end_return(80_000, 0, Decimal(95), True, TERMS)
    assert (result.returned_fen, result.forfeited_fen) == (0, 80_000)


def test_without_an_assessment_the_deposit_is_held():
    result = year_end_return(80_000, 10_000, None, False, TERMS)
    assert (result.returned_fen, result.forfeited_fen, result.held_fen) == (0, 0, 70_000)


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        year_end_return(-1, 0, Decimal(90), False, TERMS)


@given(
    withheld=st.integers(min_value=0, max_value=10**12),
    deducted=st.integers(min_value=0, max_value=10**12),
    score=st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2)),
    veto=st.booleans(),
)
def test_every_withheld_fen_ends_in_exactly_one_place(withheld, deducted, score, veto):
    r = year_end_return(withheld, deducted, score, veto, TERMS)
    assert r.withheld_fen == r.returned_fen + r.forfeited_fen + r.deducted_fen + r.held_fen
    assert min(r.returned_fen, r.forfeited_fen, r.deducted_fen, r.held_fen) >= 0
    assert r.deducted_fen + r.uncovered_deduction_fen == deducted


@given(
    withheld=st.integers(min_value=0, max_value=10**12),
    low=st.decimals(min_value=0, max_value=100, places=2),
    high=st.decimals(min_value=0, max_value=100, places=2),
)
def test_a_higher_score_never_returns_less(withheld, low, high):
    low, high = min(low, high), max(low, high)
    a = year_end_return(withheld, 0, low, False, TERMS)
    b = year_end_return(withheld, 0, high, False, TERMS)
    assert a.returned_fen <= b.returned_fen
