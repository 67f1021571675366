"""公务员医疗补助 (`cvlserv_pay`), vectorized: twin of `engine/layers/civil_servant.py`."""

from __future__ import annotations

import polars as pl

from yibao.batch.context import PERSON_YEAR, Fallbacks, inscope_left, pay
from yibao.batch.exact import apply_ratio, scaled
from yibao.batch.matching import has_any, in_list
from yibao.batch.running import before
from yibao.policy.schema import CivilServant, SchemePolicy


def check(rule: CivilServant) -> None:
    scaled(rule.ratio.value)


def civil_servant_subsidy(
    frame: pl.LazyFrame, rule: CivilServant, scheme: SchemePolicy, fallbacks: Fallbacks
) -> pl.LazyFrame:
    """Civil servants get `ratio` of the in-scope burden left after earlier layers, above an
    annual cumulative deductible (公务员补助起付线)."""
    applies = in_list("med_type", rule.med_types) & has_any(rule.categories)
    frame = frame.with_columns(
        pl.when(applies).then(inscope_left()).otherwise(0).alias("cs_burden")
    )
    burden = pl.col("cs_burden")
    earlier = before(burden, PERSON_YEAR)
    payable = pl.max_horizontal(
        0, earlier + burden - pl.max_horizontal(earlier, rule.deductible.fen)
    )
    amount = apply_ratio(payable, scaled(rule.ratio.value))
    return pay(frame, "cvlserv_pay", amount).drop("cs_burden")
