"""大病保险 (`hifmi_pay`), vectorized: twin of `engine/layers/critical_illness.py`.

The year's burden before and after each claim are running totals; each segment's part is
then a clip of the two, weighted by the segment ratio (scaled, exact) and rounded half-up
once. The tilts depend only on the person's categories, so each combination of tilts is a
set of literal segment bounds and ratios.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import polars as pl

from yibao.batch.context import PERSON_YEAR, Fallbacks, inscope_left, pay
from yibao.batch.exact import round_scaled, scaled
from yibao.batch.matching import has_any, in_list
from yibao.batch.running import before, capped_share
from yibao.money import round_half_up, yuan_to_fen
from yibao.policy.schema import CriticalIllness, SchemePolicy

MAX_TILTS = 6
_ONE, _ZERO = Decimal(1), Decimal(0)


def check(rule: CriticalIllness) -> None:
    if len(rule.tilts) > MAX_TILTS:
        raise ValueError("too many 大病 tilts")
    for chosen in product((False, True), repeat=len(rule.tilts)):
        for _, _, ratio in _terms(rule, chosen)[0]:
            scaled(ratio)


def critical_illness(
    frame: pl.LazyFrame, rule: CriticalIllness, scheme: SchemePolicy, fallbacks: Fallbacks
) -> pl.LazyFrame:
    """After basic insurance, the burden above the annual 大病 threshold is paid segment by
    segment (分段累进); special populations get a lower threshold, higher ratios, no cap."""
    applies = in_list("med_type", rule.med_types)
    frame = frame.with_columns(
        pl.when(applies).then(inscope_left()).otherwise(0).alias("ci_burden")
    )
    burden = pl.col("ci_burden")
    frame = frame.with_columns(before(burden, PERSON_YEAR).alias("ci_before"))
    earlier = pl.col("ci_before")
    after = earlier + burden
    exact, capped = pl.lit(0, dtype=pl.Int64), pl.lit(True)
    flags = [has_any(t.categories) for t in rule.tilts]
    for chosen in product((False, True), repeat=len(rule.tilts)):
        bands, is_capped = _terms(rule, chosen)
        total = pl.lit(0, dtype=pl.Int64)
        for lower, upper, ratio in bands:
            top = after if upper is None else pl.min_horizontal(after, upper)
            part = pl.max_horizontal(0, top - pl.max_horizontal(earlier, lower))
            total = total + part * scaled(ratio)
        hit = pl.lit(True)
        for use, flag in zip(chosen, flags, strict=True):
            hit = hit & (flag if use else ~flag)
        exact = pl.when(hit).then(total).otherwise(exact)
        capped = pl.when(hit).then(is_capped).otherwise(capped)
    frame = frame.with_columns(
        pl.when(applies).then(round_scaled(exact)).otherwise(0).alias("ci_amount"),
        capped.alias("ci_capped"),
    )
    amount = pl.col("ci_amount")
    if rule.cap is not None:
        within = capped_share(amount, rule.cap.fen, PERSON_YEAR)
        amount = pl.when(pl.col("ci_capped")).then(within).otherwise(amount)
    frame = pay(frame, "hifmi_pay", amount)
    return frame.drop("ci_burden", "ci_before", "ci_amount", "ci_capped")


def _terms(
    rule: CriticalIllness, chosen: tuple[bool, ...]
) -> tuple[list[tuple[int, int | None, Decimal]], bool]:
    """`_terms` + `_segments` bounds for one combination of tilts: (lower, upper, ratio) of
    each segment that is not empty, and whether the cap applies."""
    factor, points, floor, capped = _ONE, _ZERO, _ZERO, True
    for use, tilt in zip(chosen, rule.tilts, strict=True):
        if not use:
            continue
        if tilt.deductible_factor is not None:
            factor *= tilt.deductible_factor.value
        if tilt.ratio_points is not None:
            points += tilt.ratio_points.value
        if tilt.ratio_floor is not None:
            floor = max(floor, tilt.ratio_floor.value)
        if tilt.no_cap is not None and tilt.no_cap.value:
            capped = False
    deductible = round_half_up(Decimal(rule.deductible.fen) * factor)
    bands = []
    for i, band in enumerate(rule.segments.bands):
        lower = deductible if i == 0 else max(yuan_to_fen(band.lower), deductible)
        upper = None if band.upper is None else yuan_to_fen(band.upper)
        if upper is not None and upper <= lower:
            continue
        bands.append((lower, upper, min(_ONE, max(band.ratio + points, floor))))
    return bands, capped
