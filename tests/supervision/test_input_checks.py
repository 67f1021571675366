"""What the supervision engine refuses: a claim given twice, two people under one id, a
table line given twice, a table column of the wrong type."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.supervision.cases import claim_file, flags, item, stay, visit
from yibao.engine.inputs import ClaimFile
from yibao.errors import InputError
from yibao.supervision.engine import claim_files_frames, supervise_parquet_files


def _files(*raw: dict) -> list[ClaimFile]:
    return [ClaimFile.model_validate(r) for r in raw]


def _two_stays() -> dict:
    return claim_file(
        [stay("A1", "2023-03-01", "2023-03-10"), stay("A2", "2023-03-25", "2023-03-30")]
    )


def test_a_claim_in_two_files_is_refused() -> None:
    # two monthly exports that overlap: counted twice, every line looked billed twice
    with pytest.raises(InputError) as err:
        claim_files_frames(_files(_two_stays(), _two_stays()), ["a.json", "b.json"])
    assert str(err.value).startswith(
        "b.json: claim A1 of person P1 is given twice (first in a.json)"
    )


def test_without_sources_the_files_are_numbered() -> None:
    with pytest.raises(InputError, match=r"^claim file 2: claim A1 of person P1 is given twice"):
        claim_files_frames(_files(_two_stays(), _two_stays()))


def test_one_person_in_two_monthly_files_is_one_person() -> None:
    march = claim_file([visit("M1", "2023-03-01", [item("S001", "25")])])
    april = claim_file([visit("M2", "2023-04-01", [item("S001", "25")])])
    persons, lines = claim_files_frames(_files(march, april))
    assert persons.height == 1 and lines.get_column("claim_id").to_list() == ["M1", "M2"]


def test_two_people_under_one_id_are_refused() -> None:
    # a Qingdao man and a Tongliao woman, both P001: once merged into one person with two
    # overlapping stays (a high-severity flag)
    man = claim_file([stay("Q1", "2023-03-01", "2023-03-10")], sex="M", pid="P001")
    woman = claim_file([stay("T1", "2023-03-05", "2023-03-08")], born="1980-02-02", pid="P001")
    woman["region"] = "tongliao"
    with pytest.raises(InputError) as err:
        claim_files_frames(_files(man, woman), ["q.json", "t.json"])
    assert str(err.value) == (
        "t.json: person P001 differs from the one in q.json (region tongliao vs qingdao, "
        "sex F vs M, birth_date 1980-02-02 vs 1970-05-01): two people under one id?"
    )
    assert flags(man) == []  # each alone is clean


@pytest.fixture
def tables(tmp_path: Path) -> tuple[Path, Path]:
    persons, lines = claim_files_frames(_files(_two_stays()))
    paths = tmp_path / "persons.parquet", tmp_path / "lines.parquet"
    persons.write_parquet(paths[0])
    lines.write_parquet(paths[1])
    return paths


def test_a_table_line_given_twice_is_refused(tables) -> None:
    persons, lines = tables
    table = pl.read_parquet(lines)
    pl.concat([table, table.tail(1)]).write_parquet(lines)
    with pytest.raises(InputError) as err:
        supervise_parquet_files(persons, lines)
    # A2: a bed on each of its 5 days, then the medicine (line 6)
    assert str(err.value) == f"{lines}: line 6 of claim A2 of person P1 is given twice"


def test_a_persons_table_with_two_people_under_one_id_is_refused(tables) -> None:
    persons, lines = tables
    table = pl.read_parquet(persons)
    pl.concat([table, table.with_columns(sex=pl.lit("M"))]).write_parquet(persons)
    with pytest.raises(InputError) as err:
        supervise_parquet_files(persons, lines)
    assert str(err.value) == (
        f"{persons}: person_id P1 is listed as different people (region, sex, birth_date: "
        "qingdao, F, 1970-05-01; qingdao, M, 1970-05-01): two people under one id?"
    )


@pytest.mark.parametrize(
    ("table", "column", "dtype", "expected"),
    [
        (1, "price_fen", pl.String, "column price_fen is String, expected an integer"),
        (1, "quantity", pl.String, "column quantity is String, expected a number"),
        (1, "item_date", pl.String, "column item_date is String, expected a date (Date)"),
        (0, "birth_date", pl.Int32, "column birth_date is Int32, expected a date (Date)"),
        (1, "diagnoses", pl.String, "column diagnoses is String, expected a list of text (String)"),
    ],
)
def test_a_column_of_the_wrong_type_names_table_column_and_type(
    tables, table, column, dtype, expected
) -> None:
    # once a 56-line polars traceback from deep inside a rule
    path = tables[table]
    frame = pl.read_parquet(path)
    if dtype == pl.String and isinstance(frame.schema[column], pl.List):
        frame = frame.with_columns(pl.col(column).list.join(","))
    frame.with_columns(pl.col(column).cast(dtype)).write_parquet(path)
    with pytest.raises(InputError) as err:
        supervise_parquet_files(*tables)
    assert str(err.value) == f"{path}: {expected}"


def test_narrower_integers_and_whole_quantities_are_read(tables) -> None:
    persons, lines = tables
    ints = {"price_fen": pl.Int32, "quantity": pl.Int16, "line_no": pl.Int64}
    pl.read_parquet(lines).drop("amount_fen", "quantity_text").cast(ints).write_parquet(lines)
    found = supervise_parquet_files(persons, lines)
    assert found.flags.get_column("rule").to_list() == ["split_hospitalization"]
