"""`yibao batch --engine spark` in Spark local mode equals the polars engine, to the fen."""

from __future__ import annotations

import _thread
import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import polars as pl
import pytest
import typer

from tests.batch.equality import frames
from tests.batch.population import population
from tests.helpers import claim, item, person
from yibao.batch.output import RESULT_SCHEMA
from yibao.batch.run import run_batch
from yibao.batch.spark import (
    INTERRUPTED,
    PARTS_SUFFIX,
    SparkJobs,
    _sigint_raises,
    failure_line,
    run_spark_batch,
    spark_session,
)
from yibao.batch.spark import main as spark_main
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


def _tiny(folder: Path, lines_as=lambda lines: lines, persons_as=lambda persons: persons) -> Path:
    """Three Tongliao residents of one stay each (`lines_as` / `persons_as` change the rows)."""
    stay = claim(
        "C1",
        "2021-03-10",
        "21",
        level=2,
        admit_date="2021-03-01",
        discharge_date="2021-03-10",
        diagnoses=["I63.9"],
        items=[item("300", code="S008"), item("20", code="S011", quantity=10)],
    )
    files = [
        {
            "region": "tongliao",
            "person": {**person(birth_date="1960-05-01"), "id": pid},
            "claims": [stay],
        }
        for pid in ("TL-1", "TL-2", "TL-3")
    ]
    persons, lines = frames(files)
    folder.mkdir()
    persons_as(persons).write_parquet(folder / "persons.parquet")
    lines_as(lines).write_parquet(folder / "claim_lines.parquet")
    return folder


def test_spark_refuses_a_null_line_no_and_a_shared_claim_id_as_polars_does(spark, tmp_path):
    # a null line_no failed a Spark task (gather out of bounds, 320 lines of traceback); a
    # claim_id shared by two claims settled them as one; spark-submit exited 0 either way
    def broken(lines: pl.DataFrame) -> pl.DataFrame:
        pid, first = pl.col("person_id"), pl.col("line_no") == 1
        shared = lines.filter(pid == "TL-2").with_columns(date=pl.date(2021, 6, 5), line_no=3)
        lines = pl.concat([lines, shared]).sort("person_id", "claim_id", "line_no")
        return lines.with_columns(
            pl.when((pid == "TL-1") & first).then(None).otherwise("line_no").alias("line_no")
        )

    folder = _tiny(tmp_path / "tables", broken)
    expected = run_batch(folder, tmp_path / "polars.parquet", progress=None)
    summary = run_spark_batch(folder, tmp_path / "spark.parquet", spark=spark, progress=None)
    assert summary.errors == sorted(expected.errors)
    assert [pid for pid, _ in summary.errors] == ["TL-1", "TL-2"]
    assert "claim C1: line_no: must not be null" in summary.errors[0][1]
    assert "claim C1: date: its lines disagree" in summary.errors[1][1]
    assert summary.claims == expected.claims == 1
    assert spark_main([str(folder), "--out", str(tmp_path / "main.parquet")]) == 1


def test_spark_reads_a_uri_folder_as_it_reads_a_local_one(spark, tmp_path):
    # by URI, the tables skipped the column checks (a float price_fen of x.5 was cut to x)
    # and a table without the optional fraud_label failed with UNRESOLVED_COLUMN
    folder = _tiny(
        tmp_path / "nofraud",
        lambda lines: lines.drop("fraud_label"),
        lambda persons: persons.drop("death_date", "enrolled_until"),
    )
    expected = run_batch(folder, tmp_path / "polars.parquet", progress=None)
    out = tmp_path / "spark.parquet"
    summary = run_spark_batch(f"file://{folder}", f"file://{out}", spark=spark, progress=None)
    assert summary.all_settled and summary.claims == expected.claims == 3
    assert (
        pl.read_parquet(out)
        .sort(KEY)
        .equals(pl.read_parquet(tmp_path / "polars.parquet").sort(KEY))
    )
    floats = _tiny(tmp_path / "floats", lambda lines: lines.with_columns(pl.col("price_fen") + 0.5))
    message = "claim_lines.parquet: price_fen: must be an integer column (Int64), not Float64"
    for directory in (floats, f"file://{floats}"):
        with pytest.raises(InputError, match=re.escape(message)):
            run_spark_batch(directory, f"file://{tmp_path}/o.parquet", spark=spark, progress=None)


def test_a_failed_spark_run_is_one_line_and_leaves_no_staging_directory(spark, tmp_path, capsys):
    # a task's error printed hundreds of lines of Py4J and Java stack and left
    # OUT.parquet.parts/ behind; the polars engine refuses the same column in one line
    level = pl.Series("hospital_level", ["2", "x"], pl.String)
    folder = _tiny(
        tmp_path / "tables",
        lambda lines: lines.with_columns(level.extend_constant("2", lines.height - 2)),
    )
    out = tmp_path / "o.parquet"
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(str(folder), str(out), engine="spark", partitions=2)
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: spark: a task failed: polars.exceptions.InvalidOperationError")
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() and not Path(f"{out}{PARTS_SUFFIX}").exists()


def test_an_interrupted_spark_run_exits_130_and_leaves_no_staging_directory(
    spark, tmp_path, capsys, monkeypatch
):
    folder = _tiny(tmp_path / "tables")
    out = tmp_path / "o.parquet"
    staged = []

    def interrupted(parts: str, target: str) -> None:
        staged.append(Path(parts).is_dir())
        raise KeyboardInterrupt

    monkeypatch.setattr("yibao.batch.spark.merge_parts", interrupted)
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(str(folder), str(out), engine="spark")
    assert exit_info.value.exit_code == 130 and staged == [True]
    assert capsys.readouterr().err.strip() == f"error: {INTERRUPTED}"
    assert not out.exists() and not Path(f"{out}{PARTS_SUFFIX}").exists()


def test_ctrl_c_cancels_the_runs_spark_jobs(spark):
    """SIGINT during a job (a task sleeping 60 s) raises KeyboardInterrupt on the waiting
    thread and cancels the job, instead of PySpark's handler calling the JVM from inside an
    interrupted Py4J call (screens of Py4J tracebacks)."""
    from pyspark.sql import functions as F

    jobs = SparkJobs(spark)
    tracker = spark.sparkContext.statusTracker()

    def running() -> set[int]:
        return set(tracker.getJobIdsForGroup(jobs.group)) & set(tracker.getActiveJobsIds())

    def interrupt_when_running() -> None:
        while not running():
            time.sleep(0.05)
        _thread.interrupt_main(signal.SIGINT)

    sleep = F.udf(lambda seconds: time.sleep(seconds), "string")(F.lit(60.0))
    threading.Thread(target=interrupt_when_running, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), _sigint_raises():
        jobs.run(lambda: spark.range(1).select(sleep).collect())
    assert time.monotonic() - started < 30 and not running()


def test_failure_line_is_a_tasks_exception_line():
    text = (
        "An exception was thrown from the Python worker:\nTraceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n    g()\nValueError: bad\n\nThis error occurred in …'
    )
    assert failure_line(Exception(text)) == "spark: a task failed: ValueError: bad"
    java = "An error occurred while calling o12.parquet.\n: org.apache.spark.SparkException: lost"
    assert failure_line(Exception(java)) == "spark: org.apache.spark.SparkException: lost"
