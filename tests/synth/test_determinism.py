"""The same seed gives the same data, whatever the chunk size; another seed other data."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from tests.synth.conftest import population
from yibao.batch.tables import LINES_SCHEMA, PERSONS_SCHEMA


def test_same_seed_same_tables():
    first = population("qingdao", 2023, 1200, 9, 0.05)
    again = population.__wrapped__("qingdao", 2023, 1200, 9, 0.05)
    assert_frame_equal(first[0], again[0])
    assert_frame_equal(first[1], again[1])


@pytest.mark.parametrize("chunk", [1, 317, 700])
def test_chunk_size_does_not_change_the_data(chunk):
    persons = 1200 if chunk > 1 else 15
    whole = population("qingdao", 2023, persons, 9, 0.05)
    chunked = population("qingdao", 2023, persons, 9, 0.05, chunk)
    assert_frame_equal(whole[0], chunked[0])
    assert_frame_equal(whole[1], chunked[1])


def test_another_seed_gives_other_data():
    one = population("qingdao", 2023, 500, 1)
    two = population("qingdao", 2023, 500, 2)
    assert not one[0].equals(two[0])
    assert not one[1].equals(two[1])


def test_regions_and_years_are_not_copies_of_each_other():
    tongliao = population("tongliao", 2020, 300, 4)[0]
    fuxin = population("fuxin", 2020, 300, 4)[0]
    later = population("tongliao", 2021, 300, 4)[0]
    assert tongliao["birth_date"].to_list() != fuxin["birth_date"].to_list()
    assert tongliao["sex"].to_list() != later["sex"].to_list()


def test_schemas_are_exactly_the_table_contract():
    persons, lines = population("qingdao", 2023, 300, 3, 0.05)
    assert dict(persons.schema) == PERSONS_SCHEMA
    assert dict(lines.schema) == LINES_SCHEMA
