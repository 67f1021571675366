"""兜底 top-up (`oth_pay`), vectorized: twin of `engine/layers/top_up.py` (no year state)."""

from __future__ import annotations

import polars as pl

from yibao.batch.context import Fallbacks, inscope_left, pay
from yibao.batch.exact import apply_ratio, scaled
from yibao.batch.matching import has_any, in_list
from yibao.policy.schema import PovertyTopUp, SchemePolicy


def check(rule: PovertyTopUp) -> None:
    scaled(rule.floor_share.value)


def poverty_top_up(
    frame: pl.LazyFrame, rule: PovertyTopUp, scheme: SchemePolicy, fallbacks: Fallbacks
) -> pl.LazyFrame:
    """For the listed categories, pays max(0, floor × in-scope cost − every fund so far), so
    the compliant cost is reimbursed at least at the floor share (e.g. 90% for 建档立卡)."""
    applies = in_list("med_type", rule.med_types) & has_any(rule.categories)
    if rule.in_region_only:
        applies = applies & ~pl.col("oor")
    target = apply_ratio(pl.col("inscp"), scaled(rule.floor_share.value))
    amount = pl.min_horizontal(pl.max_horizontal(0, target - pl.col("fund_total")), inscope_left())
    return pay(frame, "oth_pay", pl.when(applies).then(amount).otherwise(0))
