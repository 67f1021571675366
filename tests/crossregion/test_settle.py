"""Settling X's insured at Y's institutions: Y's catalogue, X's ratios, the filing's effect.

Golden values use Tongliao's resident inpatient rules: 转外 deductible 1000 (TL-05), ratio
60% referred (G-TL-2) and 40% not referred (G-TL-3).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yibao.catalog.model import Catalog, CatalogEntry, Restriction
from yibao.crossregion.rules import load_rules
from yibao.crossregion.settle import (
    Filing,
    cross_catalogs,
    pieces,
    settle_cross_region,
    settle_file_cross_region,
)
from yibao.engine.inputs import Claim, ClaimFile, Person
from yibao.engine.settle import SettlementError, settle_claim
from yibao.engine.state import YearToDate
from yibao.errors import InputError
from yibao.settling import policy_and_catalogs

PERSON = Person(id="TL1", scheme="resident")


def stay(price: str, code: str = "S008", category: str | None = "A") -> Claim:
    item = {"code": code, "name": "item", "price": price}
    if category:
        item["category"] = category
    return Claim.model_validate(
        {
            "id": "C1", "date": "2023-03-01", "med_type": "21", "hospital_level": 3,
            "admit_date": "2023-03-01", "discharge_date": "2023-03-08", "items": [item],
        }
    )  # fmt: skip


def settle(claim: Claim, filing: Filing | None, treating_catalogs=None):
    insured, _ = policy_and_catalogs("tongliao")
    treating, catalogs = policy_and_catalogs("qingdao")
    state = YearToDate.for_person(PERSON)
    result, _ = settle_cross_region(
        insured, treating, treating_catalogs or catalogs, PERSON, claim, state, filing, load_rules()
    )
    return result


@pytest.mark.parametrize(
    ("filing", "hifp", "flags"),
    [
        # (5000 − 1000 转外 deductible) × 60% referred = 2400.00
        (Filing(7, "referral"), 240_000, []),
        # 异地安置 counts as referred too (G-TL-3): 2400.00
        (Filing(8, "residence"), 240_000, []),
        # temporary stay: not referred → (5000 − 1000) × 40% = 1600.00
        (Filing(9, "temporary"), 160_000, []),
        # no filing: settled, flagged, not referred → 1600.00
        (None, 160_000, ["unfiled"]),
    ],
)
def test_the_filing_decides_the_referred_ratio(filing, hifp, flags):
    result = settle(stay("5000.00"), filing)
    info = result.settlement.setlinfo
    assert info.act_pay_dedc == 100_000
    assert info.hifp_pay == hifp
    assert result.flags == flags
    assert (result.insured_region, result.treating_region) == ("tongliao", "qingdao")


def test_the_claim_is_out_of_region_whatever_the_caller_said():
    claim = stay("5000.00").model_copy(update={"out_of_region": False, "referral": True})
    info = settle(claim, None).settlement.setlinfo
    # still the 转外 deductible 1000 and the unreferred 40%: (5000 − 1000) × 40% = 1600.00
    assert (info.act_pay_dedc, info.hifp_pay) == (100_000, 160_000)


def _catalog(name: str, category: str, selfpay: str | None) -> Catalog:
    entry = CatalogEntry(
        code="X1", name="某药", category=category, kind="drug", price_limit_fen=None,  # type: ignore[arg-type]
        selfpay_ratio=Decimal(selfpay) if selfpay else None, restriction=Restriction(),
        selfpay_waivable=False,
    )  # fmt: skip
    return Catalog(name=name, entries={"X1": entry}, is_sample=True)


def test_the_treating_regions_catalogue_classes_the_items():
    treating, _ = policy_and_catalogs("qingdao")
    insured, _ = policy_and_catalogs("tongliao")
    there = {treating.version_id(v): _catalog("qingdao", "B", "0.50") for v in treating.versions}
    home = {insured.version_id(v): _catalog("tongliao", "A", None) for v in insured.versions}
    claim = stay("6000.00", code="X1", category=None)
    # Qingdao lists X1 as 乙类 with 50% first self-pay: in scope 3000;
    # (3000 − 1000) × 60% = 1200.00
    cross = settle(claim, Filing(1, "referral"), there).settlement.setlinfo
    assert (cross.preselfpay_amt, cross.inscp_scp_amt, cross.hifp_pay) == (
        300_000,
        300_000,
        120_000,
    )
    # At home X1 is 甲类: in scope 6000; (6000 − 1000) × 60% = 3000.00
    referred = claim.model_copy(update={"out_of_region": True, "referral": True})
    state = YearToDate.for_person(PERSON)
    own, _ = settle_claim(insured, home, PERSON, referred, state)
    assert own.setlinfo.hifp_pay == 300_000


def test_cross_catalogs_maps_every_insured_version_to_the_catalogue_in_force():
    insured, _ = policy_and_catalogs("erenhot")  # two versions
    treating, catalogs = policy_and_catalogs("qingdao")
    mapped = cross_catalogs(insured, treating, catalogs, dt.date(2023, 3, 1))
    assert set(mapped) == {insured.version_id(v) for v in insured.versions}
    assert len({id(c) for c in mapped.values()}) == 1
    with pytest.raises(SettlementError, match="treating region"):
        cross_catalogs(insured, treating, catalogs, dt.date(2020, 1, 1))


def test_pieces_for_the_online_path():
    own = policy_and_catalogs("tongliao")
    assert pieces("tongliao", "tongliao", dt.date(2023, 3, 1)) == own
    policy, catalogs = pieces("tongliao", "qingdao", dt.date(2023, 3, 1))
    assert policy is own[0] and set(catalogs) == set(own[1])


def _file(region: str = "tongliao") -> ClaimFile:
    two = (stay("5000.00"), stay("5000.00").model_copy(update={"id": "C2"}))
    return ClaimFile(region=region, person=PERSON, claims=two)


def test_a_file_carries_year_to_date_and_asks_the_filing_per_claim_date():
    asked = []

    def filing_on(day):
        asked.append(day)
        return Filing(3, "referral")

    results, state = settle_file_cross_region(_file(), "qingdao", filing_on)
    assert asked == [dt.date(2023, 3, 8)] * 2
    assert [r.settlement.setlinfo.hifp_pay for r in results] == [240_000, 240_000]
    assert state.year == 2023  # the year-to-date state of the last claim comes back


@pytest.mark.parametrize(
    ("region", "treating", "message"),
    [
        ("tongliao", "tongliao", "treating_region: tongliao is the insured region"),
        ("tongliao", "atlantis", "treating_region: unknown region"),
        ("atlantis", "qingdao", "region: unknown region"),
    ],
)
def test_bad_regions_are_input_errors(region, treating, message):
    with pytest.raises(InputError, match=message):
        settle_file_cross_region(_file(region), treating, lambda _d: None)


def test_pieces_refuses_a_day_the_treating_region_has_no_policy():
    with pytest.raises(SettlementError, match="treating region"):
        pieces("tongliao", "qingdao", dt.date(2017, 3, 1))  # Qingdao's policy starts 2021
