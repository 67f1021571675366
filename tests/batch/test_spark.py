"""`yibao batch --engine spark` in Spark local mode equals the polars engine, to the fen."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest
import typer

from tests.batch.population import population
from yibao.batch.output import RESULT_SCHEMA
from yibao.batch.run import run_batch
from yibao.batch.spark import PARTS_SUFFIX, run_spark_batch, spark_session
from yibao.cli.batch_cmd import run_batch_cmd
from yibao.errors import InputError
from yibao.synth.generate import Options, generate

JAVA = shutil.which("java") or (
    os.environ.get("JAVA_HOME")
    and shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin"))
)
pytestmark = pytest.mark.skipif(
    not JAVA, reason="Spark local mode needs Java (no `java` on PATH or in $JAVA_HOME/bin)"
)
KEY = ["person_id", "claim_id"]


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    """Hand-made persons over three regions (year boundaries, transfers, caps, fallbacks) and a
    `yibao synth` population of a fourth."""
    folder = tmp_path_factory.mktemp("spark_tables")
    persons, lines = population(["tongliao", "qingdao", "liaoyang"], 60, seed=7)
    synth_persons, synth_lines = generate(Options("fuxin", 150, 2024, seed=3))
    persons = pl.concat([persons, synth_persons.select(persons.columns).cast(persons.schema)])
    lines = pl.concat([lines, synth_lines.select(lines.columns).cast(lines.schema)])
    persons.write_parquet(folder / "persons.parquet")
    lines.write_parquet(folder / "claim_lines.parquet")
    return folder


@pytest.fixture(scope="module")
def polars_result(tables, tmp_path_factory):
    out = tmp_path_factory.mktemp("polars") / "out.parquet"
    summary = run_batch(tables, out, partitions=3, progress=None)
    return pl.read_parquet(out), summary


def test_spark_equals_polars_to_the_fen(spark, tables, polars_result, tmp_path):
    expected, polars_summary = polars_result
    out = tmp_path / "spark.parquet"
    summary = run_spark_batch(tables, out, partitions=5, spark=spark, progress=None, verify=10)
    result = pl.read_parquet(out)
    assert result.schema == pl.Schema(RESULT_SCHEMA)
    assert not (tmp_path / f"spark.parquet{PARTS_SUFFIX}").exists()
    assert result.height == expected.height > 0
    assert result.sort(KEY).equals(expected.sort(KEY))
    assert summary.claims == polars_summary.claims
    assert summary.persons == polars_summary.persons
    assert summary.columnar_claims == polars_summary.columnar_claims
    assert summary.fallback_claims == polars_summary.fallback_claims
    assert summary.fallback_persons == polars_summary.fallback_persons
    assert sorted(summary.errors) == sorted(polars_summary.errors)
    assert summary.notes and set(summary.notes) <= set(polars_summary.notes)
    assert summary.verified == 10 and summary.differences == []
    assert spark.sparkContext._jsc is not None  # a session given by the caller stays up


SEVEN_DECIMALS = """
region: tongliao
name: a ratio the columnar engine cannot scale
changes:
  schemes:
    resident:
      medical_assistance:
        programs:
          - id: tekun
            ratio: 0.9999999
"""


def test_spark_equals_polars_with_an_overlay_and_the_per_claim_fallback(spark, tables, tmp_path):
    """The overlay is read on the driver; the tasks run the per-claim engine for tongliao."""
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(SEVEN_DECIMALS, "utf-8")
    expected_out, out = tmp_path / "polars.parquet", tmp_path / "spark.parquet"
    expected = run_batch(tables, expected_out, (overlay,), partitions=2, progress=None)
    summary = run_spark_batch(tables, out, (overlay,), spark=spark, progress=None)
    assert expected.fallback_claims > 0 and expected.columnar_claims > 0
    assert summary.fallback_persons == expected.fallback_persons
    assert summary.fallback_claims == expected.fallback_claims
    result, wanted = pl.read_parquet(out), pl.read_parquet(expected_out)
    assert result.sort(KEY).equals(wanted.sort(KEY))


def test_spark_keeps_part_files_when_asked(spark, tables, polars_result, tmp_path):
    expected, _ = polars_result
    out = tmp_path / "parts"
    run_spark_batch(tables, out, partitions=2, spark=spark, progress=None, single_file=False)
    result = pl.read_parquet(out / "*.parquet").cast(RESULT_SCHEMA)
    assert result.sort(KEY).equals(expected.sort(KEY))


def test_cli_dispatches_engine_spark(spark, tables, polars_result, tmp_path, capsys):
    """`--engine spark` through the command (the session above is reused by getOrCreate)."""
    expected, _ = polars_result
    out = tmp_path / "cli.parquet"
    run_batch_cmd(str(tables), str(out), engine="spark", partitions=2, verify=5)
    assert pl.read_parquet(out).sort(KEY).equals(expected.sort(KEY))
    err = capsys.readouterr().err
    assert "verify: 5 persons" in err and "equal to the fen" in err


def test_a_missing_table_exits_2_before_spark_starts(tmp_path, capsys):
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(str(tmp_path), str(tmp_path / "o.parquet"), engine="spark")
    assert exit_info.value.exit_code == 2
    assert "needs persons.parquet" in capsys.readouterr().err


def test_spark_reports_what_polars_reports_not_settled(spark, tables, tmp_path):
    # lines of a person missing from the persons table, and an overlay for a region absent
    # from the data: Spark counts and refuses them as the polars engine does
    folder = tmp_path / "tables"
    folder.mkdir()
    persons = pl.read_parquet(tables / "persons.parquet")
    gone = persons.item(0, "person_id")
    persons.filter(pl.col("person_id") != gone).write_parquet(folder / "persons.parquet")
    shutil.copy(tables / "claim_lines.parquet", folder / "claim_lines.parquet")
    expected = run_batch(folder, tmp_path / "polars.parquet", partitions=2, progress=None)
    summary = run_spark_batch(
        folder, tmp_path / "spark.parquet", partitions=3, spark=spark, progress=None
    )
    assert summary.unknown_persons == expected.unknown_persons
    assert list(summary.unknown_persons) == [gone] and not summary.all_settled
    overlay = tmp_path / "erenhot.yaml"
    overlay.write_text("region: erenhot\nchanges: {}\n", "utf-8")
    with pytest.raises(InputError, match="no person in the data is in"):
        run_spark_batch(folder, tmp_path / "o.parquet", (overlay,), spark=spark, progress=None)
    assert not (tmp_path / "o.parquet").exists()
