"""医疗救助 (`maf_pay`), vectorized: twin of `engine/layers/assistance.py`.

Each programme's annual limit is a running total per person, year and limit group; a limit
group whose programmes have different limits and meet in one person's year is not a single
clipped running total, so that person runs through the per-claim engine.
"""

from __future__ import annotations

import polars as pl

from yibao.batch.context import Fallbacks, inscope_left, pay
from yibao.batch.exact import apply_ratio, scaled
from yibao.batch.matching import disease_index, has_any, in_list
from yibao.batch.running import capped_share, varies, year_window
from yibao.policy.schema import AssistanceProgram, MedicalAssistance, SchemePolicy


def check(rule: MedicalAssistance) -> None:
    for program in rule.programs:
        scaled(program.ratio.value)


def medical_assistance(
    frame: pl.LazyFrame, rule: MedicalAssistance, scheme: SchemePolicy, fallbacks: Fallbacks
) -> pl.LazyFrame:
    """The first programme whose categories (and disease list, if any) fit the person pays
    `ratio` of the in-scope self-pay after insurance, within its annual limit."""
    chain = None
    for k, program in enumerate(rule.programs):
        ok = _eligible(program)
        chain = pl.when(ok).then(k) if chain is None else chain.when(ok).then(k)
    program = pl.when(in_list("med_type", rule.med_types)).then(chain.otherwise(-1))
    frame = frame.with_columns(program.fill_null(-1).alias("ma_program"))
    ratio, limit, key = pl.lit(0), pl.lit(None, dtype=pl.Int64), pl.lit(None, dtype=pl.Int64)
    groups = sorted({p.limit_group or p.id for p in rule.programs})  # "assistance:{group}"
    for k, p in enumerate(rule.programs):
        mine = pl.col("ma_program") == k
        ratio = pl.when(mine).then(scaled(p.ratio.value)).otherwise(ratio)
        limit = pl.when(mine).then(p.annual_limit.fen).otherwise(limit)
        key = pl.when(mine).then(groups.index(p.limit_group or p.id)).otherwise(key)
    frame = frame.with_columns(
        ratio.alias("ma_ratio"), limit.alias("ma_limit"), year_window(key).alias("ma_key")
    )
    keys = ["ma_key"]
    live = pl.col("ma_program") >= 0
    limits: dict[str, set[int]] = {}
    for p in rule.programs:
        limits.setdefault(p.limit_group or p.id, set()).add(p.annual_limit.fen)
    if any(len(found) > 1 for found in limits.values()):
        frame = fallbacks.flag(
            frame,
            "medical-assistance programmes with different limits in one limit group",
            live & varies(pl.col("ma_limit"), keys),
        )
    wanted = pl.when(live).then(apply_ratio(inscope_left(), pl.col("ma_ratio"))).otherwise(0)
    amount = capped_share(wanted, pl.col("ma_limit").fill_null(0), keys)
    frame = pay(frame, "maf_pay", amount)
    return frame.drop("ma_program", "ma_ratio", "ma_limit", "ma_key")


def _eligible(program: AssistanceProgram) -> pl.Expr:
    ok = has_any(program.categories)
    if program.diseases is not None:
        ok = ok & (disease_index(program.diseases) >= 0)
    return ok
