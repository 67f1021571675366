"""`yibao batch --engine spark`: the same per-partition `Settler.settle`, run by PySpark tasks.

Persons and claim lines are read with Spark, given a group key `pmod(xxhash64(person_id), N)`
and co-grouped on it (`groupBy(key).cogroup(...).applyInArrow`): each Spark task receives the
Arrow tables of one group — every person of the group with all of their lines, so year-to-date
accumulators and account balances never cross groups — turns them into polars frames, settles
them with the very `Settler` the polars engine uses (built once on the driver, shipped with the
function) and returns the result rows as Arrow. Counts of the run (columnar / fallback persons,
refused persons) come back through an accumulator.

The contract asks for one `--out FILE.parquet`: Spark writes its part files to a staging
directory next to it (`FILE.parquet.parts/`), then the driver streams them, one row group at a
time, into the single file and removes the staging directory. That keeps settlement parallel
(a `coalesce(1)` would pull the settling itself into one task) at the cost of the output
passing once through the driver; `single_file=False` keeps the part files (a Parquet
directory) instead. `docs/spark.md` says how to point this at a real cluster.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self, TextIO, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from yibao.atomic_files import written_beside
from yibao.batch.output import RESULT_SCHEMA
from yibao.batch.plan import SchemePlan
from yibao.batch.run import (
    LINES_FILE,
    PERSONS_FILE,
    Counts,
    RunSummary,
    Tables,
    check_columns,
    verify_sample,
)
from yibao.batch.settle import Settler
from yibao.batch.tables import LINES_SCHEMA, PERSONS_SCHEMA
from yibao.errors import InputError
from yibao.policy.loader import PolicyError
from yibao.policy.overlays import check_overlay_regions

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

GROUP_KEY = "_yibao_group"
LOCAL_MASTER = "local[2]"
MASTER_ENV = "YIBAO_SPARK_MASTER"
LINES_PER_GROUP = 500_000
PARTS_SUFFIX = ".parts"
INTERRUPTED = "interrupted: the Spark jobs were cancelled, nothing written"
MAX_REASON = 300  # characters of a failure's reason
SETTLE_WAIT = 30.0  # float-ok: seconds a failed run waits for its jobs to end before cleaning
T = TypeVar("T")


class SparkRunFailed(Exception):
    """A Spark run that failed (a task's error, a lost executor): one line saying why; its
    staging directory is removed."""


# --- the session ---------------------------------------------------------------------------


def under_spark_submit() -> bool:
    """True when `spark-submit` launched this driver (it then owns the master URL)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def python_for_workers() -> None:
    """Workers and driver run this interpreter (the venv with pyarrow and polars) unless told."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


def spark_session(master: str | None = None, shuffle_partitions: int = 4) -> SparkSession:
    """A session: `master`, else `$YIBAO_SPARK_MASTER`, else spark-submit's, else `local[2]`."""
    python_for_workers()
    from pyspark.sql import SparkSession

    master = master or os.environ.get(MASTER_ENV)
    if master is None and not under_spark_submit():
        master = LOCAL_MASTER
    builder = SparkSession.builder.appName("yibao-batch")
    if master is not None:
        builder = builder.master(master)
    if master is not None and master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_quiet_log4j()}")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
        )
    spark = (
        builder.config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    configure(spark, shuffle_partitions)
    return spark


QUIET_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.executor.name = org.apache.spark.executor
logger.executor.level = off
logger.scheduler.name = org.apache.spark.scheduler
logger.scheduler.level = off
logger.writer.name = org.apache.spark.sql.execution.datasources
logger.writer.level = off
logger.task.name = org.apache.spark.TaskContextImpl
logger.task.level = off
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = off
"""


def _quiet_log4j() -> str:
    """A log4j2 configuration that prints errors only (local mode; a cluster keeps its own),
    and not those of a failed or cancelled task: each logs its whole Python and Java stack,
    several times over, where the run says why in one line (`SparkRunFailed`)."""
    path = Path(tempfile.gettempdir()) / "yibao-spark-log4j2.properties"
    if not path.is_file() or path.read_text("utf-8") != QUIET_LOG4J:
        path.write_text(QUIET_LOG4J, "utf-8")
    return str(path)


def configure(spark: SparkSession, shuffle_partitions: int) -> None:
    """The session settings a run relies on (set on a session given by the caller too)."""
    spark.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    # the returned Arrow tables use `string`, not `large_string`
    spark.conf.set("spark.sql.execution.arrow.useLargeVarTypes", "false")


# --- schemas -------------------------------------------------------------------------------


def _arrow_type(dtype: pl.DataType) -> pa.DataType:
    if dtype == pl.String():
        return pa.string()
    if dtype == pl.Date():
        return pa.date32()
    if dtype == pl.Int64():
        return pa.int64()
    raise TypeError(f"no Spark column type for {dtype}")  # pragma: no cover - schema is fixed


RESULT_ARROW = pa.schema([(name, _arrow_type(dtype)) for name, dtype in RESULT_SCHEMA.items()])
"""The Arrow schema each task returns: what Spark expects for `result_struct()`."""


def result_struct():
    """`RESULT_SCHEMA` as a Spark `StructType`."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(RESULT_ARROW)


def _frame(table: pa.Table, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An Arrow table from Spark as a polars frame of `schema` (zero-copy where the types allow;
    the casts only touch columns whose Spark type differs, e.g. a byte `hospital_level`)."""
    if table.num_rows == 0:
        return pl.DataFrame(schema=schema)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(list(schema)).cast(schema)


# --- the counts of a run, gathered from the tasks ---------------------------------------------


@dataclass
class Tally(Counts):
    """The run's counts, plus the plans the tasks built (for `--explain-plan`)."""

    plans: dict[tuple[str, str], SchemePlan] = field(default_factory=dict)

    def add(self, other: Counts) -> Self:
        super().add(other)
        if isinstance(other, Tally):
            self.plans.update(other.plans)
        return self


def _tally_param():
    from pyspark.accumulators import AccumulatorParam

    class TallyParam(AccumulatorParam):
        def zero(self, value: Tally) -> Tally:
            return Tally()

        def addInPlace(self, value1: Tally, value2: Tally) -> Tally:
            return value1.add(value2)

    return TallyParam()


# --- the task ------------------------------------------------------------------------------


def settle_group(settler: Settler, persons: pa.Table, lines: pa.Table) -> tuple[pa.Table, Tally]:
    """What one Spark task does for one group: `Settler.settle`, Arrow in and Arrow out."""
    result = settler.settle(_frame(persons, PERSONS_SCHEMA), _frame(lines, LINES_SCHEMA))
    rows = result.rows
    tally = Tally(plans=dict(settler.plans))
    tally.add(Counts.of(result, persons=rows.get_column("person_id").n_unique()))
    return rows.to_arrow().cast(RESULT_ARROW), tally


# --- the run -------------------------------------------------------------------------------


def is_uri(path: str | Path) -> bool:
    return "://" in str(path)


@dataclass
class SparkTables:
    persons: DataFrame
    lines: DataFrame
    regions: list[str]
    lines_count: int
    local: Tables | None = None


def read_tables(spark: SparkSession, directory: str) -> SparkTables:
    """The two tables as Spark frames of the batch schemas' columns (checked like `Tables`)."""
    if not is_uri(directory):
        local = Tables(Path(directory))  # checks the columns; reads `claims.jsonl` too
        regions = local.persons.select(pl.col("region").unique()).collect().to_series().to_list()
        count = local.lines.select(pl.len()).collect().item()
        folder = Path(directory)
        if (folder / PERSONS_FILE).is_file() and (folder / LINES_FILE).is_file():
            persons = spark.read.parquet(str((folder / PERSONS_FILE).resolve()))
            lines = spark.read.parquet(str((folder / LINES_FILE).resolve()))
        else:
            persons = spark.createDataFrame(local.persons.collect().to_arrow())
            lines = spark.createDataFrame(local.lines.collect().to_arrow())
        return SparkTables(
            _with_optional(persons),
            _with_optional(lines, LINES_SCHEMA),
            [r for r in regions if r is not None],
            count,
            local,
        )
    base = directory.rstrip("/")
    persons = spark.read.parquet(f"{base}/{PERSONS_FILE}")
    lines = spark.read.parquet(f"{base}/{LINES_FILE}")
    check_columns(PERSONS_FILE, polars_schema(persons), PERSONS_SCHEMA)
    check_columns(LINES_FILE, polars_schema(lines), LINES_SCHEMA)
    regions = [r.region for r in persons.select("region").distinct().collect()]
    return SparkTables(
        _with_optional(persons),
        _with_optional(lines, LINES_SCHEMA),
        [r for r in regions if r is not None],
        lines.count(),
    )


def polars_schema(frame: DataFrame) -> pl.Schema:
    """A Spark frame's columns as polars types (through Arrow), for `check_columns`; a type
    without an Arrow one (a map of structs...) as Null: only its name is looked at then."""
    from pyspark.sql.pandas.types import to_arrow_type

    fields = []
    for column in frame.schema.fields:
        try:
            kind = to_arrow_type(column.dataType)
        except (TypeError, ValueError, NotImplementedError):  # PySparkTypeError is a TypeError
            kind = pa.null()
        fields.append(pa.field(column.name, kind))
    table = pl.from_arrow(pa.schema(fields).empty_table())
    assert isinstance(table, pl.DataFrame)
    return table.schema


SPARK_TYPES = {pl.Date: "date", pl.String: "string", pl.Int64: "bigint", pl.Boolean: "boolean"}


def _with_optional(frame: DataFrame, schema: dict = PERSONS_SCHEMA) -> DataFrame:
    """The columns of `schema`, an absent optional one as nulls."""
    from pyspark.sql import functions as F

    absent = [c for c in schema if c not in frame.columns]
    for column in absent:
        kind = SPARK_TYPES.get(schema[column].base_type(), "string")
        frame = frame.withColumn(column, F.lit(None).cast(kind))
    return frame.select(list(schema))


def _read(spark: SparkSession, directory: str) -> SparkTables:
    from pyspark.errors import AnalysisException

    try:
        return read_tables(spark, directory)
    except AnalysisException as exc:  # e.g. PATH_NOT_FOUND
        raise InputError(f"{directory}: {str(exc).splitlines()[0]}") from exc


def settled_frame(
    spark: SparkSession, tables: SparkTables, settler: Settler, groups: int
) -> tuple[DataFrame, object]:
    """The result rows as a Spark frame (lazy), and the accumulator the tasks add counts to."""
    from pyspark.sql import functions as F

    tally = spark.sparkContext.accumulator(Tally(), _tally_param())
    key = F.pmod(F.xxhash64("person_id"), F.lit(groups))
    persons = tables.persons.withColumn(GROUP_KEY, key)
    lines = tables.lines.withColumn(GROUP_KEY, key)

    def settle(persons: pa.Table, lines: pa.Table) -> pa.Table:
        rows, counts = settle_group(settler, persons, lines)
        tally.add(counts)
        return rows

    frame = (
        persons.groupBy(GROUP_KEY)
        .cogroup(lines.groupBy(GROUP_KEY))
        .applyInArrow(settle, schema=result_struct())
    )
    return frame, tally


def run_spark_batch(
    directory: str | Path,
    out: str | Path,
    overlays: tuple[Path, ...] = (),
    verify: int = 0,
    partitions: int | None = None,
    seed: int = 0,
    progress: TextIO | None = sys.stderr,
    spark: SparkSession | None = None,
    master: str | None = None,
    single_file: bool = True,
) -> RunSummary:
    """`run_batch` with Spark: settle the tables in `directory` into `out` (Parquet).

    `partitions` is the number of person groups (one `Settler.settle` call each); by default
    one per 500,000 lines, at least twice the session's parallelism. A given `spark` session is
    used and left running, and so is an active one; otherwise one is started (see
    `spark_session`) and stopped at the end."""
    directory, out = str(directory), str(out)
    if verify and (is_uri(directory) or is_uri(out) or not single_file):
        raise InputError("--verify: needs local tables and a local single-file --out")
    if not is_uri(directory):
        Tables(Path(directory))  # a bad directory fails before a JVM starts
    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()  # e.g. a notebook's or a test's session
    own = spark is None
    session = spark or spark_session(master)
    staging = out + PARTS_SUFFIX if single_file else None
    jobs = SparkJobs(session)
    try:
        with _sigint_raises(), _failure_cleaned(jobs, staging):
            tables = jobs.run(lambda: _read(session, directory))
            parallelism = session.sparkContext.defaultParallelism
            groups = partitions or max(
                2 * parallelism, math.ceil(tables.lines_count / LINES_PER_GROUP)
            )
            configure(session, groups)
            check_overlay_regions(overlays, tables.regions)
            settler = Settler(tables.regions, overlays)
            if progress is not None:
                progress.write(f"spark: {session.sparkContext.master}, {groups} person group(s)\n")
            started = time.perf_counter()
            frame, tally = settled_frame(session, tables, settler, groups)
            target = staging or out
            jobs.run(lambda: frame.write.mode("overwrite").parquet(_spark_path(target)))
            if staging is not None:  # no Spark job: Ctrl-C stops it here, its partial file goes
                merge_parts(staging, out)
            seconds = time.perf_counter() - started
    finally:
        if own:
            session.stop()
    counts: Tally = tally.value
    summary = RunSummary(partitions=groups, seconds=seconds).add(counts)
    summary.errors.sort()
    settler.plans.update(counts.plans)  # the plans the tasks built, for `--explain-plan`
    summary.notes = settler.notes()
    if verify and tables.local is not None:
        found = verify_sample(tables.local, Path(out), verify, seed, overlays)
        summary.verified, summary.differences, summary.verified_unsettled = found
    return summary


class SparkJobs:
    """The Spark jobs of one run, in a job group of their own (cancelled together, and no
    other job of a caller's session with them). Each call's jobs are started from a helper
    thread while this one waits: Ctrl-C then interrupts the wait, not a Py4J call in
    progress — PySpark's SIGINT handler calls the JVM from inside the handler, which breaks
    the call it interrupts with screens of Py4J tracebacks."""

    def __init__(self, session: SparkSession) -> None:
        self.session = session
        self.group = f"yibao-batch-{uuid.uuid4().hex}"

    def run(self, work: Callable[[], T]) -> T:
        """`work()`, its jobs in the group; an exception of it is raised here. Interrupted
        (KeyboardInterrupt, SIGTERM's SystemExit), the jobs are cancelled and ended first."""
        done: list[T] = []
        failed: list[BaseException] = []

        def start() -> None:
            try:
                # cancelled tasks are not interrupted (HDFS may take a Thread.interrupt for a
                # dead node): Spark kills their Python workers
                self.session.sparkContext.setJobGroup(self.group, "yibao batch", False)
                done.append(work())
            except BaseException as exc:  # handed to the waiting thread
                failed.append(exc)

        helper = threading.Thread(target=start, name="yibao-spark-jobs", daemon=True)
        helper.start()
        try:
            while helper.is_alive():
                helper.join(0.2)
        except BaseException:
            self.cancel()
            helper.join()
            raise
        if failed:
            raise failed[0]
        return done[0]

    def cancel(self) -> None:
        """Cancel the group's jobs and wait (SETTLE_WAIT at most) until none runs: a task
        still writing could put the staging directory back after it is removed."""
        try:
            context = self.session.sparkContext
            context.cancelJobGroup(self.group)
            tracker = context.statusTracker()
            deadline = time.monotonic() + SETTLE_WAIT
            while time.monotonic() < deadline:
                mine = set(tracker.getJobIdsForGroup(self.group))
                if not mine & set(tracker.getActiveJobsIds()):
                    return
                time.sleep(0.1)
        except Exception:  # the JVM is gone: no job runs
            return


@contextmanager
def _sigint_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt during the run (`SparkJobs.run` cancels the jobs),
    instead of PySpark's handler; only the main thread may install a handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _failure_cleaned(jobs: SparkJobs, staging: str | None) -> Iterator[None]:
    """On any failure or interrupt: the run's jobs cancelled, the staging directory removed,
    and a Spark error (a task's, the JVM's) raised as one line (`SparkRunFailed`)."""
    try:
        yield
    except BaseException as exc:
        jobs.cancel()
        if staging is not None:
            _remove_staging(jobs.session, staging)
        if _from_spark(exc):
            raise SparkRunFailed(failure_line(exc)) from exc
        raise


def _from_spark(exc: BaseException) -> bool:
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return isinstance(exc, PySparkException | Py4JError)


def failure_line(exc: BaseException) -> str:
    """Why a Spark run failed, in one line: a Python task's exception line (after its
    traceback), else the first line of the error that says something."""
    try:
        text = str(exc)  # a captured Spark error asks the JVM for its message
    except Exception:  # the JVM is gone
        text = ""
    lines = [line.rstrip() for line in text.splitlines()]
    starts = [k for k, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if starts:
        after = lines[starts[-1] + 1 :]
        found = next((line for line in after if line and not line[0].isspace()), None)
        if found is not None:
            return f"spark: a task failed: {found[:MAX_REASON]}"
    said = (
        line.lstrip(": ").strip()
        for line in lines
        if line.strip() and not line.startswith("An error occurred while calling")
    )
    return f"spark: {next(said, type(exc).__name__)[:MAX_REASON]}"


def _remove_staging(session: SparkSession, path: str) -> None:
    """Remove a failed run's staging directory, local or (through the JVM's Hadoop file
    system, which wrote it) remote; the run's own error is what is reported, so a failure to
    remove it is not."""
    if not is_uri(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    try:
        jvm, context = session.sparkContext._jvm, session.sparkContext._jsc
        where = jvm.org.apache.hadoop.fs.Path(path)
        where.getFileSystem(context.hadoopConfiguration()).delete(where, True)
    except Exception:  # best effort, see above
        return


def _spark_path(path: str) -> str:
    return path if is_uri(path) else str(Path(path).resolve())


def _filesystem(path: str) -> tuple[pafs.FileSystem, str]:
    if path.startswith(("s3a://", "s3n://")):  # Hadoop's names for what pyarrow calls s3://
        path = "s3://" + path.split("://", 1)[1]
    if is_uri(path):
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), str(Path(path).resolve())


def merge_parts(parts: str, out: str) -> None:
    """Stream Spark's part files, in partition order, into the single Parquet file `out`, one row
    group at a time (the driver never holds more), then remove the part directory."""
    fs, root = _filesystem(parts)
    _, target = _filesystem(out)
    files = sorted(
        info.path
        for info in fs.get_file_info(pafs.FileSelector(root))
        if info.is_file
        and info.base_name.startswith("part-")
        and info.base_name.endswith(".parquet")
    )
    schema = pl.DataFrame(schema=RESULT_SCHEMA).to_arrow().schema  # as `run_batch` writes it

    def merge(into: str) -> None:
        with pq.ParquetWriter(into, schema, filesystem=fs) as writer:
            for name in files:
                part = pq.ParquetFile(name, filesystem=fs)
                for k in range(part.num_row_groups):
                    writer.write_table(part.read_row_group(k).cast(schema))

    if is_uri(out):  # a remote store's rename is not atomic: written in place
        merge(target)
    else:  # appears only complete, as `run_batch` writes it
        with written_beside(Path(target)) as (partial,):
            merge(str(partial))
    fs.delete_dir(root)


# --- spark-submit entry point ----------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`spark-submit …/yibao/batch/spark.py DIR --out FILE.parquet` on a cluster. Exits as
    `yibao batch` does: 0 every claim settled, 1 a person or claim not settled, 2 bad input or
    a failed run (one line), 130 interrupted."""
    parser = argparse.ArgumentParser(prog="yibao.batch.spark", description=main.__doc__)
    parser.add_argument("directory", help="folder (or hdfs:// / s3a:// URI) of the two tables")
    parser.add_argument("--out", required=True, help="result Parquet file (or URI)")
    parser.add_argument("--partitions", type=int, default=None, help="person groups")
    parser.add_argument("--policy", action="append", default=[], help="overlay YAML (repeat)")
    parser.add_argument("--master", default=None, help="master URL (spark-submit's otherwise)")
    parser.add_argument(
        "--parts", action="store_true", help="keep Spark's part files: --out is a directory"
    )
    args = parser.parse_args(argv)
    try:
        summary = run_spark_batch(
            args.directory,
            args.out,
            tuple(Path(p) for p in args.policy),
            partitions=args.partitions,
            master=args.master,
            single_file=not args.parts,
        )
    except (InputError, PolicyError, SparkRunFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"error: {INTERRUPTED}", file=sys.stderr)
        return 130
    for line in summary.report():
        print(line, file=sys.stderr)
    return 0 if summary.all_settled else 1  # as `yibao batch` exits


if __name__ == "__main__":  # pragma: no cover - run by spark-submit
    # the importable module's functions and classes, so the tasks unpickle them by reference
    from yibao.batch.spark import main as spark_main

    sys.exit(spark_main())
