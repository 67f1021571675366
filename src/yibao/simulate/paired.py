"""Settle one region's persons twice — packaged policy, then packaged + reform overlay — with
the columnar batch engine, and put the two results side by side per claim and per person.

Settlement is never re-implemented here: both runs are `yibao.batch.settle.Settler`, partition
by partition (the same partitions as `yibao batch`, two at a time). Each partition's claims
are summed as soon as they are settled — per person (a person lies in one partition) and per
med type — so memory holds two partitions of claims and one row per person, however many
claims the population has (Tongliao's city-year: peak 3.4 GB kept claim by claim, 2.4 GB summed).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from yibao.batch.fallback import LISTED_TWICE
from yibao.batch.prepare import of_persons
from yibao.batch.run import LINES_PER_PARTITION, WORKERS, Tables, in_order
from yibao.batch.settle import Settler
from yibao.errors import InputError
from yibao.policy.loader import PolicyError, load_with_overlays, read_policy_text, read_yaml

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
    """The money of both runs (integer fen) summed per med type (`by_med_type`, with its
    `claims` count) and per person, and what could not be paired."""

    by_med_type: pl.DataFrame
    persons: pl.DataFrame  # every person of the region the engine settled (refused left out)
    versions: list[str]  # the baseline run's policy versions
    reform_versions: list[str] = field(default_factory=list)  # the reform run's own
    first_day: dt.date | None = None  # settlement dates of the paired claims
    last_day: dt.date | None = None
    refused: dict[str, str] = field(default_factory=dict)  # person_id → the engine's reason
    unpaired_claims: int = 0
    claims_without_person: int = 0  # lines whose person_id is in no persons row (or null)
    from_claim_files: bool = False  # `Tables.from_claim_files`: persons with claims only

    @property
    def claims(self) -> int:
        return int(self.by_med_type.get_column("claims").sum())

    def total(self, column: str) -> int:
        """A money column summed over every paired claim."""
        return int(self.by_med_type.get_column(column).sum())


def read_overlay(overlay: Path) -> object:
    """The overlay's YAML, read as the policy loader reads it (so a file that is not UTF-8
    or not YAML is the loader's one-line PolicyError, not a traceback)."""
    return read_yaml(read_policy_text(overlay), overlay.name)


def check_overlay(region: str, overlay: Path) -> None:
    """The overlay must load over `region` (and not name another region)."""
    if not overlay.is_file():
        raise InputError(f"{overlay}: no such reform overlay file")
    try:
        raw = read_overlay(overlay)
    except PolicyError as exc:
        raise InputError(str(exc)) from None
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
    keep = [*KEY, "setl_date", "med_type", "policy_version", *map(base_col, MONEY)]
    reform_keep = [*KEY, pl.col("policy_version").alias("policy_version_reform")]

    def pair(k: int) -> tuple[Sums, dict[str, str], int, int]:
        """Partition k (as `yibao batch` cuts them) settled both ways, the claims paired, summed."""
        p_frame, l_frame = tables.partition(k, parts)
        # lines whose person is in no persons row: no region is known for them (`yibao batch`
        # reports the same claims and exits 1)
        l_frame, lost = of_persons(l_frame, p_frame.get_column("person_id"))
        orphans = sum(lost.values())
        p_frame = p_frame.filter(pl.col("region") == region)
        ids = p_frame.get_column("person_id").implode()
        l_frame = l_frame.filter(pl.col("person_id").is_in(ids))
        base = baseline.settle(p_frame, l_frame)
        new = reform.settle(p_frame, l_frame)
        left = base.rows.select(keep)
        right = new.rows.select(
            *reform_keep, *(pl.col(base_col(m)).alias(reform_col(m)) for m in MONEY)
        )
        joined = left.join(right, on=KEY, how="inner")
        refused = dict(base.errors) | dict(new.errors)
        unpaired = left.height + right.height - 2 * joined.height
        return Sums.of(joined), refused, unpaired, orphans

    if parts > 1:
        tables.partition_filters(parts)  # computed once, before the threads share them
    sums, refused, unpaired, orphans = Sums.empty(), {}, 0, 0  # parts ≥ 1: never empty
    for part, refused_here, unpaired_here, orphans_here in in_order(pair, parts, WORKERS):
        sums.add(part)
        refused.update(refused_here)
        unpaired += unpaired_here
        orphans += orphans_here
    refused = _with_listed_twice(refused, persons)
    settled = persons.filter(~pl.col("person_id").is_in(list(refused)))
    if refused and (settled.height == 0 or not sums.claims()):
        raise InputError(every_person_refused(directory, region, refused))
    return Paired(
        by_med_type=sums.by_med_type(),
        persons=_per_person(settled, sums.by_person()),
        versions=sorted(sums.versions),
        reform_versions=sorted(sums.reform_versions),
        first_day=min(sums.days, default=None),
        last_day=max(sums.days, default=None),
        refused=refused,
        unpaired_claims=unpaired,
        claims_without_person=orphans,
        from_claim_files=tables.from_claim_files,
    )


def _with_listed_twice(refused: dict[str, str], persons: pl.DataFrame) -> dict[str, str]:
    """The engine refuses a person listed twice in the persons table (`yibao batch` does the
    same): such a person is refused here too even without claims, so no row of theirs counts
    (before, both rows counted: "8,001 persons")."""
    twice = persons.filter(pl.col("person_id").is_duplicated()).get_column("person_id")
    return refused | {pid: LISTED_TWICE for pid in twice.unique().sort() if pid not in refused}


def every_person_refused(directory: Path, region: str, refused: dict[str, str]) -> str:
    """Nothing settled in both runs: a report would price nothing ("unchanged"), so the run
    is refused, naming the first refusal (`yibao batch` lists every one)."""
    pid = min(refused)
    return (
        f"{directory}: the engine refused every person of {region!r} with claims "
        f"({len(refused):,} persons; first: {pid}: {refused[pid]}) — nothing to compare "
        "(yibao batch lists every refusal)"
    )


PERSON_SUMS = ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt")


def _money(names) -> list[str]:
    return [base_col(m) for m in names] + [reform_col(m) for m in names]


@dataclass
class Sums:
    """Paired claims summed: per person, per med type, the policy versions each run met and
    the first and last settlement dates."""

    persons: list[pl.DataFrame]
    med_types: list[pl.DataFrame]
    versions: set[str]
    reform_versions: set[str]
    days: list[dt.date]

    @classmethod
    def empty(cls) -> Sums:
        return cls([], [], set(), set(), [])

    @classmethod
    def of(cls, claims: pl.DataFrame) -> Sums:
        count = pl.len().cast(pl.Int64).alias("claims")
        dates = claims.get_column("setl_date")
        return cls(
            [claims.group_by("person_id").agg(count, *map(pl.sum, _money(PERSON_SUMS)))],
            [claims.group_by("med_type").agg(count, *map(pl.sum, _money(MONEY)))],
            set(claims.get_column("policy_version").unique().to_list()),
            set(claims.get_column("policy_version_reform").unique().to_list()),
            [dates.min(), dates.max()] if claims.height else [],
        )

    def add(self, other: Sums) -> None:
        self.persons += other.persons
        self.med_types += other.med_types
        self.versions |= other.versions
        self.reform_versions |= other.reform_versions
        self.days += other.days

    def claims(self) -> int:
        return sum(
            frame.height and int(frame.get_column("claims").sum()) for frame in self.med_types
        )

    def by_person(self) -> pl.DataFrame:
        """Each person's sums (a person's claims are all in one partition: no re-summing)."""
        return pl.concat(self.persons)

    def by_med_type(self) -> pl.DataFrame:
        every = pl.concat(self.med_types)
        return every.group_by("med_type").agg(pl.all().sum()).sort("med_type")


def _per_person(persons: pl.DataFrame, sums: pl.DataFrame) -> pl.DataFrame:
    """Every insured person of the region the engine settled (with or without claims; the
    refused are left out by the caller) and their sums over the data."""
    money = _money(PERSON_SUMS)
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
