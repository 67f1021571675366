"""The packaged payment terms load strictly, every quote is verbatim in its seed, and every
assumption names the gap it fills."""

from __future__ import annotations

import pytest

from tests.seeds import SEEDS
from yibao.payment.terms import (
    TermsError,
    packaged_terms,
    parse_terms,
    region_terms,
)
from yibao.policy.provenance import Cites, Provenance, Source, nodes_of


def test_every_quote_is_verbatim_in_its_seed():
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    sources = nodes_of(packaged_terms(), Source)
    assert len(sources) >= 15
    for source in sources:
        text = (SEEDS / source.seed).read_text("utf-8")
        assert source.quote in text, f"{source.rule}: {source.quote!r} not in {source.seed}"


def test_every_assumption_names_a_gap_or_says_no_seed_number():
    for cites in nodes_of(packaged_terms(), Cites):
        if cites.assumed:
            assert cites.reason.startswith(("G-LY-", "no seed number")), cites.reason


def test_the_gap_values_are_the_ones_of_policy_facts():
    ly = region_terms("liaoyang")
    # G-LY-7: bands of 10%, overspend shared 50/50, 50% of the savings kept.
    assert str(ly.budget.overspend_band.value) == "0.10"
    assert str(ly.budget.overspend_fund_share.value) == "0.50"
    assert str(ly.budget.surplus_band.value) == "0.10"
    assert str(ly.budget.surplus_keep.value) == "0.50"
    # G-LY-8: 10% deposit, exposure below 80, a pharmacy veto forfeits the deposit.
    assert str(ly.deposit.share.value) == "0.10"
    assert ly.assessment.exposure_below.value == 80
    assert ly.deposit.pharmacy_veto_forfeits.value is True
    # G-LY-9: no packaged single-disease price; LY-37..40 list the diseases.
    assert [s.disease for s in ly.single_disease] == ["肿瘤", "心血管病", "糖尿病", "妇产科疾病"]
    assert all(s.price is None for s in ly.single_disease)


def test_every_number_carries_provenance():
    numbers = [c for c in nodes_of(packaged_terms(), Cites) if isinstance(c, Provenance)]
    assert len(numbers) > 50
    assert all(c.cite() for c in numbers)


def test_unknown_region_is_a_key_error_naming_the_known_ones():
    with pytest.raises(KeyError, match="liaoyang"):
        region_terms("atlantis")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('basis: {assumed: true, reason: "G-LY-7"}\n    bogus: 1', "bogus"),
        ("basis: {assumed: true}", "reason"),
    ],
)
def test_a_bad_terms_file_is_refused_with_a_path(change, message):
    text = packaged_text().replace(
        'basis:\n      assumed: true\n      reason: "no seed number: the Tongliao seed says '
        'nothing of institution payment; G-LY-7/8 apply"',
        change,
    )
    assert text != packaged_text()
    with pytest.raises(TermsError, match=message):
        parse_terms(text)


def test_a_number_without_provenance_is_refused():
    text = packaged_text().replace(
        '    share:\n      value: "0.10"\n      assumed: true\n      reason: "G-LY-8: 10% of each '
        'monthly payable is withheld as a quality deposit"\n',
        '    share:\n      value: "0.10"\n',
    )
    assert text != packaged_text()
    with pytest.raises(TermsError, match="exactly one of"):
        parse_terms(text)


def test_a_source_without_seed_is_refused():
    text = packaged_text().replace("        seed: 004_f5d95c9877c1e552.txt\n", "", 1)
    with pytest.raises(TermsError, match="needs `seed:`"):
        parse_terms(text)


def packaged_text() -> str:
    from importlib import resources

    return (resources.files("yibao.payment") / "terms.yaml").read_text("utf-8")
