"""City commercial supplementary insurance (`oth_pay`), vectorized: twin of
`engine/layers/commercial.py` — two running bases above their deductibles, one capped total."""

from __future__ import annotations

import polars as pl

from yibao.batch.context import PERSON_YEAR, Fallbacks, inscope_left, pay, person_left
from yibao.batch.exact import round_scaled, scaled
from yibao.batch.matching import in_list
from yibao.batch.running import before, capped_share
from yibao.policy.schema import Commercial, CommercialPart, SchemePolicy


def check(rule: Commercial) -> None:
    scaled(rule.in_scope.ratio.value)
    if rule.out_of_catalogue is not None:
        scaled(rule.out_of_catalogue.ratio.value)


def commercial_supplement(
    frame: pl.LazyFrame, rule: Commercial, scheme: SchemePolicy, fallbacks: Fallbacks
) -> pl.LazyFrame:
    """For enrolled persons: a ratio of the in-catalogue burden left after every public fund
    and of out-of-catalogue inpatient cost, each above its own annual deductible."""
    enrolled = pl.lit(True)
    if rule.opt_in.value:
        enrolled = pl.col("products").list.contains(rule.product).fill_null(False)
    frame = frame.with_columns(
        enrolled.alias("co_enrolled"),
        (inscope_left() + pl.col("pre")).alias("co_in_catalogue"),
    )
    exact = _part(rule.in_scope, "co_in_catalogue")
    if rule.out_of_catalogue is not None:
        exact = exact + _part(rule.out_of_catalogue, "fulamt")
    frame = frame.with_columns(round_scaled(exact).alias("co_amount"))
    want = pl.when(pl.col("co_enrolled")).then(
        pl.min_horizontal(pl.col("co_amount"), person_left())
    )
    amount = capped_share(want.otherwise(0), rule.annual_cap.fen, PERSON_YEAR)
    frame = pay(frame, "oth_pay", amount)
    return frame.drop("co_enrolled", "co_in_catalogue", "co_amount")


def _part(part: CommercialPart, base_column: str) -> pl.Expr:
    """The part of this claim's base above the part's annual deductible × its ratio (scaled)."""
    base = pl.col(base_column)
    active = pl.col("co_enrolled") & in_list("med_type", part.med_types) & (base > 0)
    counted = pl.when(active).then(base).otherwise(0)
    earlier = before(counted, PERSON_YEAR)
    payable = pl.max_horizontal(
        0, earlier + counted - pl.max_horizontal(earlier, part.deductible.fen)
    )
    return payable * scaled(part.ratio.value)
