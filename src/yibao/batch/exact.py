"""Exact fen × ratio arithmetic on integer columns, the columnar twin of `yibao.money`.

A ratio column holds the ratio × `SCALE` as an integer, so `apply_ratio` and the half-up
rounding of ratio-weighted sums stay exact integer arithmetic — never a float. A policy
ratio with more than six decimals cannot be scaled; its scheme runs through the per-claim
engine instead (`NotScalable`).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

SCALE = 1_000_000


class NotScalable(ValueError):
    """A ratio or factor with more decimals than `SCALE` holds exactly."""


def scaled(ratio: Decimal) -> int:
    """`ratio × SCALE` as an exact integer."""
    value = ratio * SCALE
    if value != value.to_integral_value():
        raise NotScalable(f"ratio {ratio} has more than six decimals")
    return int(value)


def apply_ratio(fen: pl.Expr, ratio: pl.Expr | int) -> pl.Expr:
    """`money.apply_ratio` for fen ≥ 0 and a scaled ratio: fen × ratio, half-up once."""
    return (2 * fen * ratio + SCALE) // (2 * SCALE)


def round_scaled(amount: pl.Expr) -> pl.Expr:
    """`money.round_half_up` of a non-negative fen amount held × SCALE."""
    return (2 * amount + SCALE) // (2 * SCALE)


# "0.0000" ... "1.0000": the text of every ratio in [0, 1] to four places, by ten-thousandths
RATIO4_TEXTS = pl.Series([f"{k // 10_000}.{k % 10_000:04d}" for k in range(10_001)])


def ratio4_text(ratio: pl.Expr) -> pl.Expr:
    """`money.ratio4` of a scaled ratio in [0, 1], as the decimal text '0.7000' (looked up by
    ten-thousandths, rounded half-up; a ratio outside [0, 1] is an error, not a text)."""
    tenths = (ratio + SCALE // 20_000) // (SCALE // 10_000)
    return pl.lit(RATIO4_TEXTS).gather(tenths)
