"""Single disease (LY-36..40, G-LY-9), capitation (EH-34) and VBP (QD-23/24)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from yibao.payment.drg import Stay
from yibao.payment.methods import (
    capitation_fen,
    months_covered,
    price_single_disease,
    single_disease_for_stay,
)
from yibao.payment.terms import region_terms
from yibao.payment.vbp import settle_vbp
from yibao.policy.provenance import CitedMoney

LY = region_terms("liaoyang")
YUAN = 100


def priced(entry, yuan: str):
    price = CitedMoney(value=Decimal(yuan), assumed=True, reason="G-LY-9: configured for a test")
    return entry.model_copy(update={"price": price})


def test_the_city_central_hospitals_cardiovascular_stay_matches_its_single_disease():
    entries = LY.single_disease_for("H21100200001")
    found = single_disease_for_stay(Stay(("I21.0",), (), 1, 0, 3), entries)
    assert found is not None and found.disease == "心血管病"
    assert found.sources[0].rule == "LY-38"
    assert single_disease_for_stay(Stay(("J18",), (), 1, 0, 3), entries) is None
    assert single_disease_for_stay(Stay(("I21",), (), 1, 0, 3), LY.single_disease_for("X")) is None


def test_without_a_configured_price_the_stay_is_fee_for_service_and_flagged():
    entry = LY.single_disease_for("H21100200001")[1]
    paid = price_single_disease(Stay(("I21",), (), 20_000 * YUAN, 4_000 * YUAN, 3), entry)
    assert (paid.method, paid.fund_fen, paid.flag) == (
        "ffs",
        16_000 * YUAN,
        "single_disease_unpriced",
    )
    assert "G-LY-9" in paid.lines[0].rule


def test_a_configured_price_is_paid_less_the_patient_part():
    # configured price 15,000.00; the patient paid 4,000.00 → fund 11,000.00.
    entry = priced(LY.single_disease_for("H21100200001")[1], "15000.00")
    paid = price_single_disease(Stay(("I21",), (), 20_000 * YUAN, 4_000 * YUAN, 3), entry)
    assert (paid.method, paid.payment_fen, paid.fund_fen) == (
        "single_disease",
        15_000 * YUAN,
        11_000 * YUAN,
    )


@pytest.mark.parametrize(
    ("persons", "months", "yuan"),
    [
        (1_000, 12, "120000.00"),  # 120.00 × 1,000 persons × 12/12
        (1_000, 7, "70000.00"),  # 120.00 × 1,000 × 7/12
        (1, 1, "10.00"),  # 120.00 / 12
        (0, 12, "0.00"),
        # part months: 12,000 fen × 1,000 × 17/31 / 12 = 17,000,000/31 = 548,387.0967… fen
        (1_000, Fraction(17, 31), "5483.87"),
        # 12,000 fen × 1 × 1/24 / 12 = 41.666… fen → 42 (half-up once)
        (1, Fraction(1, 24), "0.42"),
        # 12,000 fen × 1 × 1/32 / 12 = 31.25 → 31; × 3/32 = 93.75 → 94
        (1, Fraction(1, 32), "0.31"),
        (1, Fraction(3, 32), "0.94"),
    ],
)
def test_capitation_is_rate_times_persons_times_months_over_12(persons, months, yuan):
    assert capitation_fen(persons * Fraction(months), LY.capitation) == int(Decimal(yuan) * YUAN)


def test_capitation_refuses_negative_person_months():
    with pytest.raises(ValueError):
        capitation_fen(Fraction(-1), LY.capitation)


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "year", "months"),
    [
        ("2023-01-01", "2023-12-31", 2023, 12),
        ("2023-07-01", "2024-06-30", 2023, 6),  # whole months: unchanged
        # 07-15..07-31 is 17 of July's 31 days, then August..December
        ("2023-07-15", "2024-07-14", 2023, 5 + Fraction(17, 31)),
        # January..June, then 07-01..07-14: 14 of 31 days; with 2023: 11 + 31/31 = 12
        ("2023-07-15", "2024-07-14", 2024, 6 + Fraction(14, 31)),
        ("2023-12-31", "2024-12-30", 2023, Fraction(1, 31)),  # one day earns 1/31 month
        ("2024-02-10", "2024-02-29", 2024, Fraction(20, 29)),  # leap February
        ("2022-01-01", "2022-12-31", 2023, 0),  # not in force in the year
    ],
)
def test_months_covered_counts_a_part_month_by_its_days(valid_from, valid_to, year, months):
    covered = months_covered(
        dt.date.fromisoformat(valid_from), dt.date.fromisoformat(valid_to), year
    )
    assert covered == months


def test_a_term_of_twelve_whole_months_covers_twelve_months_over_its_two_years():
    start, end = dt.date(2023, 7, 15), dt.date(2024, 7, 14)
    assert months_covered(start, end, 2023) + months_covered(start, end, 2024) == 12


def test_the_part_month_rule_is_declared_as_an_assumption():
    rule = LY.capitation.part_month
    assert rule.value == "days_covered_over_days_in_month" and rule.assumed


def test_vbp_direct_payment_and_retention_for_a_public_institution():
    # the fund paid manufacturers 300,000.00 (taken off the payable); VBP budget 500,000.00
    # → surplus 200,000.00, half retained: 100,000.00 (QD-24, share assumed).
    result = settle_vbp(300_000 * YUAN, 500_000 * YUAN, True, LY.vbp)
    assert (result.direct_fen, result.surplus_fen, result.retained_fen) == (
        300_000 * YUAN,
        200_000 * YUAN,
        100_000 * YUAN,
    )


def test_a_private_institution_retains_nothing_and_overspent_vbp_has_no_surplus():
    assert settle_vbp(300_000, 500_000, False, LY.vbp).retained_fen == 0
    over = settle_vbp(600_000, 500_000, True, LY.vbp)
    assert (over.surplus_fen, over.retained_fen, over.direct_fen) == (0, 0, 600_000)
