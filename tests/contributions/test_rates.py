"""The contribution policy files: every quote verbatim in its seed, every number cited,
dated values contiguous, and a bad file refused at load with its path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.seeds import SEEDS
from yibao.contributions.load import contribution_regions, load_rates, parse_rates
from yibao.contributions.schema import RateError, in_force
from yibao.policy.loader import PolicyError
from yibao.policy.provenance import Cites, Provenance, Source, nodes_of

PREFIX = {"tongliao": "TL", "qingdao": "QD", "fuxin": "FX", "erenhot": "EH", "liaoyang": "LY"}


def test_every_region_has_a_contribution_file():
    assert contribution_regions() == sorted(PREFIX)


@pytest.mark.parametrize("region", sorted(PREFIX))
def test_every_quote_is_verbatim_in_its_seed(region):
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    sources = nodes_of(load_rates(region), Source, [])
    assert sources, "a contribution file must quote its seed at least once"
    for source in sources:
        text = (SEEDS / source.seed).read_text("utf-8")
        assert source.quote in text, f"{source.rule}: {source.quote!r} not in {source.seed}"


@pytest.mark.parametrize("region", sorted(PREFIX))
def test_every_number_is_cited_or_assumed_with_a_gap_of_the_region(region):
    numbers = nodes_of(load_rates(region), Provenance, [])
    assert numbers
    for node in nodes_of(load_rates(region), Cites, []):
        if node.assumed:
            assert node.reason and node.reason.startswith(f"G-{PREFIX[region]}-"), node.reason
        for source in node.sources:
            assert source.rule.startswith(PREFIX[region]), source.rule
    for node in numbers:  # a Provenance always has exactly one kind
        assert node.assumed or node.sources


def test_qingdao_cut_window_dates_are_flagged_as_assumed():
    cut = load_rates("qingdao").employee.employer_rate_cuts[0]
    assert (cut.effective_from, cut.effective_to) == (dt.date(2021, 5, 1), dt.date(2022, 12, 31))
    assert cut.value == Decimal("-0.01") and cut.sources[0].rule == "QD-08"
    assert cut.dates_reason == "G-QD-2"


def test_erenhot_retiree_rate_switches_on_2023_01_01():
    timeline = load_rates("erenhot").accounts.retiree_rate
    assert in_force(timeline, dt.date(2022, 12, 31), "x").value == Decimal("0.03")
    assert in_force(timeline, dt.date(2023, 1, 1), "x").value == Decimal("0.02")
    with pytest.raises(RateError, match="no value in force on 2022-09-30"):
        in_force(timeline, dt.date(2022, 9, 30), "accounts.retiree_rate")


GOOD_HEAD = "region: x\nname: x\nseed: 003_4bef5791700317d1.txt\ndescription: x\n"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "employee:\n  employer_rate:\n"
            "    - {effective_from: 2020-01-01, effective_to: 2020-12-31, value: 0.08,"
            " assumed: true, reason: G-X-1}\n"
            "    - {effective_from: 2020-06-01, value: 0.07, assumed: true, reason: G-X-1}\n"
            "  personal_rate:\n    - {effective_from: 2020-01-01, value: 0.02, assumed: true,"
            " reason: G-X-1}\n",
            "overlaps",
        ),
        (
            "employee:\n  employer_rate:\n    - {effective_from: 2020-01-01, value: 0.08}\n"
            "  personal_rate:\n    - {effective_from: 2020-01-01, value: 0.02, assumed: true,"
            " reason: G-X-1}\n",
            "needs exactly one of",
        ),
        (
            "employee:\n  employer_rate:\n    - {effective_from: 2020-01-01, value: 1.5,"
            " assumed: true, reason: G-X-1}\n  personal_rate: []\n",
            "between 0 and 1",
        ),
    ],
)
def test_a_bad_file_is_refused_with_its_path(body, reason):
    with pytest.raises(PolicyError, match=reason) as caught:
        parse_rates(GOOD_HEAD + body, "bad.yaml")
    assert str(caught.value).startswith("bad.yaml: employee.")
