"""The shortcuts that make the columnar engine fast give exactly what the plain expression
they replace gives: positional lookups, integer window keys, adjacent-row tests, the writer
and the ordered thread pool."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from tests.batch.population import population
from yibao.batch.buckets import BUCKETS, claim_totals
from yibao.batch.exact import SCALE, ratio4_text
from yibao.batch.matching import computed_where
from yibao.batch.prepare import _by_run, _persons, _runs, _second_version
from yibao.batch.run import SETTLED_PERSON_COLUMNS, Tables, in_order, run_batch
from yibao.batch.running import cumulative, year_window
from yibao.batch.settle import with_totals
from yibao.batch.tables import PERSONS_SCHEMA
from yibao.money import ratio4

rows = st.lists(
    st.tuples(st.integers(0, 3), st.integers(-5, 40), st.sampled_from(["11", "14", "21"])),
    max_size=60,
)


@given(rows)
def test_computed_where_equals_when_then(data):
    frame = pl.DataFrame(
        data, schema={"py": pl.UInt32, "x": pl.Int64, "med_type": pl.String}, orient="row"
    )
    where = pl.col("med_type") == "14"
    columns = {"y": pl.col("x") * 3 - 7, "z": pl.col("x").abs()}
    got = computed_where(frame.lazy(), where, columns, -1).collect()
    expected = frame.with_columns(
        pl.when(where).then(expr).otherwise(-1).alias(name) for name, expr in columns.items()
    )
    assert got.equals(expected)


@given(st.lists(st.tuples(st.integers(0, 4), st.none() | st.integers(0, 3)), max_size=80))
def test_year_window_groups_as_the_two_columns_do(data):
    """cum_sum over one combined integer key = over (person-year, part), nulls included."""
    frame = pl.DataFrame(
        [(py, part, k) for k, (py, part) in enumerate(data)],
        schema={"py": pl.UInt32, "part": pl.Int64, "x": pl.Int64},
        orient="row",
    ).sort("py", maintain_order=True)
    with_key = frame.with_columns(year_window(pl.col("part")).alias("win"))
    got = with_key.select(cumulative(pl.col("x"), ["win"]).alias("c"))
    expected = frame.select(pl.col("x").cum_sum().over(["py", "part"]).alias("c"))
    assert got.equals(expected)


def test_ratio_texts_are_money_ratio4():
    """Every ratio in [0, 1] at a millionth's step near each ten-thousandth boundary."""
    scaled = sorted({t * 100 + d for t in range(10_001) for d in (-51, -50, -49, 0, 49, 50)})
    scaled = [s for s in scaled if 0 <= s <= SCALE]
    texts = pl.DataFrame({"r": scaled}).select(ratio4_text(pl.col("r"))).to_series()
    assert texts.to_list() == [str(ratio4(Decimal(s) / SCALE)) for s in scaled]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["P1", "P2", "P3"]),
            st.sampled_from([2022, 2023]),
            st.sampled_from(["v1", "v2", None]),
        ),
        max_size=40,
    )
)
def test_second_version_marks_the_persons_n_unique_would(data):
    claims = pl.DataFrame(
        data, schema={"pid": pl.String, "year": pl.Int32, "version": pl.String}, orient="row"
    ).sort("pid", "year", maintain_order=True)
    got = set(claims.filter(_second_version()).get_column("pid").to_list())
    two = pl.col("version").n_unique().over(["pid", "year"]) > 1
    assert got == set(claims.filter(two).get_column("pid").to_list())


def test_totals_line_up_by_position_or_join():
    claims = pl.DataFrame({"ck": pl.Series([0, 1, 2], dtype=pl.UInt32), "a": [1, 2, 3]})
    totals = pl.DataFrame({"ck": pl.Series([2, 0, 1], dtype=pl.UInt32), "medfee": [30, 10, 20]})
    assert with_totals(claims, totals)["medfee"].to_list() == [10, 20, 30]
    fewer = claims.filter(pl.col("ck") != 1)  # a person dropped: the join lines them up
    assert with_totals(fewer, totals)["medfee"].to_list() == [10, 30]


def test_in_order_yields_in_order_with_two_threads():
    seen = []

    def work(k: int) -> int:
        time.sleep(0.05 if k % 2 == 0 else 0)  # the odd ones finish first
        seen.append(threading.get_ident())
        return k

    assert list(in_order(work, 7, 2)) == list(range(7))
    assert len(set(seen)) == 2


def test_persons_without_the_optional_columns(tmp_path):
    """A persons table written before the supervision columns existed still settles."""
    folder = tmp_path
    persons, lines = population(["erenhot"], 30, seed=3)
    optional = [c for c in PERSONS_SCHEMA if c not in SETTLED_PERSON_COLUMNS]
    persons.drop(optional).write_parquet(folder / "persons.parquet")
    lines.write_parquet(folder / "claim_lines.parquet")
    assert Tables(folder).persons.collect_schema().names() == list(PERSONS_SCHEMA)
    summary = run_batch(folder, folder / "out.parquet", verify=10, progress=None)
    assert summary.claims > 0 and summary.differences == []


def _buckets(ck: list[int]) -> pl.DataFrame:
    values = {
        b: pl.Series([(k + 1) * (i + 2) for k in range(len(ck))], dtype=pl.Int64)
        for i, b in enumerate(BUCKETS)
    }
    return pl.DataFrame({"ck": pl.Series(ck, dtype=pl.UInt32), **values})


def test_claim_totals_by_runs_equal_the_group_by():
    for ck in ([0, 0, 1, 2, 2, 2], [2, 0, 0, 1], [1, 0, 1, 2], [3], []):
        lines = _buckets(ck)
        expected = lines.group_by("ck").agg(pl.col(b).sum() for b in BUCKETS).sort("ck")
        assert claim_totals(lines).sort("ck").equals(expected)


def test_persons_by_position_equal_the_join():
    persons, lines = population(["erenhot"], 25, seed=11)
    first = _runs(lines.sort("person_id", "claim_id", "line_no")).filter("lk_start")
    people = _persons(persons.sort("person_id"))
    joined = first.select("person_id").join(
        people, left_on="person_id", right_on="pid", how="left", maintain_order="left"
    )
    rows = _by_run(first, people)
    assert rows is not None
    assert people.gather(rows).drop("pid").equals(joined.drop("person_id"))
    assert _by_run(first, _persons(persons.sort("person_id", descending=True))) is None
    twice = _persons(pl.concat([persons, persons.head(1)]).sort("person_id"))
    assert _by_run(first, twice) is None


def test_row_slices_hold_each_person_once(tmp_path):
    """Sorted lines are read as row slices cut where the person changes; the persons too when
    sorted, by a filter when not. Every person and line lands in exactly one partition."""
    persons, lines = population(["erenhot", "tongliao"], 30, seed=9)
    lines = lines.sort("person_id", "claim_id", "line_no")
    shuffled = persons.sample(fraction=1.0, shuffle=True, seed=1)
    for people, sliced in ((persons.sort("person_id"), True), (shuffled, False)):
        people.write_parquet(tmp_path / "persons.parquet")
        lines.write_parquet(tmp_path / "claim_lines.parquet", row_group_size=50)
        tables = Tables(tmp_path)
        for parts in (2, 3, 7):
            held = [tables.partition(k, parts) for k in range(parts)]
            assert tables._slices[1][0] is not None
            assert (tables._slices[1][1] is not None) == sliced
            pids = pl.concat([p.get_column("person_id") for p, _ in held])
            assert pids.sort().equals(people.get_column("person_id").sort())
            read = pl.concat([frame for _, frame in held])
            assert read.equals(lines.cast(dict(read.schema)))
            for p, frame in held:
                assert (
                    frame.get_column("person_id").is_in(p.get_column("person_id").implode()).all()
                )
