"""Every quoted source in every packaged policy is an exact substring of its seed file."""

from __future__ import annotations

import pytest

from tests.seeds import SEEDS
from yibao.policy.loader import load_region, packaged_regions
from yibao.policy.provenance import Cites, Source, nodes_of


@pytest.mark.parametrize("region", packaged_regions())
def test_every_quote_is_verbatim_in_its_seed(region):
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    policy = load_region(region)
    sources = nodes_of(policy, Source, [])
    assert sources, "a region policy must quote its seed at least once"
    for source in sources:
        text = (SEEDS / source.seed).read_text("utf-8")
        assert source.quote in text, f"{source.rule}: {source.quote!r} not in {source.seed}"


@pytest.mark.parametrize("region", packaged_regions())
def test_assumptions_name_a_gap_and_sources_name_a_rule_of_the_region(region):
    policy = load_region(region)
    prefix = {"tongliao": "TL", "qingdao": "QD", "fuxin": "FX", "erenhot": "EH", "liaoyang": "LY"}[
        region
    ]
    for node in nodes_of(policy, Cites, []):
        if node.assumed:
            assert node.reason and node.reason.startswith("G-"), node.reason
        for source in node.sources:
            assert source.rule.startswith(prefix), source.rule


@pytest.mark.parametrize("region", packaged_regions())
def test_newest_version_is_in_force_through_2026(region):
    import datetime as dt

    policy = load_region(region)
    assert policy.versions[-1].valid_to is None
    assert policy.version_on(dt.date(2026, 12, 31)) is policy.versions[-1]
    if region == "liaoyang":  # undated seed: in force no later than 2010-01-01
        assert policy.versions[0].valid_from <= dt.date(2010, 1, 1)
