"""The columnar engine equals the per-claim engine to the fen, in every region: seeded
populations (year boundaries, transfers, categories, caps) and hypothesis claim files."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.batch.equality import REGIONS, assert_same, frames
from tests.batch.population import population
from tests.engine.strategies import claim_files


@pytest.mark.parametrize("region", REGIONS)
def test_seeded_population_settles_columnar_and_equal(region):
    persons, lines = population([region], 150, seed=7)
    result = assert_same(persons, lines)
    assert result.fallback_claims == 0 and result.columnar_claims == result.rows.height
    assert result.rows.height > 800


def test_mixed_regions_in_one_partition():
    persons, lines = population(REGIONS, 40, seed=11)
    result = assert_same(persons, lines)
    assert result.rows.get_column("region").n_unique() == len(REGIONS)


def _with_ids(files: list[dict]) -> list[dict]:
    return [{**f, "person": {**f["person"], "id": f"P{i}"}} for i, f in enumerate(files)]


@pytest.mark.parametrize("region", REGIONS)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_hypothesis_claim_files_equal(region, data):
    files = data.draw(st.lists(claim_files(region), min_size=1, max_size=12))
    persons, lines = frames(_with_ids(files))
    assert_same(persons, lines)
