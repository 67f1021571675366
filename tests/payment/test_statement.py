"""The pure year-end statement: methods, budget, VBP and deposit reconcile to the fen."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.payment.statement import Claim, StatementInput, year_end_statement
from yibao.payment.terms import region_terms

LY = region_terms("liaoyang")
YUAN = 100


def golden_input(**changes) -> StatementInput:
    claims = (
        Claim(1, "11", 600_000 * YUAN, 500_000 * YUAN),  # outpatient, fee for service
        Claim(2, "21", 32_000 * YUAN, 25_600 * YUAN, ("I21.001",), ("36.0601",)),  # FM19
        Claim(3, "21", 10_000 * YUAN, 8_000 * YUAN, ("I50.9",)),  # ungroupable
    )
    fields = dict(
        institution="H21100200001",
        kind="hospital",
        level=3,
        public=True,
        year=2023,
        claims=claims,
        methods=frozenset({"drg"}),
        budget_fen=500_000 * YUAN,
        vbp_budget_fen=50_000 * YUAN,
        vbp_paid_fen=30_000 * YUAN,
        score=Decimal(90),
    )
    return StatementInput(**{**fields, **changes})


def test_golden_statement():
    t = year_end_statement(golden_input(), LY).totals
    # methods: FFS 500,000 + 8,000 (ungroupable stay) = 508,000; DRG FM19 28,000 − patient
    # 6,400 = 21,600 → actual 529,600.
    assert t["actual_fen"] == 529_600 * YUAN
    # budget 500,000: overspend 29,600 ≤ 50,000 → shared 50/50: institution bears 14,800.
    assert t["institution_bears_fen"] == 14_800 * YUAN
    assert t["fund_pays_claims_fen"] == 514_800 * YUAN
    # VBP: 30,000 paid to manufacturers comes off; (50,000 − 30,000) × 50% = 10,000 retained.
    assert (t["vbp_direct_fen"], t["vbp_retained_fen"]) == (30_000 * YUAN, 10_000 * YUAN)
    # payable 514,800 − 30,000 + 10,000 = 494,800.
    assert t["payable_fen"] == 494_800 * YUAN
    # deposit 10% of the monthly fund amounts 500,000 / 25,600 / 8,000 = 53,360; score 90
    # returns 48,024 and forfeits 5,336; paid monthly 533,600 − 53,360 = 480,240.
    assert t["deposit_withheld_fen"] == 53_360 * YUAN
    assert (t["deposit_returned_fen"], t["deposit_forfeited_fen"]) == (48_024 * YUAN, 5_336 * YUAN)
    assert t["interim_paid_fen"] == 480_240 * YUAN
    # balance due: 494,800 − 5,336 forfeited − 480,240 paid = 9,224.
    assert t["balance_fen"] == 9_224 * YUAN


def test_flags_and_lines():
    statement = year_end_statement(golden_input(), LY)
    assert statement.flags == {"drg_ungroupable": 1}
    keys = [line.key for line in statement.lines]
    assert keys[0] == "ffs" and keys[-1] == "year_end_balance"
    assert all(line.rule for line in statement.lines)


def test_without_methods_everything_is_fee_for_service_and_without_budget_nothing_shared():
    t = year_end_statement(golden_input(methods=frozenset(), budget_fen=None), LY).totals
    # 500,000 + 25,600 + 8,000 as settled
    assert t["actual_fen"] == t["fund_pays_claims_fen"] == 533_600 * YUAN
    assert t["institution_bears_fen"] == t["reward_fen"] == 0


def test_capitation_replaces_outpatient_fee_for_service():
    inp = golden_input(
        methods=frozenset({"capitation"}),
        capitation_person_months=Fraction(2_000 * 12),
        budget_fen=None,
    )
    statement = year_end_statement(inp, LY)
    # outpatient 500,000 replaced by 120.00 × 2,000 = 240,000; inpatient 25,600 + 8,000 FFS.
    assert statement.totals["actual_fen"] == (240_000 + 33_600) * YUAN
    replaced = next(line for line in statement.lines if line.key == "capitated_ffs_replaced")
    assert replaced.fen == 500_000 * YUAN


def test_single_disease_takes_precedence_over_drg_and_is_flagged_without_a_price():
    inp = golden_input(methods=frozenset({"drg", "single_disease"}))
    statement = year_end_statement(inp, LY)
    # both inpatient stays have I-codes: 心血管病 at 市中心医院, no price → FFS (G-LY-9).
    assert statement.flags == {"single_disease_unpriced": 2}
    assert statement.totals["actual_fen"] == 533_600 * YUAN


def test_each_claim_is_paid_under_its_own_agreements_methods():
    # January outpatient under a fee-for-service agreement (no methods), the two stays under a
    # capitation-only one: the outpatient 500,000 is kept, nothing is replaced, the stays are
    # fee for service (capitation pays no stay): 500,000 + 25,600 + 8,000 + capitation
    # 120.00 × 100 persons × 6/12 = 6,000 → 539,600.
    ffs, cap = frozenset(), frozenset({"capitation"})
    claims = golden_input().claims
    claims = (replace(claims[0], methods=ffs),) + tuple(replace(c, methods=cap) for c in claims[1:])
    inp = golden_input(
        claims=claims, methods=cap, capitation_person_months=Fraction(600), budget_fen=None
    )
    statement = year_end_statement(inp, LY)
    by_key = {line.key: line.fen for line in statement.lines}
    assert by_key["ffs"] == 533_600 * YUAN and by_key["capitated_ffs_replaced"] == 0
    assert by_key["capitation"] == 6_000 * YUAN
    assert statement.totals["actual_fen"] == 539_600 * YUAN


def test_a_sanction_beyond_the_deposit_comes_off_the_balance():
    # golden year with a 100,000 deduction: the deposit withheld is 53,360, so 53,360 is
    # deducted and 46,640 is taken off the balance; nothing is left to return or forfeit.
    # balance: payable 494,800 − 53,360 deducted − 46,640 beyond − 480,240 paid = −85,440.
    t = year_end_statement(golden_input(deducted_fen=100_000 * YUAN), LY).totals
    assert t["deposit_deducted_fen"] == 53_360 * YUAN
    assert t["deduction_beyond_deposit_fen"] == 46_640 * YUAN
    assert t["deposit_returned_fen"] == t["deposit_forfeited_fen"] == 0
    assert t["balance_fen"] == -85_440 * YUAN


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown payment methods"):
        year_end_statement(golden_input(methods=frozenset({"barter"})), LY)


claims = st.lists(
    st.builds(
        lambda month, med, total, share, diag: Claim(
            month, med, total, total * share // 100, (diag,), ("36.06",)
        ),
        st.integers(min_value=1, max_value=12),
        st.sampled_from(["11", "14", "21"]),
        st.integers(min_value=0, max_value=10**8),
        st.integers(min_value=0, max_value=100),
        st.sampled_from(["I21", "I25", "J18", "Z00", "C34"]),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    claims=claims,
    methods=st.frozensets(st.sampled_from(["drg", "single_disease", "capitation"])),
    budget=st.one_of(st.none(), st.integers(min_value=1, max_value=10**9)),
    vbp=st.tuples(st.integers(0, 10**7), st.integers(0, 10**7)),
    score=st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=1)),
    deducted=st.integers(0, 10**7),
)
def test_the_statement_reconciles(claims, methods, budget, vbp, score, deducted):
    inp = golden_input(
        claims=tuple(claims), methods=methods, budget_fen=budget, vbp_paid_fen=vbp[0],
        vbp_budget_fen=vbp[1], score=score, deducted_fen=deducted,
        capitation_person_months=Fraction(100 * 12),
    )  # fmt: skip
    t = year_end_statement(inp, LY).totals
    assert t["fund_pays_claims_fen"] + t["institution_bears_fen"] == t["actual_fen"]
    assert t["payable_fen"] == (
        t["fund_pays_claims_fen"] + t["reward_fen"] - t["vbp_direct_fen"] + t["vbp_retained_fen"]
    )
    assert t["deposit_withheld_fen"] == (
        t["deposit_returned_fen"] + t["deposit_forfeited_fen"]
        + t["deposit_deducted_fen"] + t["deposit_held_fen"]
    )  # fmt: skip
    settled = sum(c.fund_fen for c in claims)
    assert t["interim_paid_fen"] == settled - t["deposit_withheld_fen"]
    # what the institution receives in all = payable less the deposit not returned, less
    # the part of the sanction the deposit could not cover
    assert t["deposit_deducted_fen"] + t["deduction_beyond_deposit_fen"] == deducted
    received = t["interim_paid_fen"] + t["balance_fen"]
    assert received == (
        t["payable_fen"]
        - (t["deposit_withheld_fen"] - t["deposit_returned_fen"])
        - t["deduction_beyond_deposit_fen"]
    )
