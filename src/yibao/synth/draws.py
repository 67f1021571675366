"""Counter-based random draws as polars expressions.

Every number `yibao synth` draws is a pure function of (seed, stream, key): the key names the
thing being drawn for (a person, one of their claims, one line of a claim) by its global
index, and the stream names what is drawn (age, claim date, price…). A person's data therefore
depends neither on the chunk it is generated in nor on row order, and the generator needs no
random-number state. The mixer is SplitMix64's finaliser written with wrapping 64-bit integer
arithmetic, so the draws are the same on every polars version.
"""

from __future__ import annotations

import math
import zlib

import polars as pl

_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_MASK = (1 << 64) - 1
_TWO53 = 2.0**-53


def _mix_int(x: int) -> int:
    """SplitMix64 finaliser on a Python int (for stream offsets)."""
    z = (x + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _MUL1) & _MASK
    z = ((z ^ (z >> 27)) * _MUL2) & _MASK
    return z ^ (z >> 31)


def _u64(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.UInt64)


def _mix_series(x: pl.Series) -> pl.Series:
    """The same finaliser on a UInt64 Series (its arithmetic wraps)."""
    z = x.cast(pl.UInt64) + _GOLDEN
    z = (z ^ (z // (1 << 30))) * _MUL1
    z = (z ^ (z // (1 << 27))) * _MUL2
    return z ^ (z // (1 << 31))


def _mix(x: pl.Expr) -> pl.Expr:
    # Series arithmetic, not an expression tree: `z` is used twice per step, and an expression
    # would be re-evaluated for each use unless the query optimiser happens to share it.
    return x.map_batches(_mix_series, return_dtype=pl.UInt64, is_elementwise=True)


def key(*parts: tuple[pl.Expr | int, int]) -> pl.Expr:
    """Pack (value, bits) fields into one UInt64 key, most significant first."""
    out: pl.Expr = _u64(0)
    for value, bits in parts:
        field = value if isinstance(value, pl.Expr) else pl.lit(value)
        out = out * _u64(1 << bits) + field.cast(pl.UInt64)
    return out


class Draws:
    """Uniform, normal and derived draws for one seed (and a salt: region and year)."""

    def __init__(self, seed: int, salt: str = "") -> None:
        self.seed = seed
        self.salt = salt

    def _offset(self, stream: str) -> int:
        tag = zlib.crc32(f"{self.salt}|{stream}".encode())
        return _mix_int(_mix_int(self.seed) ^ tag)

    def bits(self, k: pl.Expr, stream: str) -> pl.Expr:
        """64 random bits (UInt64) for key `k` in `stream`."""
        return _mix(k * _u64(_GOLDEN) + _u64(self._offset(stream)))

    def uniform(self, k: pl.Expr, stream: str) -> pl.Expr:
        """U[0, 1) with 53 random bits."""
        return (self.bits(k, stream) // _u64(1 << 11)).cast(pl.Float64) * _TWO53

    def integer(self, k: pl.Expr, stream: str, low: int | pl.Expr, high: int | pl.Expr) -> pl.Expr:
        """A whole number uniform on [low, high] (both ends included)."""
        low_e = low if isinstance(low, pl.Expr) else pl.lit(low)
        high_e = high if isinstance(high, pl.Expr) else pl.lit(high)
        span = (high_e - low_e + 1).cast(pl.Float64)
        return (low_e + (self.uniform(k, stream) * span).floor().cast(pl.Int64)).cast(pl.Int64)

    def normal(self, k: pl.Expr, stream: str) -> pl.Expr:
        """Standard normal by Box–Muller from two independent uniforms."""
        u1 = 1.0 - self.uniform(k, stream + "/bm1")  # (0, 1]: log stays finite
        u2 = self.uniform(k, stream + "/bm2")
        return (-2.0 * u1.log()).sqrt() * (2.0 * math.pi * u2).cos()

    def lognormal(self, k: pl.Expr, stream: str, median: pl.Expr | float, sigma: float):
        """Log-normal with the given median and log-scale sigma."""
        return median * (self.normal(k, stream) * sigma).exp()

    def pareto(self, k: pl.Expr, stream: str, scale: pl.Expr | float, alpha: float) -> pl.Expr:
        """Pareto (type I) above `scale` with tail index `alpha`, by inversion."""
        u = 1.0 - self.uniform(k, stream)
        return scale * u.pow(-1.0 / alpha)


def poisson(lam: pl.Series, u: pl.Series) -> pl.Series:
    """Poisson counts by inversion of the CDF, vectorised over rows (λ may differ per row).

    Each round works only on the rows whose uniform lies beyond the CDF so far, so the cost
    is about the sum of the counts, not the largest λ times the rows.
    """
    lam = lam.cast(pl.Float64).fill_null(0.0).clip(0.0, 500.0)
    active = pl.DataFrame({"row": pl.int_range(0, lam.len(), eager=True), "lam": lam, "u": u})
    active = active.with_columns(p=(-pl.col("lam")).exp()).with_columns(cdf=pl.col("p"))
    done: list[pl.DataFrame] = []
    i = 0
    while active.height:
        over = pl.col("u") >= pl.col("cdf")
        done.append(active.filter(~over).select("row", count=pl.lit(i, pl.Int32)))
        active = active.filter(over)
        i += 1
        active = active.with_columns(p=pl.col("p") * pl.col("lam") / i).with_columns(
            cdf=pl.col("cdf") + pl.col("p")
        )
        if i > 2000:  # rounding: the CDF stopped short of u; count what is left as is
            done.append(active.select("row", count=pl.lit(i, pl.Int32)))
            break
    counts = pl.concat(done).sort("row")["count"]
    return counts.alias(lam.name)


def weighted_table(rows: list[dict], by: list[str], weight: str = "weight") -> pl.DataFrame:
    """Rows with weights → a lookup table for `pick` (lower bound `_lo` of each row per group)."""
    frame = pl.DataFrame(rows).filter(pl.col(weight) > 0)
    total = pl.col(weight).sum().over(by) if by else pl.col(weight).sum()
    before = pl.col(weight).cum_sum().over(by) if by else pl.col(weight).cum_sum()
    return frame.with_columns(_lo=((before - pl.col(weight)) / total)).drop(weight).sort("_lo")


WIDE_PICK = 24  # groups of at most this many rows are picked by comparisons, not a sort


def pick(frame: pl.DataFrame, table: pl.DataFrame, u: str, by: list[str]) -> pl.DataFrame:
    """Add the columns of the `table` row that the uniform column `u` falls in, per `by` group.

    `table` comes from `weighted_table`. Rows whose group is missing from the table get nulls.
    """
    values = [c for c in table.columns if c != "_lo" and c not in by]
    largest = table.group_by(by).len()["len"].max() if by else table.height
    if by and largest <= WIDE_PICK:
        return frame.hstack(_pick_wide(frame, table, u, by, values, int(largest)))
    row = "_pick_row"
    found = (
        frame.select(*by, u)
        .with_row_index(row)
        .sort(u)
        .join_asof(
            table,
            left_on=u,
            right_on="_lo",
            by=by or None,
            strategy="backward",
            check_sortedness=False,
        )
        .sort(row)
    )
    return frame.hstack(found.select(values))


def _pick_wide(
    frame: pl.DataFrame, table: pl.DataFrame, u: str, by: list[str], values: list[str], size: int
) -> pl.DataFrame:
    """Small groups: the index is the number of lower bounds at or below u."""
    grouped = table.group_by(by, maintain_order=True).agg(pl.col("_lo", *values))
    bounds = [pl.col("_lo").list.get(i, null_on_oob=True).alias(f"_lo{i}") for i in range(size)]
    grouped = grouped.with_columns(bounds)
    joined = frame.select(*by, u).join(grouped, on=by, how="left", maintain_order="left")
    index = pl.sum_horizontal(
        (pl.col(u) >= pl.col(f"_lo{i}")).fill_null(False).cast(pl.Int32) for i in range(size)
    )
    return joined.select(pl.col(v).list.get(index - 1, null_on_oob=True) for v in values)
