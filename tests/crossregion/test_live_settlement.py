"""The online service settles a visit at another region's institution by the cross-region rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.crossregion.world import build, file_referral, inpatient, settle_at


def test_an_out_of_region_stay_is_settled_with_the_insured_regions_transfer_rules(db):
    world = build(db)
    file_referral(world, "TL1", "qingdao", 2021)
    claim = inpatient("S1", "2021-06-01", "2021-06-05", "5000.00")
    claim["out_of_region"] = False  # the caller forgot: the institution's region decides
    answer = settle_at(world, "TL1", "Q3", claim)
    info = answer["setlinfo"]
    # Tongliao resident in a Qingdao hospital, referred: the 转外 deductible 1000 (TL-05) and
    # the referred 60%: (5000 − 1000) × 60% = 2400.00, as `yibao cross-region settle` gives.
    assert Decimal(str(info["act_pay_dedc"])) == Decimal("1000.00")
    assert Decimal(str(info["hifp_pay"])) == Decimal("2400.00")


def test_an_in_region_stay_is_unchanged(db):
    world = build(db)
    claim = inpatient("S2", "2021-06-01", "2021-06-05", "5000.00")
    claim.update(out_of_region=False, referral=False)
    answer = settle_at(world, "TL1", "T3", claim)
    info = answer["setlinfo"]
    # at home, level 3 (G-TL-1/2): deductible 600, ratio 70% → (5000 − 600) × 70% = 3080.00
    assert Decimal(str(info["act_pay_dedc"])) == Decimal("600.00")
    assert Decimal(str(info["hifp_pay"])) == Decimal("3080.00")


@pytest.mark.parametrize("referral", [True, False])
def test_at_home_the_hospital_cannot_make_a_stay_out_of_region(db, referral):
    world = build(db)
    claim = inpatient("S2", "2021-06-01", "2021-06-05", "5000.00")
    claim.update(out_of_region=True, referral=referral)
    info = settle_at(world, "TL1", "T3", claim)["setlinfo"]
    # a Tongliao institution: at home, level 3, as above, not the 转外 1000 and 60% / 40%
    assert Decimal(str(info["act_pay_dedc"])) == Decimal("600.00")
    assert Decimal(str(info["hifp_pay"])) == Decimal("3080.00")


@pytest.mark.parametrize(
    ("filed", "sent", "paid"),
    [
        # unfiled, though the hospital says referred: the 转外 deductible 1000 (TL-05) and the
        # unreferred 40% (G-TL-2): (5000 − 1000) × 40% = 1600.00
        (False, True, "1600.00"),
        # a referral filing, though the hospital says not referred: 60% → 2400.00
        (True, False, "2400.00"),
    ],
)
def test_referral_comes_from_the_filing_not_from_the_hospital(db, filed, sent, paid):
    world = build(db)
    if filed:
        file_referral(world, "TL1", "qingdao", 2021)
    claim = inpatient("S3", "2021-06-01", "2021-06-05", "5000.00")
    claim["referral"] = sent
    answer = settle_at(world, "TL1", "Q3", claim)
    assert Decimal(str(answer["setlinfo"]["hifp_pay"])) == Decimal(paid)
    # an unfiled visit says so, as the preview does (docs/cross-region.md)
    unfiled = [w for w in answer.get("warnings", []) if w["rule"] == "unfiled"]
    assert len(unfiled) == (0 if filed else 1)
    if unfiled:
        assert unfiled[0]["message"].endswith("settled as not referred")
        assert unfiled[0]["basis"] == "assumed (G-TL-3)"
