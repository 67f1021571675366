"""Compare the columnar engine with the per-claim engine on the same tables, to the fen."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from yibao.batch.run import compare, engine_rows
from yibao.batch.settle import PartitionResult, Settler
from yibao.batch.tables import claim_files_to_frames
from yibao.engine.inputs import ClaimFile

REGIONS = ["tongliao", "qingdao", "fuxin", "erenhot", "liaoyang"]


def frames(files: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    return claim_files_to_frames(ClaimFile.model_validate(f) for f in files)


def assert_same(
    persons: pl.DataFrame, lines: pl.DataFrame, overlays: tuple[Path, ...] = ()
) -> PartitionResult:
    """Settle with both engines; every field of every claim equal, the same persons refused."""
    regions = persons.get_column("region").unique().to_list()
    result = Settler(regions, overlays).settle(persons, lines)
    engine, refused = engine_rows(persons, lines, overlays)
    differences = compare(result.rows, engine, refused)
    assert not differences, "\n".join(str(d) for d in differences[:20])
    assert {pid for pid, _ in result.errors} == set(refused)
    return result


def totals(result: PartitionResult, person_id: str, year: int) -> dict[str, int]:
    """The person's year: each `_fen` column summed (to check a scenario reached its caps)."""
    rows = result.rows.filter(
        (pl.col("person_id") == person_id) & (pl.col("setl_date").dt.year() == year)
    )
    return rows.select(pl.col("^.*_fen$").sum()).row(0, named=True)
