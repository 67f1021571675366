"""Writing Parquet and JSON Lines: exact schemas, the same claims either way, nothing half-done."""

from __future__ import annotations

import polars as pl
import pytest

from yibao.batch.tables import LINES_SCHEMA, PERSONS_SCHEMA, frames_to_claim_files
from yibao.claimfile import parse_claim_files
from yibao.errors import InputError
from yibao.synth import Generator, Options
from yibao.synth.output import write


def _generator(**change) -> Generator:
    options = {"region": "qingdao", "persons": 500, "year": 2023, "seed": 12, "fraud_rate": 0.03}
    return Generator(Options(**{**options, "chunk_size": 400, **change}))


def test_parquet_tables_have_the_contract_schemas(tmp_path):
    summary = write(_generator(), tmp_path / "out", "parquet")
    persons = pl.read_parquet(tmp_path / "out" / "persons.parquet")
    lines = pl.read_parquet(tmp_path / "out" / "claim_lines.parquet")
    assert dict(persons.schema) == PERSONS_SCHEMA
    assert dict(lines.schema) == LINES_SCHEMA
    assert (persons.height, lines.height) == (summary.persons, summary.lines) == (500, lines.height)
    assert persons["person_id"].is_sorted() and persons["person_id"].is_unique().all()
    assert lines.select(pl.struct("person_id", "claim_id", "line_no").is_unique().all()).item()


def test_jsonl_holds_the_same_claim_files_as_parquet(tmp_path):
    write(_generator(), tmp_path / "p", "parquet")
    write(_generator(chunk_size=250), tmp_path / "j", "jsonl")
    persons = pl.read_parquet(tmp_path / "p" / "persons.parquet")
    lines = pl.read_parquet(tmp_path / "p" / "claim_lines.parquet")
    from_tables = frames_to_claim_files(persons, lines)
    from_jsonl = parse_claim_files(str(tmp_path / "j" / "claims.jsonl"))
    assert from_jsonl == from_tables
    assert len({cf.person.id for cf in from_jsonl}) == len(from_jsonl)
    labels = pl.read_csv(tmp_path / "j" / "fraud_labels.csv")
    labelled = lines.filter(pl.col("fraud_label").is_not_null())
    assert labels.height == labelled.height
    assert set(labels["fraud_label"]) == set(labelled["fraud_label"])


def test_jsonl_prices_are_yuan_strings(tmp_path):
    write(_generator(persons=50, fraud_rate=0.0), tmp_path, "jsonl")
    first = (tmp_path / "claims.jsonl").read_text("utf-8").splitlines()[0]
    assert '"price":"' in first and '"account_balance":"' in first
    assert not (tmp_path / "fraud_labels.csv").exists()


def test_a_failure_leaves_no_output(tmp_path, monkeypatch):
    generator = _generator()

    def broken():
        yield generator.chunk(0, 400)
        raise RuntimeError("disk full")

    monkeypatch.setattr(generator, "chunks", broken)
    with pytest.raises(RuntimeError):
        write(generator, tmp_path / "out", "parquet")
    assert list(tmp_path.iterdir()) == []


def test_rewriting_replaces_the_files(tmp_path):
    write(_generator(persons=300), tmp_path, "jsonl")
    assert (tmp_path / "fraud_labels.csv").exists()
    write(_generator(persons=30, fraud_rate=0.0), tmp_path, "jsonl")
    assert not (tmp_path / "fraud_labels.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["claims.jsonl"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"region": "atlantis"}, "region: unknown region 'atlantis'"),
        ({"year": 2016, "region": "tongliao"}, "year: tongliao has no policy in force in 2016"),
        ({"year": 2021, "region": "erenhot"}, "year: erenhot has no policy in force in 2021"),
        ({"year": 1066}, "year: must be between"),
        ({"persons": 0}, "persons: must be between 1"),
        ({"seed": -1}, "seed: must be between 0"),
        ({"chunk_size": 0}, "chunk-size: must be >= 1"),
    ],
)
def test_bad_options_are_one_line_errors(change, message):
    with pytest.raises(InputError) as caught:
        _generator(**change)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_bad_format_and_file_as_out(tmp_path):
    with pytest.raises(InputError, match="format: must be parquet or jsonl"):
        write(_generator(persons=5), tmp_path, "csv")
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InputError, match="is not a directory"):
        write(_generator(persons=5), target, "parquet")


def test_switching_format_removes_the_other_formats_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")  # not synth's: kept
    write(_generator(persons=300), tmp_path, "parquet")
    write(_generator(persons=300), tmp_path, "jsonl")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["claims.jsonl", "fraud_labels.csv", "notes.txt"]
    write(_generator(persons=30, fraud_rate=0.0), tmp_path, "parquet")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["claim_lines.parquet", "notes.txt", "persons.parquet"]
