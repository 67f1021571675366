"""Supervision by person partitions gives exactly the flags and institution indicators of one
pass over everything, whatever the partition size, in memory or from Parquet."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from yibao.supervision.engine import (
    person_ranges,
    prepare,
    supervise_all,
    supervise_parquet_files,
    supervise_pass,
)
from yibao.supervision.institutions import combine, indicators, partial
from yibao.supervision.params import rules_for
from yibao.synth.generate import Options, generate

RULE = rules_for("qingdao")["institution_outlier"]


@pytest.fixture(scope="module")
def tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    # Qingdao with planted fraud: every person-level rule fires somewhere
    return generate(Options("qingdao", 3000, 2023, 11, 0.08))


@pytest.fixture(scope="module")
def whole(tables):
    return supervise_pass(*tables, partition_lines=0)


def _same(one, other) -> None:
    assert_frame_equal(one.flags, other.flags)
    assert one.indicators.keys() == other.indicators.keys()
    for region, table in one.indicators.items():
        assert_frame_equal(table, other.indicators[region])
    assert_frame_equal(one.institution_flags, other.institution_flags)


@pytest.mark.parametrize("size", [2_000, 7_919, 25_000])
def test_partitions_give_the_same_flags(tables, whole, size) -> None:
    persons, lines = tables
    assert whole.flags.height > 300 and whole.flags["rule"].n_unique() >= 12
    assert len(person_ranges(persons, lines.height, size)) == -(-lines.height // size)
    _same(supervise_pass(persons, lines, partition_lines=size), whole)


def test_parquet_partitions_give_the_same_flags(tables, whole, tmp_path) -> None:
    persons, lines = tables
    persons.write_parquet(tmp_path / "persons.parquet")
    lines.write_parquet(tmp_path / "lines.parquet", row_group_size=5_000)
    found = supervise_parquet_files(
        str(tmp_path / "persons.parquet"), str(tmp_path / "lines.parquet"), 4_000
    )
    _same(found, whole)


def test_supervise_all_is_the_pass(tables, whole) -> None:
    flags, by_institution = supervise_all(*tables, partition_lines=3_000)
    assert_frame_equal(flags, whole.flags)
    assert_frame_equal(by_institution, whole.institution_flags)


def test_person_ranges_cover_every_person_once() -> None:
    persons = pl.DataFrame({"person_id": [f"P{i:03d}" for i in range(10)]})
    assert person_ranges(persons, 100, 0) == [(None, None)]
    assert person_ranges(persons, 100, 1_000) == [(None, None)]
    ranges = person_ranges(persons, 100, 30)  # ceil(100 / 30) = 4 partitions
    assert ranges == [(None, "P002"), ("P002", "P005"), ("P005", "P007"), ("P007", None)]
    # more partitions than persons: one person each at most
    assert len(person_ranges(persons, 100, 1)) == 10


@settings(max_examples=15, deadline=None)
@given(groups=st.lists(st.integers(0, 3), min_size=60, max_size=60))
def test_institution_sums_add_up_over_any_split_of_the_persons(tables, groups) -> None:
    # identity: combine(partials of disjoint person sets) == indicators of all of them
    persons, lines = tables
    persons = persons.head(60)
    prepared = prepare(persons, lines.join(persons.select("person_id"), on="person_id"))
    split = pl.DataFrame({"person_id": persons["person_id"], "g": groups})
    prepared = prepared.join(split, on="person_id", maintain_order="left")
    parts = [partial(prepared.filter(pl.col("g") == g), RULE) for g in sorted(set(groups))]
    assert_frame_equal(combine(parts), indicators(prepared, RULE))


def test_a_person_listed_twice_raises_no_flag_of_its_own(tables, whole) -> None:
    # a doubled persons row once doubled that person's lines in the join: false 重复收费
    persons, lines = tables
    doubled = pl.concat([persons, persons.head(3)])
    _same(supervise_pass(doubled, lines, partition_lines=0), whole)
