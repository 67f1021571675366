"""Single disease (LY-36..40, G-LY-9), capitation (EH-34) and VBP (QD-23/24)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.payment.drg import Stay
from yibao.payment.methods import capitation_fen, price_single_disease, single_disease_for_stay
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
    ],
)
def test_capitation_is_rate_times_persons_times_months_over_12(persons, months, yuan):
    assert capitation_fen(persons, months, LY.capitation) == int(Decimal(yuan) * YUAN)


@pytest.mark.parametrize(("persons", "months"), [(-1, 12), (10, 13), (10, -1)])
def test_capitation_refuses_bad_counts(persons, months):
    with pytest.raises(ValueError):
        capitation_fen(persons, months, LY.capitation)


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
