"""Every quoted source in every packaged policy is an exact substring of its seed file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.seeds import SEEDS
from yibao.policy.checks import citation_problems, known_ids
from yibao.policy.loader import fill_seed, fill_seeds, load_region, packaged_regions
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


PACKAGE = Path(__file__).resolve().parents[2] / "src" / "yibao"


@pytest.mark.parametrize(
    "file", sorted(PACKAGE.rglob("*.yaml")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_every_rule_and_gap_id_cited_in_a_packaged_yaml_exists(file):
    """A `rule:` is a rule of policy-facts.md, a `G-…` reason a gap of it or of docs/gaps.md
    (TL-99 or G-TL-99 used to load), and each quote is verbatim in its seed."""
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    raw = yaml.safe_load(file.read_text("utf-8"))
    if isinstance(raw, dict) and "seed" in raw:
        fill_seed(raw, raw["seed"])
    else:
        raw = fill_seeds(raw)
    region_file = file.parent.name == "regions"
    assert citation_problems(raw, known_ids(SEEDS), region_file) == []
