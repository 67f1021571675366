"""Year-end global-budget settlement (LY-35, G-LY-7): golden values and conservation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.money import apply_ratio
from yibao.payment.budget import settle_budget
from yibao.payment.terms import region_terms

TERMS = region_terms("liaoyang").budget
YUAN = 100  # fen per yuan


@pytest.mark.parametrize(
    ("actual_yuan", "fund_claims_yuan", "bears_yuan", "reward_yuan"),
    [
        # overspend 800,000 ≤ 10% × 10,000,000 = 1,000,000: shared 50/50 → fund 400,000,
        # institution 400,000; fund pays 10,800,000 − 400,000 = 10,400,000 of the claims.
        (10_800_000, 10_400_000, 400_000, 0),
        # overspend 1,500,000: the first 1,000,000 shared (fund 500,000), the 500,000 beyond
        # borne alone → institution 500,000 + 500,000 = 1,000,000; fund 10,500,000.
        (11_500_000, 10_500_000, 1_000_000, 0),
        # exactly on budget: nothing shared, nothing rewarded.
        (10_000_000, 10_000_000, 0, 0),
        # savings 600,000 ≤ 1,000,000 → reward 50% = 300,000.
        (9_400_000, 9_400_000, 0, 300_000),
        # savings 2,000,000: only 1,000,000 counts → reward 500,000.
        (8_000_000, 8_000_000, 0, 500_000),
    ],
)
def test_golden_bands_of_g_ly_7(actual_yuan, fund_claims_yuan, bears_yuan, reward_yuan):
    result = settle_budget(10_000_000 * YUAN, actual_yuan * YUAN, TERMS)
    assert result.fund_pays_claims_fen == fund_claims_yuan * YUAN
    assert result.institution_bears_fen == bears_yuan * YUAN
    assert result.reward_fen == reward_yuan * YUAN
    assert all(line.rule for line in result.lines)


def test_half_a_fen_of_shared_overspend_rounds_half_up_to_the_fund():
    # budget 100.00, actual 100.03: overspend 3 fen, all within the band; fund share
    # 0.5 × 3 = 1.5 → 2 fen (half-up), institution bears 1 fen.
    result = settle_budget(10_000, 10_003, TERMS)
    assert (result.fund_pays_claims_fen, result.institution_bears_fen) == (10_002, 1)


@pytest.mark.parametrize(("budget", "actual"), [(0, 1), (-5, 1), (100, -1)])
def test_bad_amounts_are_refused(budget, actual):
    with pytest.raises(ValueError):
        settle_budget(budget, actual, TERMS)


budgets = st.integers(min_value=1, max_value=10**13)


@given(budget=budgets, data=st.data())
def test_money_is_conserved_to_the_fen(budget, data):
    actual = data.draw(st.integers(min_value=0, max_value=3 * budget))
    result = settle_budget(budget, actual, TERMS)
    assert result.fund_pays_claims_fen + result.institution_bears_fen == actual
    assert 0 <= result.institution_bears_fen <= max(0, actual - budget)
    assert result.reward_fen == 0 or actual < budget
    # the fund never pays more than the budget plus half the band
    cap = budget + apply_ratio(
        apply_ratio(budget, TERMS.overspend_band.value), TERMS.overspend_fund_share.value
    )
    assert result.fund_total_fen <= cap


@given(budget=budgets, data=st.data())
def test_spending_more_never_lowers_what_the_fund_pays_nor_what_the_institution_bears(budget, data):
    low = data.draw(st.integers(min_value=0, max_value=3 * budget))
    high = data.draw(st.integers(min_value=low, max_value=3 * budget + 1))
    a, b = settle_budget(budget, low, TERMS), settle_budget(budget, high, TERMS)
    assert a.fund_total_fen <= b.fund_total_fen
    assert a.institution_bears_fen <= b.institution_bears_fen
