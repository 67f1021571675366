"""大额医疗费用补助 / 超限额补充 (`hifob_pay`), vectorized: twin of
`engine/layers/large_expense.py`.

The cost above the basic cap is `eligible − paid / ratio` in the engine's Decimal context
(a division, rounded to its precision), so it is computed with the same Decimals on the few
claims the pool cap bound. The layer's running total then only grows once the pool is
exhausted for the year, when the combined room is `combined_cap − pool_cap − paid before`:
a running total clipped at a constant.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from yibao.batch.context import PERSON_YEAR, Fallbacks, inscope_left, pay
from yibao.batch.exact import SCALE, scaled
from yibao.batch.matching import in_list
from yibao.batch.running import capped_share
from yibao.money import round_half_up
from yibao.policy.schema import LargeExpense, SchemePolicy


def check(rule: LargeExpense) -> None:
    scaled(rule.ratio.value)


def large_expense(
    frame: pl.LazyFrame, rule: LargeExpense, scheme: SchemePolicy, fallbacks: Fallbacks
) -> pl.LazyFrame:
    """Pays `ratio` of the in-scope cost the basic fund could not take because its cap was
    reached, while basic + this layer stay within the combined annual limit."""
    applies = in_list("med_type", rule.med_types) & pl.col("overflow")
    frame = frame.with_columns(_overflow_wanted(applies, rule).alias("le_wanted"))
    want = (
        pl.when(pl.col("le_wanted").is_not_null())
        .then(pl.min_horizontal(pl.col("le_wanted"), inscope_left()))
        .otherwise(0)
    )
    room = max(0, rule.combined_cap.fen - scheme.pooling.annual_cap.fen)
    frame = frame.with_columns(capped_share(want, room, PERSON_YEAR).alias("le_amount"))
    return pay(frame, "hifob_pay", pl.col("le_amount")).drop("le_wanted", "le_amount")


def _overflow_wanted(applies: pl.Expr, rule: LargeExpense) -> pl.Expr:
    """round_half_up(overflow_cost × ratio) on the claims the pool cap bound, in Decimals as
    the engine computes it (null where nothing overflows)."""
    ratio = rule.ratio.value

    def wanted(batch: pl.Series) -> pl.Series:
        rows = batch.struct.unnest().with_row_index("i").filter(pl.col("applies"))
        where, amounts = [], []
        for i, eligible, paid, pool_ratio in rows.select(
            "i", "eligible", "pool_amount", "pool_ratio"
        ).iter_rows():
            cost = Decimal(eligible) - Decimal(paid) / (Decimal(pool_ratio) / SCALE)
            if cost > 0:
                where.append(i)
                amounts.append(round_half_up(cost * ratio))
        out = pl.select(pl.repeat(None, batch.len(), dtype=pl.Int64)).to_series()
        return out.scatter(where, amounts) if where else out

    columns = pl.struct(applies.alias("applies"), "eligible", "pool_amount", "pool_ratio")
    return columns.map_batches(wanted, return_dtype=pl.Int64)
