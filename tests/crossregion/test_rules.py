"""The packaged cross-region rules: every quote verbatim in its seed, every assumption named."""

from __future__ import annotations

import pytest

from tests.seeds import SEEDS
from yibao.crossregion.rules import RulesError, load_rules, parse_rules
from yibao.policy.provenance import Cites, Source, nodes_of


def test_every_quote_is_verbatim_in_its_seed():
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    sources = nodes_of(load_rules(), Source, [])
    assert len(sources) >= 10
    for source in sources:
        text = (SEEDS / source.seed).read_text("utf-8")
        assert source.quote in text, f"{source.rule}: {source.quote!r} not in {source.seed}"


def test_every_assumption_names_a_gap_or_says_there_is_none():
    for node in nodes_of(load_rules(), Cites, []):
        if node.assumed:
            assert node.reason.startswith("G-") or node.reason.startswith("no gap id"), node


def test_filing_kinds_and_their_referral_effect():
    kinds = load_rules().filing.kinds
    assert {k: v.counts_as_referral.value for k, v in kinds.items()} == {
        "residence": True,
        "referral": True,
        "temporary": False,
    }
    assert load_rules().filing.unfiled_counts_as_referral.value is False


def test_a_value_without_provenance_is_refused():
    text = (
        "settlement: {catalogue_from: {value: [treating]}, benefits_from: {value: [insured],"
        " assumed: true, reason: x},"
        " marks_out_of_region: {value: true, assumed: true, reason: x}}\n"
        "filing: {kinds: {},"
        " unfiled_counts_as_referral: {value: false, assumed: true, reason: x}}\n"
        "clearing: {amount: {value: [a], assumed: true, reason: x},"
        " period: {value: [m], assumed: true, reason: x}}\n"
        "benchmarks: []\n"
    )
    with pytest.raises(RulesError, match=r"settlement\.catalogue_from"):
        parse_rules(text)
