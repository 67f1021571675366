"""`yibao batch`: settle the tables of a directory partition by partition, write Parquet.

Persons are split into K partitions — ranges of `person_id` when the lines are sorted by it,
read as row slices (a partition then decodes only its own row groups), else a hash of it,
read with a filter (Parquet row groups are scanned, not loaded whole); each is settled on its
own — accumulators never cross persons — and appended to the output file. Two partitions settle
at once on two threads (polars releases the GIL) and the previous one is encoded meanwhile,
so memory holds about two partitions. The file is written beside `out` under a temporary name
and moved into place only when every partition is written: a stopped run leaves no partial
file and keeps a previous result. Lines whose person is not in the persons table, and persons
rows without an id, are counted and reported as not settled. `verify` then settles N random
persons again through the per-claim engine (`yibao.settling.settle_file`) and lists every
difference, to the fen.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import ClassVar, Self, TextIO, TypeVar

import polars as pl
import pyarrow.parquet as pq
from pydantic import ValidationError

from yibao.atomic_files import written_beside
from yibao.batch.fallback import without_twice_listed
from yibao.batch.output import COMPARED, RESULT_SCHEMA, settlement_row
from yibao.batch.settle import PartitionResult, Settler
from yibao.batch.tables import (
    LINES_SCHEMA,
    PERSONS_SCHEMA,
    claim_files_to_frames,
    frames_to_claim_files,
    unbatchable,
)
from yibao.claimfile import parse_claim_files
from yibao.engine.inputs import ClaimFile
from yibao.errors import InputError, first_error
from yibao.policy.overlays import check_overlay_regions, overlays_for
from yibao.settling import settle_file

PERSONS_FILE = "persons.parquet"
LINES_FILE = "claim_lines.parquet"
JSONL_FILE = "claims.jsonl"
# the persons columns settlement reads; the other columns of PERSONS_SCHEMA are optional
OPTIONAL_LINES = ("fraud_label",)  # planted by `yibao synth --fraud-rate`; settlement ignores it
SETTLED_PERSON_COLUMNS = (
    "person_id",
    "region",
    "scheme",
    "employment",
    "categories",
    "birth_date",
    "sex",
    "account_balance_fen",
    "flags",
    "products",
)
# a row slice read in memory arrives in one chunk per row group it spans; streaming, in many
READ_ENGINE = "in-memory"
LINES_PER_PARTITION = 550_000  # two at a time (WORKERS): peak ~1.4 GB at 10M lines
HASH_SEED = 20240601
T = TypeVar("T")
WORKERS = min(2, os.cpu_count() or 1)  # partitions settled at once (2 cores: 2)


@dataclass
class Difference:
    person_id: str
    claim_id: str
    field: str
    batch: object
    engine: object

    def __str__(self) -> str:
        return (
            f"{self.person_id} {self.claim_id} {self.field}: "
            f"batch {self.batch!r} vs engine {self.engine!r}"
        )


@dataclass
class Counts:
    """How many persons and claims were settled, and how: columnar, or by the per-claim
    engine (fallback, with the reasons counted per person)."""

    persons: int = 0
    claims: int = 0
    columnar_persons: int = 0
    columnar_claims: int = 0
    fallback_persons: Counter = field(default_factory=Counter)
    fallback_claims: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    # claims of lines whose person_id (None: null) is not in the persons table, by person_id
    unknown_persons: Counter = field(default_factory=Counter)
    persons_without_id: int = 0  # persons rows with a null person_id

    @classmethod
    def of(cls, result: PartitionResult, persons: int | None = None) -> Counts:
        """The counts of one settled partition (`persons`: when counted another way)."""
        return cls(
            persons=result.persons if persons is None else persons,
            claims=result.rows.height,
            columnar_persons=result.columnar_persons,
            columnar_claims=result.columnar_claims,
            fallback_persons=Counter(result.fallback_persons),
            fallback_claims=result.fallback_claims,
            errors=list(result.errors),
            unknown_persons=Counter(result.unknown_persons),
            persons_without_id=result.persons_without_id,
        )

    def add(self, other: Counts) -> Self:
        self.persons += other.persons
        self.claims += other.claims
        self.columnar_persons += other.columnar_persons
        self.columnar_claims += other.columnar_claims
        self.fallback_persons.update(other.fallback_persons)
        self.fallback_claims += other.fallback_claims
        self.errors += other.errors
        self.unknown_persons.update(other.unknown_persons)
        self.persons_without_id += other.persons_without_id
        return self

    @property
    def all_settled(self) -> bool:
        """No person refused, no line without its person, no person without an id."""
        return not (self.errors or self.unknown_persons or self.persons_without_id)


@dataclass
class RunSummary(Counts):
    partitions: int = 0
    seconds: float = 0.0  # float-ok: elapsed time, not money
    notes: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # about the run itself, in the report
    verified: int = 0
    verified_unsettled: int = 0  # of `verified`, persons neither engine settled
    differences: list[Difference] = field(default_factory=list)

    @property
    def claims_per_second(self) -> float:  # float-ok: a rate, not money
        return self.claims / self.seconds if self.seconds else 0.0

    def report(self) -> list[str]:
        """What ran columnar, what fell back and why, and how fast."""
        fallback = sum(self.fallback_persons.values())
        lines = [
            f"settled {self.claims:,} claims of {self.persons:,} persons in "
            f"{self.partitions} partition(s), {self.seconds:.1f} s "
            f"({self.claims_per_second:,.0f} claims/s)",
            f"columnar: {self.columnar_persons:,} persons, {self.columnar_claims:,} claims; "
            f"per-claim engine (fallback): {self.fallback_claims:,} claims",
        ]
        if fallback:
            lines += [
                f"  fallback, {n:,} persons: {why}" for why, n in self.fallback_persons.items()
            ]
        if self.errors:
            lines.append(f"not settled: {len(self.errors):,} persons (input refused), e.g.")
            lines += [f"  {pid}: {why}" for pid, why in self.errors[:5]]
        if self.unknown_persons:
            claims = sum(self.unknown_persons.values())
            lines.append(
                f"not settled: {claims:,} claims of {len(self.unknown_persons):,} person_id(s) "
                f"not in {PERSONS_FILE}, e.g."
            )
            lines += [
                f"  {pid if pid is not None else '(null person_id)'}: {n:,} claims"
                for pid, n in self.unknown_persons.most_common(5)
            ]
            if None in self.unknown_persons:
                lines.append(
                    "  lines without a person_id are left out: a claim settled from its other "
                    "lines (same claim_id) is settled without them"
                )
        if self.persons_without_id:
            lines.append(
                f"not settled: {self.persons_without_id:,} persons row(s) with a null person_id"
                " (no line can be theirs)"
            )
        return lines + self.remarks


class Tables:
    """The two input tables of a directory, as lazy scans (or from `claims.jsonl`)."""

    def __init__(self, directory: Path) -> None:
        persons, lines = directory / PERSONS_FILE, directory / LINES_FILE
        # claim files hold only the persons with claims; the tables every insured person
        self.from_claim_files = not (persons.is_file() and lines.is_file())
        if not self.from_claim_files:
            self.persons = pl.scan_parquet(persons)
            self.lines = pl.scan_parquet(lines)
        elif (directory / JSONL_FILE).is_file():
            files = _claim_files(directory / JSONL_FILE)
            if (problem := unbatchable(files)) is not None:
                raise InputError(f"{directory / JSONL_FILE}: {problem}")
            people, rows = claim_files_to_frames(files)
            self.persons, self.lines = people.lazy(), rows.lazy()
        else:
            raise InputError(
                f"{directory}: needs {PERSONS_FILE} and {LINES_FILE} (or {JSONL_FILE})"
            )
        self._check_columns()
        self._cached: tuple[int, list[pl.Expr]] = (0, [])
        self._slices: tuple[int, tuple[list[int] | None, ...]] = (0, (None, None))

    def _check_columns(self) -> None:
        check_columns(PERSONS_FILE, self.persons.collect_schema(), PERSONS_SCHEMA)
        check_columns(LINES_FILE, self.lines.collect_schema(), LINES_SCHEMA)
        self.persons = _with_optional(self.persons, PERSONS_SCHEMA)
        self.lines = _with_optional(self.lines, LINES_SCHEMA)

    def partition(self, k: int, parts: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        if parts == 1:
            return self.persons.collect(), self.lines.collect()
        mine = self.partition_filters(parts)[k]
        lines, persons = self._slices[1]
        if lines is None:
            return self.persons.filter(mine).collect(), self.lines.filter(mine).collect()
        people = (
            self.persons.filter(mine)
            if persons is None
            else self.persons.slice(persons[k], persons[k + 1] - persons[k])
        )
        mine_lines = self.lines.slice(lines[k], lines[k + 1] - lines[k])
        return people.collect(), mine_lines.collect(engine=READ_ENGINE)

    def partition_filters(self, parts: int) -> list[pl.Expr]:
        """Each partition's persons. Lines sorted by person (as `yibao synth` writes them):
        ranges of `person_id` of about equal line counts, read as row slices (`_slices`);
        else a hash of `person_id`. Either way each person is in one partition."""
        if self._cached[0] != parts:
            bounds = _bounds(self.lines, parts)
            self._cached = (parts, _ranges(self.lines, parts, bounds))
            self._slices = (parts, _slices(self.persons, bounds))
        return self._cached[1]

    def of_persons(self, ids: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        mine = pl.col("person_id").is_in(ids)
        return self.persons.filter(mine).collect(), self.lines.filter(mine).collect()


def _claim_files(path: Path) -> list[ClaimFile]:
    """The claim files of `claims.jsonl`, one line per person as `yibao settle` reads them;
    an error names the file (once: a read error does already)."""
    try:
        return parse_claim_files(str(path), one_per_person=True)
    except InputError as exc:
        message = str(exc)
        located = message if message.startswith(f"{path}: ") else f"{path}: {message}"
        raise InputError(located) from None


def check_columns(name: str, found: pl.Schema, schema: dict[str, pl.DataType]) -> None:
    """Refuse the table `name` of columns `found` if it lacks a column of `schema` settlement
    reads, or holds an integer one as a float or fractional Decimal (`_not_whole`). The Spark
    engine checks its tables' schemas, as polars types, here too."""
    missing = missing_columns(found.names(), schema)
    if missing:
        raise InputError(f"{name}: missing columns {missing}")
    if (problem := _not_whole(found, schema)) is not None:
        raise InputError(f"{name}: {problem}")


def missing_columns(have: list[str], schema: dict[str, pl.DataType]) -> list[str]:
    """The columns of `schema` a table lacks, leaving out the optional ones (those settlement
    does not read: null when absent)."""
    optional = set(PERSONS_SCHEMA) - set(SETTLED_PERSON_COLUMNS) if schema is PERSONS_SCHEMA else ()
    return [c for c in schema if c not in have and c not in optional and c not in OPTIONAL_LINES]


def _with_optional(frame: pl.LazyFrame, schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    """`frame` in `schema`'s columns and types, an absent optional column as nulls."""
    have = frame.collect_schema().names()
    absent = [pl.lit(None, t).alias(c) for c, t in schema.items() if c not in have]
    return frame.with_columns(absent).select(list(schema)).cast(schema)


def _not_whole(found: pl.Schema, schema: dict[str, pl.DataType]) -> str | None:
    """Why an integer column of `schema` (money in fen, quantities) cannot be read as one: a
    float column, or a Decimal one with decimals, would be truncated silently by the cast
    (yuan exported as 12.5 → 12 fen, 1.9 boxes → 1). A Decimal of scale 0 holds integers:
    cast, a value beyond the integer type stops the run (the cast is strict)."""
    for name, wanted in schema.items():
        have = found.get(name)
        if not wanted.is_integer() or have is None:
            continue
        if have.is_float() or (isinstance(have, pl.Decimal) and (have.scale or 0) > 0):
            return f"{name}: must be an integer column ({wanted}), not {have}"
    return None


@dataclass
class Bounds:
    """Where the partitions of lines sorted by person begin: the first `person_id` of each
    (after the first) and its first row; `rows` ends with the line count."""

    ids: list[str]
    rows: list[int]


def _bounds(lines: pl.LazyFrame, parts: int) -> Bounds | None:
    """Cuts at about equal line counts, each moved back to the first line of its person (a
    person's lines stay together); None when the lines are not sorted by a `person_id`
    without nulls."""
    ids = lines.select("person_id").collect().get_column("person_id")
    if ids.is_empty() or ids.null_count() or not ids.is_sorted():
        return None
    firsts = [ids[i * ids.len() // parts] for i in range(1, parts)]
    rows = ids.search_sorted(pl.Series(firsts, dtype=pl.String), side="left").to_list()
    return Bounds(firsts, [0, *rows, ids.len()])


def _slices(persons: pl.LazyFrame, bounds: Bounds | None) -> tuple[list[int] | None, ...]:
    """Row offsets of each partition in the lines and, when the persons are sorted by id
    without nulls too, in the persons. A row slice of a scan reads only its own row groups
    and arrives in one or two chunks, where a filter tests every row and returns hundreds."""
    if bounds is None:
        return None, None
    ids = persons.select("person_id").collect().get_column("person_id")
    if ids.null_count() or not ids.is_sorted():
        return bounds.rows, None
    rows = ids.search_sorted(pl.Series(bounds.ids, dtype=pl.String), side="left").to_list()
    return bounds.rows, [0, *rows, ids.len()]


def _ranges(lines: pl.LazyFrame, parts: int, bounds: Bounds | None = None) -> list[pl.Expr]:
    pid = pl.col("person_id")
    if bounds is None:
        bounds = _bounds(lines, parts)
    if bounds is None:
        return [pid.hash(seed=HASH_SEED) % parts == k for k in range(parts)]
    ranges = []
    for lo, hi in pairwise([None, *bounds.ids, None]):
        mine = pl.lit(True)
        if lo is not None:
            mine = mine & (pid >= lo)
        if hi is not None:
            mine = mine & (pid < hi)
        ranges.append(mine | pid.is_null() if lo is None else mine)  # a person without id
    return ranges


def run_batch(
    directory: Path,
    out: Path,
    overlays: tuple[Path, ...] = (),
    verify: int = 0,
    partitions: int | None = None,
    seed: int = 0,
    progress: TextIO | None = sys.stderr,
) -> RunSummary:
    """Settle every claim of the tables in `directory` into `out` (Parquet, one row per claim)."""
    check_out(directory, out)
    tables = Tables(directory)
    regions = tables.persons.select(pl.col("region").unique()).collect().to_series().to_list()
    regions = [r for r in regions if r is not None]
    check_overlay_regions(overlays, regions)
    settler = Settler(regions, overlays)
    parts = partition_count(tables, partitions)
    summary = RunSummary(partitions=parts)
    if partitions is not None and parts != partitions:
        summary.remarks.append(
            f"--partitions {partitions:,}: {parts:,} used (at most one per person with claim lines)"
        )
    bar = Progress(parts, progress)
    started = time.perf_counter()
    with written_beside(out) as (partial,), ResultWriter(partial) as writer:
        for k, result in enumerate(settled_in_order(tables, settler, parts, WORKERS)):
            writer.write(result.rows)
            summary.add(Counts.of(result))
            bar.update(k + 1, summary.claims, time.perf_counter() - started)
    bar.close()
    summary.seconds = time.perf_counter() - started
    summary.notes = settler.notes()
    if verify:
        found = verify_sample(tables, out, verify, seed, overlays)
        summary.verified, summary.differences, summary.verified_unsettled = found
    return summary


def check_out(directory: Path, out: Path, option: str = "--out", kind: str = ".parquet") -> None:
    """Refuse an output path (`option`) that is one of the input tables (the run reads them,
    and the result would replace them), a directory, or in a folder it cannot write in —
    before the run, not after it."""
    if out.is_dir():
        raise InputError(f"{option} {out}: is a directory; name a {kind} file")
    folder = out.parent
    if not folder.is_dir():
        raise InputError(f"{option} {out}: no such directory {folder}")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{option} {out}: cannot write in {folder}")
    for name in (PERSONS_FILE, LINES_FILE, JSONL_FILE):
        table = directory / name
        if not table.exists():
            continue
        if out.resolve() == table.resolve() or (out.exists() and os.path.samefile(out, table)):
            raise InputError(
                f"{option} {out}: is the input table {table}; write the result elsewhere"
            )


def partition_count(tables: Tables, requested: int | None) -> int:
    """One partition per LINES_PER_PARTITION lines, or `requested`, capped at the distinct
    person ids of the lines: a person is never split, so more partitions would be empty ones,
    each costing its fixed ~30 ms of queries for nothing."""
    if requested is None:
        n_lines = tables.lines.select(pl.len()).collect().item()
        return max(1, math.ceil(n_lines / LINES_PER_PARTITION))
    if requested == 1:
        return 1
    ids = tables.lines.select(pl.col("person_id").n_unique()).collect().item()
    return max(1, min(requested, ids))


def settled_in_order(
    tables: Tables, settler: Settler, parts: int, workers: int
) -> Iterator[PartitionResult]:
    """Each partition read and settled (`Settler.settle`), in partition order, `workers` at a
    time (`in_order`)."""

    def settle(k: int) -> PartitionResult:
        persons, lines = tables.partition(k, parts)
        return settler.settle(persons, lines)

    if parts > 1:
        tables.partition_filters(parts)  # computed once, before the threads share them
    return in_order(settle, parts, workers)


def in_order(work: Callable[[int], T], count: int, workers: int) -> Iterator[T]:
    """work(0), ..., work(count − 1) on `workers` threads, the results yielded in that order;
    at most `workers` are under way or waiting. polars releases the GIL, so two partitions
    keep two cores busy where one query alone leaves gaps."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future] = deque()
        for k in range(count):
            pending.append(pool.submit(work, k))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class ResultWriter:
    """The result rows, partition after partition, into one Parquet file (`run_batch` gives
    it a temporary one, moved into place when complete: `written_beside`). Each partition is
    encoded on a background thread while the next one settles (pyarrow releases the GIL);
    at most one waits, so memory stays one partition. Dictionary pages only for the columns
    with few values, and min/max statistics only for the keys a reader filters on. The fen
    columns are delta-encoded (mostly 0 or small): measured on 3.9M result rows, snappy
    alone 148 MB, 1.07 CPU-s to write and 1.04 to read back in polars; delta + snappy
    107 MB, 0.96 and 0.76 (zstd level 1: 96 MB, 1.21 to write; lz4 gains nothing more).
    The file is read back by `simulate` and by people, so reading speed weighs most."""

    LOW_CARDINALITY: ClassVar[list[str]] = [
        "date",
        "setl_date",
        "region",
        "policy_version",
        "med_type",
        "insutype",
        "pool_prop_selfpay",
    ]
    FILTERED: ClassVar[list[str]] = ["person_id", "claim_id"]

    def __init__(self, out: Path) -> None:
        # polars' own string layout (string_view) goes to pyarrow without a copy; the file
        # keeps only the Parquet types (no Arrow schema), so readers see plain strings
        self.compat = pl.CompatLevel.newest()
        self.schema = pl.DataFrame(schema=RESULT_SCHEMA).to_arrow(compat_level=self.compat).schema
        self.writer = pq.ParquetWriter(
            out,
            self.schema,
            use_dictionary=self.LOW_CARDINALITY,
            write_statistics=self.FILTERED,
            column_encoding={
                name: "DELTA_BINARY_PACKED"
                for name, kind in RESULT_SCHEMA.items()
                if kind == pl.Int64()
            },
            store_schema=False,
        )
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: Future | None = None

    def write(self, rows: pl.DataFrame) -> None:
        self._wait()
        table = rows.to_arrow(compat_level=self.compat).cast(self.schema)
        self.pending = self.pool.submit(self.writer.write_table, table)

    def _wait(self) -> None:
        if self.pending is not None:
            self.pending.result()  # re-raises a failed write here
            self.pending = None

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._wait()
        finally:
            self.pool.shutdown()
            self.writer.close()


def verify_sample(
    tables: Tables, out: Path, count: int, seed: int, overlays: tuple[Path, ...]
) -> tuple[int, list[Difference], int]:
    """Settle `count` random persons (seeded) through the per-claim engine and compare:
    (persons sampled, differences, persons of them neither engine settled — equal, but
    not a check of any amount)."""
    ids = tables.lines.select(pl.col("person_id").unique()).collect().to_series()
    known = sorted(ids.drop_nulls().to_list())  # a line without a person_id has no person
    chosen = random.Random(seed).sample(known, min(count, len(known)))
    persons, lines = tables.of_persons(chosen)
    batch = pl.scan_parquet(out).filter(pl.col("person_id").is_in(chosen)).collect()
    engine, refused = engine_rows(persons, lines, overlays)
    settled = set(batch.get_column("person_id").to_list())
    neither = sum(1 for pid in refused if pid not in settled)
    return len(chosen), compare(batch, engine, refused), neither


def engine_rows(
    persons: pl.DataFrame, lines: pl.DataFrame, overlays: tuple[Path, ...] = ()
) -> tuple[pl.DataFrame, dict[str, str]]:
    """The per-claim engine's rows for these persons, and the persons it refuses (why)."""
    rows: list[dict] = []
    persons, twice = without_twice_listed(persons)
    refused = dict(twice)
    for person in persons.iter_slices(1):
        pid = person.item(0, "person_id")
        try:
            files = frames_to_claim_files(person, lines.filter(pl.col("person_id") == pid))
            for claim_file in files:
                mine = overlays_for(claim_file.region, overlays)
                settlements, _ = settle_file(claim_file, mine)
                dates = {c.id: c.date for c in claim_file.claims}
                rows += [
                    settlement_row(claim_file.region, pid, dates[s.claim_id], s)
                    for s in settlements
                ]
        except ValidationError as exc:
            refused[pid] = first_error(exc)
        except (TypeError, ValueError, ArithmeticError) as exc:
            refused[pid] = str(exc)
    return pl.DataFrame(rows, schema=RESULT_SCHEMA), refused


def compare(
    batch: pl.DataFrame, engine: pl.DataFrame, refused: dict[str, str] | None = None
) -> list[Difference]:
    """Every field of every claim that differs between the two result tables."""
    key = ["person_id", "claim_id"]
    joined = batch.join(engine, on=key, how="full", suffix="_engine", coalesce=True)
    diffs: list[Difference] = []
    for row in joined.sort(key).iter_rows(named=True):
        pid, cid = row["person_id"], row["claim_id"]
        if row["setl_date_engine"] is None:
            why = (refused or {}).get(pid, "no such claim")
            diffs.append(Difference(pid, cid, "(row)", "settled", f"not settled: {why}"))
            continue
        if row["setl_date"] is None:
            diffs.append(Difference(pid, cid, "(row)", "missing", "settled"))
            continue
        for column in COMPARED:
            if row[column] != row[f"{column}_engine"]:
                diffs.append(Difference(pid, cid, column, row[column], row[f"{column}_engine"]))
    return diffs


class Progress:
    """A one-line progress bar on stderr: partitions done, claims, claims per second."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.stream = total, stream
        self.tty = bool(stream and getattr(stream, "isatty", lambda: False)())

    def update(self, done: int, claims: int, seconds: float) -> None:  # float-ok: time
        if self.stream is None:
            return
        filled = self.WIDTH * done // self.total
        rate = claims / seconds if seconds else 0
        text = (
            f"batch [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{self.total} partitions"
            f"  {claims:,} claims  {rate:,.0f} claims/s"
        )
        self.stream.write(("\r" + text) if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty:
            self.stream.write("\n")
            self.stream.flush()
