"""The working columns of a claim's settlement, shared by the layers in order — the columnar
twin of `engine/context.py`: what each fund paid so far, and the burden left."""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from yibao.engine.funds import FUND_FIELDS

PERSON_YEAR = ["py"]  # one integer per person-year, numbered in settlement order


def start(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Nothing paid yet; `py` numbers the person-years of a frame sorted in settlement order
    (an integer, sorted window key is much cheaper than a string and a year)."""
    new = (pl.col("pid") != pl.col("pid").shift(1)) | (pl.col("year") != pl.col("year").shift(1))
    frame = frame.with_columns(new.fill_null(True).alias("py_start"))
    frame = frame.with_columns(pl.col("py_start").cast(pl.UInt32).cum_sum().alias("py"))
    return frame.with_columns(
        *[pl.lit(0, dtype=pl.Int64).alias(name) for name in FUND_FIELDS],
        pl.lit(0, dtype=pl.Int64).alias("fund_total"),
    )


def inscope_left() -> pl.Expr:
    """In-scope cost not yet paid by any fund: the person's in-scope burden so far."""
    return pl.max_horizontal(0, pl.col("inscp") - pl.col("fund_total"))


def person_left() -> pl.Expr:
    return pl.col("medfee") - pl.col("fund_total")


def pay(frame: pl.LazyFrame, field: str, amount: pl.Expr) -> pl.LazyFrame:
    """`ClaimContext.pay`: book a fund payment, never more than the person still bears."""
    booked = pl.max_horizontal(0, pl.min_horizontal(amount, person_left()))
    frame = frame.with_columns(booked.alias("_booked"))
    return frame.with_columns(
        (pl.col(field) + pl.col("_booked")).alias(field),
        (pl.col("fund_total") + pl.col("_booked")).alias("fund_total"),
    ).drop("_booked")


class Fallbacks:
    """Persons a columnar rule cannot settle exactly, by reason: they go to the per-claim
    engine (their other claims too — a person is settled by one engine). Inside the lazy
    chain a rule marks such rows in a `fallback:<reason>` column; `gather` collects them."""

    PREFIX = "fallback:"

    def __init__(self) -> None:
        self.by_reason: dict[str, list[pl.Series]] = defaultdict(list)

    def flag(self, frame: pl.LazyFrame, reason: str, where: pl.Expr) -> pl.LazyFrame:
        return frame.with_columns(where.fill_null(False).alias(self.PREFIX + reason))

    def gather(self, frame: pl.DataFrame, pid: str = "pid") -> pl.DataFrame:
        """Note the persons of the flagged rows (person id column `pid`); drop the flags."""
        flags = [c for c in frame.columns if c.startswith(self.PREFIX)]
        for column in flags:
            ids = frame.filter(column).get_column(pid).unique().alias("pid")
            self.add_ids(column.removeprefix(self.PREFIX), ids)
        return frame.drop(flags)

    def add_ids(self, reason: str, pids: pl.Series) -> None:
        if pids.len():
            self.by_reason[reason].append(pids)

    def persons(self) -> pl.Series:
        every = [s for series in self.by_reason.values() for s in series]
        if not every:
            return pl.Series("pid", [], dtype=pl.String)
        return pl.concat(every).unique()

    def counts(self) -> dict[str, int]:
        """Persons per reason, each under the first reason noted for them (refused input is
        noted first): a person is settled once, so counted once."""
        counted: dict[str, int] = {}
        seen = pl.Series("pid", [], dtype=pl.String)
        for reason, series in self.by_reason.items():
            ids = pl.concat(series).unique()
            new = ids.filter(~ids.is_in(seen.implode()))
            if new.len():
                counted[reason] = new.len()
            seen = pl.concat([seen, new])
        return counted
