"""Writing a generated population: Parquet tables or JSON Lines claim files, all or nothing.

Files are written into a temporary folder beside the target and moved into place only when
every chunk is done, so an error or an interrupt never leaves half-written output.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from yibao.batch.tables import CLAIM_FIELDS, LINES_SCHEMA, PERSONS_SCHEMA
from yibao.errors import InputError
from yibao.synth.generate import Generator

FORMATS = ("parquet", "jsonl")
PERSONS_FILE, LINES_FILE, JSONL_FILE = "persons.parquet", "claim_lines.parquet", "claims.jsonl"
LABELS_FILE = "fraud_labels.csv"
# every file synth may write: one not written by this run is a previous run's and is removed,
# so the folder holds one population (`yibao batch` would read stale Parquet tables)
OUTPUT_FILES = (PERSONS_FILE, LINES_FILE, JSONL_FILE, LABELS_FILE)


@dataclass
class Summary:
    persons: int = 0
    claims: int = 0
    lines: int = 0
    labelled_lines: int = 0
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def write(generator: Generator, out: Path, fmt: str, progress: bool = False) -> Summary:
    """Generate chunk by chunk into `out` (created if needed) in format `fmt`."""
    if fmt not in FORMATS:
        raise InputError(f"format: must be parquet or jsonl, got {fmt!r}")
    if out.exists() and not out.is_dir():
        raise InputError(f"out: {out} exists and is not a directory")
    summary = Summary()
    started = time.perf_counter()
    with _staging(out) as staging, _progress(progress, generator.options.persons) as advance:
        sink = _ParquetSink(staging) if fmt == "parquet" else _JsonlSink(staging)
        try:
            for persons, lines in generator.chunks():
                sink.write(persons, lines)
                summary.persons += persons.height
                summary.lines += lines.height
                summary.claims += lines.select(pl.struct("person_id", "claim_id").n_unique()).item()
                summary.labelled_lines += lines["fraud_label"].is_not_null().sum()
                advance(persons.height)
        finally:
            sink.close()
        names = sink.names()
    summary.files = [out / name for name in names]
    summary.seconds = time.perf_counter() - started
    return summary


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A temporary folder beside `out`; its files replace those of `out` only on success,
    and the other `OUTPUT_FILES` of `out` are removed then."""
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.synth-", dir=parent))
        mask = os.umask(0)
        os.umask(mask)
        staging.chmod(0o777 & ~mask)  # mkdtemp makes it private; `out` should not be
    except OSError as exc:
        raise InputError(f"out: cannot write in {parent} ({exc.strerror})") from None
    try:
        yield staging
        if not out.exists():
            staging.rename(out)
            return
        written = [item.name for item in staging.iterdir()]
        for name in written:
            os.replace(staging / name, out / name)
        for name in OUTPUT_FILES:
            if name not in written:
                (out / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _ParquetSink:
    def __init__(self, folder: Path) -> None:
        self.persons = _arrow_writer(folder / PERSONS_FILE, PERSONS_SCHEMA)
        self.lines = _arrow_writer(folder / LINES_FILE, LINES_SCHEMA)

    def write(self, persons: pl.DataFrame, lines: pl.DataFrame) -> None:
        self.persons.write_table(persons.to_arrow().cast(self.persons.schema))
        self.lines.write_table(lines.to_arrow().cast(self.lines.schema))

    def close(self) -> None:
        self.persons.close()
        self.lines.close()

    def names(self) -> list[str]:
        return [PERSONS_FILE, LINES_FILE]


def _arrow_writer(path: Path, schema: dict[str, pl.DataType]) -> pq.ParquetWriter:
    arrow_schema: pa.Schema = pl.DataFrame(schema=schema).to_arrow().schema
    return pq.ParquetWriter(path, arrow_schema, compression="zstd")


class _JsonlSink:
    """One claim file per person with claims, as `yibao settle` reads; labels beside them."""

    def __init__(self, folder: Path) -> None:
        self.claims = (folder / JSONL_FILE).open("wb")
        self.labels_path = folder / LABELS_FILE
        self.labels = None

    def write(self, persons: pl.DataFrame, lines: pl.DataFrame) -> None:
        claim_files(persons, lines).write_ndjson(self.claims)
        labelled = lines.filter(pl.col("fraud_label").is_not_null())
        if labelled.height:
            if self.labels is None:
                self.labels = self.labels_path.open("wb")
                include_header = True
            else:
                include_header = False
            labelled.select("person_id", "claim_id", "line_no", "code", "fraud_label").write_csv(
                self.labels, include_header=include_header
            )

    def close(self) -> None:
        self.claims.close()
        if self.labels is not None:
            self.labels.close()

    def names(self) -> list[str]:
        return [JSONL_FILE] + ([LABELS_FILE] if self.labels is not None else [])


def _yuan(fen: pl.Expr) -> pl.Expr:
    """Integer fen → a yuan string with two decimals ('12.50')."""
    return pl.format("{}.{}", fen // 100, (fen % 100).cast(pl.String).str.zfill(2))


def claim_files(persons: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The claim-file objects (region, person, claims) of the persons that have claims."""
    item = pl.struct(
        code="code",
        name="name",
        category="category",
        price=_yuan(pl.col("price_fen")),
        quantity="quantity",
        selfpay_ratio="selfpay_ratio",
        price_limit=pl.when(pl.col("price_limit_fen").is_not_null()).then(
            _yuan(pl.col("price_limit_fen"))
        ),
        date="item_date",
    )
    head = [name for name in CLAIM_FIELDS if name != "claim_id"]
    claims = (
        lines.group_by("person_id", "claim_id", maintain_order=True)
        .agg(*[pl.col(c).first() for c in head], items=item)
        .select("person_id", claim=pl.struct(pl.col("claim_id").alias("id"), *head, "items"))
        .group_by("person_id", maintain_order=True)
        .agg(claims="claim")
    )
    person = pl.struct(
        id="person_id",
        scheme="scheme",
        employment="employment",
        categories="categories",
        birth_date="birth_date",
        sex="sex",
        account_balance=_yuan(pl.col("account_balance_fen")),
        flags="flags",
        products="products",
    )
    return persons.join(claims, on="person_id", how="inner", maintain_order="left").select(
        "region", person=person, claims="claims"
    )


@contextmanager
def _progress(show: bool, total: int) -> Iterator:
    """A rich progress bar on stderr (or nothing): yields `advance(n)`."""
    if not show:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("synth"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("persons"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("synth", total=total)
        yield lambda n: bar.advance(task, n)
