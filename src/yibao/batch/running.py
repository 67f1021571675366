"""Year-to-date accumulators as segmented cumulative sums over a person's ordered claims.

The per-claim engine carries a running total from claim to claim (`YearToDate.add`); here
the frame is sorted in settlement order and each total is a cumulative sum over the window
of its key (person, year and the accumulator's own key). A limit applied claim by claim,
`room = max(0, limit − used); used += min(want, room)`, becomes the difference of the
clipped cumulative sums when `want` does not depend on the room.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

Keys = Sequence[str]

CONTIGUOUS = ("py", "pid")  # keys whose windows are runs of rows (`{key}_start` marks them)
STRIDE = 1 << 20  # a window key's part within the person-year: 0 <= part < STRIDE


def year_window(part: pl.Expr) -> pl.Expr:
    """One Int64 window key for (person-year `py`, `part`), `part` a small integer (null: a
    window of its own within the person-year, as a null part of a two-column key would be).
    Hashing one integer is several times cheaper than a person-year and a string."""
    return pl.col("py").cast(pl.Int64) * STRIDE + part.cast(pl.Int64).fill_null(STRIDE - 1)


def window_start(key: str) -> pl.Expr:
    """Marks the first row of each run of `key` (`{key}_start`): a single-column window key
    must be contiguous — the frame sorted by it — and have this column."""
    return (pl.col(key) != pl.col(key).shift(1)).fill_null(True).alias(f"{key}_start")


def cumulative(amount: pl.Expr, keys: Keys) -> pl.Expr:
    """The running total of `amount` within the window, this claim included. A contiguous
    single-key window (CONTIGUOUS) subtracts the total reached before its first row
    (forward-filled), an order of magnitude cheaper than partitioning by the key."""
    if len(keys) == 1 and keys[0] in CONTIGUOUS:
        total = amount.cum_sum()
        offset = pl.when(pl.col(f"{keys[0]}_start")).then(total - amount).forward_fill()
        return total - offset
    return amount.cum_sum().over(keys)


def before(amount: pl.Expr, keys: Keys) -> pl.Expr:
    """The running total of `amount` over the earlier claims of the window (exclusive)."""
    return cumulative(amount, keys) - amount


def capped_share(want: pl.Expr, limit: pl.Expr | int, keys: Keys) -> pl.Expr:
    """Each claim's part of `want` under a limit that is the same for the whole window:
    min(limit, total after) − min(limit, total before). `want` ≥ 0, `limit` ≥ 0."""
    total = cumulative(want, keys)
    return pl.min_horizontal(total, limit) - pl.min_horizontal(total - want, limit)


def rising_capped_share(
    frame: pl.LazyFrame, want: str, limit: str, keys: Keys, out: str
) -> pl.LazyFrame:
    """`capped_share` for a limit that may rise from claim to claim (never fall) within the
    window — used_i = min(used_(i−1) + want_i, limit_i) = S_i + min(0, min_(k≤i)(limit_k − S_k)).
    Adds `out` (the claim's share) and `{out}_used` (the running total after the claim)."""
    total, used = f"{out}_total", f"{out}_used"
    frame = frame.with_columns(pl.col(want).cum_sum().over(keys).alias(total))
    frame = frame.with_columns(
        (
            pl.col(total)
            + pl.min_horizontal(0, (pl.col(limit) - pl.col(total)).cum_min().over(keys))
        ).alias(used)
    )
    return frame.with_columns(
        (pl.col(used) - pl.col(used).shift(1).over(keys).fill_null(0)).alias(out)
    ).drop(total)


def varies(value: pl.Expr, keys: Keys) -> pl.Expr:
    """True on every row of a window where `value` (nulls ignored) is not one single value."""
    return (value.min().over(keys) != value.max().over(keys)).fill_null(False)


def falls(value: pl.Expr, keys: Keys) -> pl.Expr:
    """True where `value` is lower than on the window's previous row."""
    return (value < value.shift(1).over(keys)).fill_null(False)
