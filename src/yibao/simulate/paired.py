"""Settle one region's persons twice — packaged policy, then packaged + reform overlay — with
the columnar batch engine, and put the two results side by side per claim and per person.

Settlement is never re-implemented here: both runs are `yibao.batch.settle.Settler`, partition
by partition (the same partitions as `yibao batch`, two at a time), so memory holds two
partitions of claims at a time plus the narrow per-claim money columns kept for the measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from yibao.batch.run import LINES_PER_PARTITION, WORKERS, Tables, in_order
from yibao.batch.settle import Settler
from yibao.errors import InputError
from yibao.policy.loader import PolicyError, load_with_overlays

FUNDS = ("hifp", "cvlserv", "hifes", "hifob", "hifmi", "maf", "oth")
MONEY = ("medfee_sumamt", *FUNDS, "fund_pay_sumamt", "psn_part_amt")
KEY = ["person_id", "claim_id"]


def base_col(name: str) -> str:
    """The result column of a baseline amount (`hifp` → `hifp_pay_fen`)."""
    return f"{name}_pay_fen" if name in FUNDS else f"{name}_fen"


def reform_col(name: str) -> str:
    return f"{base_col(name)}_reform"


@dataclass
class Paired:
    """Per-claim and per-person money of both runs (integer fen), and what could not be paired."""

    claims: pl.DataFrame
    persons: pl.DataFrame
    versions: list[str]
    refused: dict[str, str] = field(default_factory=dict)
    unpaired_claims: int = 0


def check_overlay(region: str, overlay: Path) -> None:
    """The overlay must load over `region` (and not name another region)."""
    if not overlay.is_file():
        raise InputError(f"{overlay}: no such reform overlay file")
    try:
        raw = yaml.safe_load(overlay.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(
            f"{overlay}: cannot read the overlay ({str(exc).splitlines()[0]})"
        ) from None
    named = raw.get("region") if isinstance(raw, dict) else None
    if named not in (None, region):
        raise InputError(f"{overlay.name}: the overlay is for {named!r}, not {region!r}")
    try:
        load_with_overlays(region, (overlay,))
    except PolicyError as exc:
        raise InputError(str(exc)) from None


def settle_pair(directory: Path, region: str, overlay: Path) -> Paired:
    """Baseline and reform settlements of every claim of `region`'s persons in `directory`."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    check_overlay(region, overlay)
    tables = Tables(directory)
    mine = tables.persons.filter(pl.col("region") == region)
    persons = mine.select("person_id", "scheme", "employment", "categories").collect()
    if persons.height == 0:
        raise InputError(f"{directory}: no persons of region {region!r} in the data")
    n_lines = tables.lines.select(pl.len()).collect().item()
    parts = max(1, math.ceil(n_lines / LINES_PER_PARTITION))
    baseline, reform = Settler([region]), Settler([region], (overlay,))
    keep = [*KEY, "med_type", "insutype", "policy_version", *map(base_col, MONEY)]

    def pair(k: int) -> tuple[pl.DataFrame, dict[str, str], int]:
        """Partition k (as `yibao batch` cuts them) settled both ways, the claims side by side."""
        p_frame, l_frame = tables.partition(k, parts)
        p_frame = p_frame.filter(pl.col("region") == region)
        ids = p_frame.get_column("person_id").implode()
        l_frame = l_frame.filter(pl.col("person_id").is_in(ids))
        base = baseline.settle(p_frame, l_frame)
        new = reform.settle(p_frame, l_frame)
        left = base.rows.select(keep)
        right = new.rows.select(*KEY, *(pl.col(base_col(m)).alias(reform_col(m)) for m in MONEY))
        joined = left.join(right, on=KEY, how="inner")
        refused = dict(base.errors) | dict(new.errors)
        return joined, refused, left.height + right.height - 2 * joined.height

    if parts > 1:
        tables.partition_filters(parts)  # computed once, before the threads share them
    pieces, refused, unpaired = [], {}, 0
    for joined, refused_here, unpaired_here in in_order(pair, parts, WORKERS):
        pieces.append(joined)
        refused.update(refused_here)
        unpaired += unpaired_here
    claims = pl.concat(pieces) if pieces else pl.DataFrame()
    return Paired(
        claims=claims,
        persons=_per_person(persons, claims),
        versions=sorted(claims.get_column("policy_version").unique().to_list()),
        refused=refused,
        unpaired_claims=unpaired,
    )


def _per_person(persons: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    """Every insured person of the region (with or without claims) and their annual sums."""
    summed = ["medfee_sumamt", "fund_pay_sumamt", "psn_part_amt"]
    sums = claims.group_by("person_id").agg(
        pl.len().alias("claims"),
        *(pl.col(base_col(m)).sum() for m in summed),
        *(pl.col(reform_col(m)).sum() for m in summed),
    )
    money = [base_col(m) for m in summed] + [reform_col(m) for m in summed]
    return (
        persons.join(sums, on="person_id", how="left")
        .with_columns(pl.col("claims").fill_null(0), *(pl.col(c).fill_null(0) for c in money))
        .with_columns(
            (pl.col(reform_col("psn_part_amt")) - pl.col(base_col("psn_part_amt"))).alias(
                "burden_change_fen"
            )
        )
        .sort("person_id")
    )
