"""Basic pooling (统筹基金, `hifp_pay`), vectorized: the columnar twin of `engine/pooling.py`.

Per claim: the first matching benefit, its tilts, waivers, ratio and deductible. Across a
person's year: prior-admission counts, annual deductibles and caps as segmented cumulative
sums. The shared annual cap of the pool (all benefits) and a benefit's own cap are applied
in the engine's order, min of the rooms: the benefit cap first as a clipped running total
(`a'`); then, since the pool room only ever binds once in a year (after that it is 0), the
pool clips the running total of `a'` — exact, because until the pool binds the payments
are exactly `a'`.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import polars as pl

from yibao.batch.context import PERSON_YEAR, Fallbacks, pay
from yibao.batch.exact import SCALE, apply_ratio, scaled
from yibao.batch.matching import (
    benefit_matches,
    computed_where,
    disease_code,
    disease_index,
    group_claimed,
    has_any,
    in_list,
    level_key,
    primary_starts_with,
    shows_code,
)
from yibao.batch.running import (
    STRIDE,
    before,
    capped_share,
    cumulative,
    falls,
    rising_capped_share,
    varies,
    year_window,
)
from yibao.engine.pooling import waiver_codes
from yibao.policy.schema import Cap, PoolBenefit, SchemePolicy, Tilt, Waiver

MAX_FACTOR_TILTS = 6


def check(scheme: SchemePolicy) -> None:
    """Raise NotScalable / ValueError if a benefit has what this module cannot hold exactly."""
    names = len(scheme.pooling.benefits) + sum(len(b.caps) for b in scheme.pooling.benefits)
    if (names + 1) * (len(_disease_slots(scheme.pooling.benefits)) + 1) >= STRIDE:
        raise ValueError("too many benefits, caps and diseases for the window keys")
    for benefit in scheme.pooling.benefits:
        if len(benefit.caps) > 1:
            raise ValueError(f"benefit {benefit.id} has {len(benefit.caps)} caps")
        if len(_factor_tilts(benefit)) > MAX_FACTOR_TILTS:
            raise ValueError(f"benefit {benefit.id} has too many deductible tilts")
        rule = benefit.ratio
        for value in rule.by_level.by_level.values():
            scaled(value)
        for cited in (rule.out_of_region_referred, rule.out_of_region_unreferred):
            if cited is not None:
                scaled(cited.value)
        if rule.retired_points is not None:
            scaled(rule.retired_points.value)
        for tilt in benefit.tilts:
            if tilt.ratio_points is not None:
                scaled(tilt.ratio_points.value)


def basic_pooling(frame: pl.LazyFrame, scheme: SchemePolicy, fallbacks: Fallbacks) -> pl.LazyFrame:
    """统筹基金支付: (in-scope − deductible) × ratio, within the benefit's and the fund's caps."""
    benefits = scheme.pooling.benefits
    frame = _select(frame, benefits)
    frame = _groups_seen(frame, benefits)
    frame = _prior_admissions(frame, benefits)
    frame = frame.with_columns(
        _per_benefit(benefits, _ratio, 0).alias("pool_ratio"),
        _per_benefit(benefits, _full_deductible, None).alias("ded_full"),
        _per_benefit(benefits, _waived, False).alias("ded_waived"),
    )
    frame = _deductible(frame, benefits, fallbacks)
    frame = frame.with_columns(
        (pl.col("inscp") - pl.col("act_pay_dedc")).alias("eligible"),
    ).with_columns(apply_ratio(pl.col("eligible"), pl.col("pool_ratio")).alias("wanted"))
    frame = _within_caps(frame, benefits, scheme.pooling.annual_cap.fen, fallbacks)
    return pay(frame, "hifp_pay", pl.col("pool_amount"))


def _select(frame: pl.LazyFrame, benefits: list[PoolBenefit]) -> pl.LazyFrame:
    """The first benefit whose med_types and conditions match (index, −1: none) and the
    listed disease that made it match (`disease_code`)."""
    listed = [(i, b) for i, b in enumerate(benefits) if b.match and b.match.diseases]
    if listed:  # a benefit's disease only matters on its own med types
        med_types = sorted({m for _, b in listed for m in b.med_types})
        indexes = {f"dis{i}": disease_index(b.match.diseases) for i, b in listed}
        frame = computed_where(frame, in_list("med_type", med_types), indexes, -1)
    chain = None
    for i, b in enumerate(benefits):
        index = pl.col(f"dis{i}") if b.match and b.match.diseases else None
        ok = in_list("med_type", b.med_types) & benefit_matches(b.match, index)
        chain = pl.when(ok).then(i) if chain is None else chain.when(ok).then(i)
    frame = frame.with_columns(chain.otherwise(-1).cast(pl.Int32).alias("benefit"))
    code = pl.lit(None, dtype=pl.String)
    for i, b in enumerate(benefits):
        if b.match and b.match.diseases:
            found = disease_code(b.match.diseases, pl.col(f"dis{i}"))
            code = pl.when(pl.col("benefit") == i).then(found).otherwise(code)
    return frame.with_columns(code.alias("disease_code"))


def _group_names(benefits: list[PoolBenefit]) -> list[str]:
    names = {
        d.group
        for b in benefits
        if b.match and b.match.diseases
        for d in b.match.diseases.items
        if d.group
    }
    return sorted(names)


def _groups_seen(frame: pl.LazyFrame, benefits: list[PoolBenefit]) -> pl.LazyFrame:
    """`ytd.groups_seen`: disease groups shown so far this year, this claim included."""
    columns = []
    for group in _group_names(benefits):
        adds = pl.lit(False)
        for i, b in enumerate(benefits):
            if b.match and b.match.diseases:
                adds = adds | (
                    (pl.col("benefit") == i)
                    & (pl.col(f"dis{i}") >= 0)
                    & group_claimed(b.match.diseases, group)
                )
        seen = cumulative(adds.cast(pl.Int32), PERSON_YEAR) > 0
        columns.append(seen.alias(f"seen:{group}"))
    return frame.with_columns(columns)


def _prior_admissions(frame: pl.LazyFrame, benefits: list[PoolBenefit]) -> pl.LazyFrame:
    """This year's earlier admissions: any, at the claim's level, with a diagnosis."""
    admitting = [i for i, b in enumerate(benefits) if b.counts_as_admission]
    adm = pl.col("benefit").is_in(admitting).cast(pl.Int32)
    frame = frame.with_columns(year_window(level_key()).alias("level_win"), adm.alias("admission"))
    adm = pl.col("admission")
    by_level = any(
        w.prior_admissions_by == "same_level" and w.min_prior_admissions is not None
        for b in benefits
        for w in b.waivers
    )
    return frame.with_columns(
        before(adm, PERSON_YEAR).alias("prior_any"),
        *([before(adm, ["level_win"]).alias("prior_level")] if by_level else []),
        *[
            before(adm * shows_code(code).cast(pl.Int32), PERSON_YEAR).alias(f"prior_dx:{code}")
            for code in waiver_codes(benefits)
        ],
    )


def _per_benefit(benefits: list[PoolBenefit], build, default) -> pl.Expr:
    """One expression per benefit, taken on the claims that benefit settles."""
    expr = pl.lit(default)
    for i, b in enumerate(benefits):
        expr = pl.when(pl.col("benefit") == i).then(build(b)).otherwise(expr)
    return expr


def _tilt_applies(tilt: Tilt) -> pl.Expr:
    applies = has_any(tilt.categories)
    if tilt.levels:
        applies = applies & in_list("level", tilt.levels)
    if tilt.in_region_only:
        applies = applies & ~pl.col("oor")
    return applies


def _by_level(values: dict[int, int]) -> pl.Expr:
    expr = pl.lit(values[3])
    for level in (2, 1):
        expr = pl.when(pl.col("level") == level).then(values[level]).otherwise(expr)
    return expr


def _ratio(benefit: PoolBenefit) -> pl.Expr:
    """Payment ratio after transfer-out, retirement and tilts, clamped to [0, 1] (scaled)."""
    rule = benefit.ratio
    ratio = _by_level({k: scaled(v) for k, v in rule.by_level.by_level.items()})
    oor = pl.col("oor")
    if rule.out_of_region_referred is not None:
        referred = scaled(rule.out_of_region_referred.value)
        ratio = pl.when(oor & pl.col("referral")).then(referred).otherwise(ratio)
    if rule.out_of_region_unreferred is not None:
        unreferred = scaled(rule.out_of_region_unreferred.value)
        ratio = pl.when(oor & ~pl.col("referral")).then(unreferred).otherwise(ratio)
    if rule.retired_points is not None:
        points = scaled(rule.retired_points.value)
        ratio = ratio + pl.when(pl.col("retired")).then(points).otherwise(0)
    for tilt in benefit.tilts:
        if tilt.ratio_points is not None:
            points = scaled(tilt.ratio_points.value)
            ratio = ratio + pl.when(_tilt_applies(tilt)).then(points).otherwise(0)
    return ratio.clip(0, SCALE)


def _factor_tilts(benefit: PoolBenefit) -> list[Tilt]:
    return [t for t in benefit.tilts if t.deductible_factor is not None]


def _full_deductible(benefit: PoolBenefit) -> pl.Expr:
    """起付线 before it meets the claim: by level or transfer-out, × tilt and repeat factors,
    rounded half-up once. Each combination of factors is an exact fraction."""
    rule = benefit.deductible
    if rule is None:
        return pl.lit(None, dtype=pl.Int64)
    base = _by_level({level: rule.amount.fen(level) for level in (1, 2, 3)})
    if rule.out_of_region is not None:
        base = pl.when(pl.col("oor")).then(rule.out_of_region.fen).otherwise(base)
    tilts = _factor_tilts(benefit)
    factors = [Fraction(t.deductible_factor.value) for t in tilts]
    flags = [_tilt_applies(t) for t in tilts]
    repeat = rule.repeat_admission_factor
    if rule.basis == "per_admission" and repeat is not None:
        factors.append(Fraction(repeat.value))
        flags.append(pl.col("prior_any") > 0)
    base = base.cast(pl.Int64)
    full = base
    for chosen in product((False, True), repeat=len(factors)):
        if not any(chosen):
            continue
        factor = Fraction(1)
        for use, f in zip(chosen, factors, strict=True):
            if use:
                factor *= f
        hit = pl.lit(True)
        for use, flag in zip(chosen, flags, strict=True):
            hit = hit & (flag if use else ~flag)
        num, den = factor.numerator, factor.denominator
        full = pl.when(hit).then((2 * base * num + den) // (2 * den)).otherwise(full)
    return full


def _waived(benefit: PoolBenefit) -> pl.Expr:
    waived = pl.lit(False)
    for waiver in benefit.waivers:
        waived = waived | _waiver_applies(waiver)
    return waived


def _waiver_applies(waiver: Waiver) -> pl.Expr:
    applies = pl.lit(True)
    if waiver.categories is not None:
        applies = applies & has_any(waiver.categories)
    if waiver.levels:
        applies = applies & in_list("level", waiver.levels)
    if waiver.in_region_only:
        applies = applies & ~pl.col("oor")
    if waiver.primary_diagnosis_prefixes is not None:
        applies = applies & primary_starts_with(waiver.primary_diagnosis_prefixes)
    if waiver.diagnosis_codes is not None:
        shown = pl.lit(False)
        for code in waiver.diagnosis_codes:
            shown = shown | shows_code(code)
        applies = applies & shown
    if waiver.min_prior_admissions is not None:
        applies = applies & (_prior(waiver) >= waiver.min_prior_admissions)
    return applies


def _prior(waiver: Waiver) -> pl.Expr:
    if waiver.prior_admissions_by == "same_level":
        return pl.col("prior_level")
    if waiver.prior_admissions_by == "diagnosis":
        counts = [
            pl.when(shows_code(code)).then(pl.col(f"prior_dx:{code}")).otherwise(0)
            for code in waiver.diagnosis_codes or ()
        ]
        return pl.max_horizontal(pl.lit(0), *counts)
    return pl.col("prior_any")


def _deductible(
    frame: pl.LazyFrame, benefits: list[PoolBenefit], fallbacks: Fallbacks
) -> pl.LazyFrame:
    """起付线 borne: per admission, min(full, in-scope); annual, the claim's part of the year's
    in-scope cost up to the full amount (a running total per benefit, or benefit + disease)."""
    basis = pl.lit(None, dtype=pl.String)
    key = pl.lit(None, dtype=pl.Int64)
    slots = _disease_slots(benefits)
    ids = _numbered(b.id for b in benefits if b.deductible and b.deductible.basis == "annual")
    for i, b in enumerate(benefits):
        if b.deductible is None:
            continue
        mine = pl.col("benefit") == i
        basis = pl.when(mine).then(pl.lit(b.deductible.basis)).otherwise(basis)
        if b.deductible.basis == "annual":  # "deductible:{id}[:{disease code}]"
            part = _slot_key(ids[b.id], slots, i, b, b.deductible.per_disease)
            key = pl.when(mine).then(part).otherwise(key)
    live = pl.col("ded_basis").is_not_null() & ~pl.col("ded_waived")
    annual = live & (pl.col("ded_basis") == "annual")
    frame = frame.with_columns(basis.alias("ded_basis"), key.alias("ded_key")).with_columns(
        year_window(pl.when(annual).then(pl.col("ded_key"))).alias("ded_win"),
        pl.when(annual).then(pl.col("ded_full")).alias("annual_full"),
    )
    keys = ["ded_win"]
    if any(_annual_may_vary(b) for b in benefits):
        frame = fallbacks.flag(
            frame,
            "an annual deductible that changes within the year",
            annual & varies(pl.col("annual_full"), keys),
        )
    want = pl.when(annual).then(pl.col("inscp")).otherwise(0)
    borne = (
        pl.when(~live)
        .then(0)
        .when(pl.col("ded_basis") == "per_admission")
        .then(pl.min_horizontal(pl.col("ded_full"), pl.col("inscp")))
        .otherwise(capped_share(want, pl.col("annual_full").fill_null(0), keys))
    )
    return frame.with_columns(borne.alias("act_pay_dedc"))


def _numbered(names) -> dict[str, int]:
    """Distinct names → 0, 1, ... (in sorted order)."""
    return {name: k for k, name in enumerate(sorted(set(names)))}


def _disease_slots(benefits: list[PoolBenefit]) -> dict[str | None, int]:
    """Every listed disease code → 1, 2, ...; no disease (null) the last slot, as the code
    "None" is (a string key wrote a missing code as "None")."""
    codes = {
        d.code for b in benefits if b.match and b.match.diseases for d in b.match.diseases.items
    }
    slots: dict[str | None, int] = {c: k for k, c in enumerate(sorted(codes - {"None"}), 1)}
    slots[None] = slots["None"] = len(slots) + 1
    return slots


def _slot_key(
    number: int, slots: dict[str | None, int], i: int, benefit: PoolBenefit, per_disease: bool
) -> pl.Expr:
    """The window of a running total named `number`, per disease when `per_disease` (the
    disease benefit `i` matched, from its `dis{i}` index): an integer, one per name."""
    base = (number + 1) * (len(slots) + 1)
    if not per_disease:
        return pl.lit(base, dtype=pl.Int64)
    if not (benefit.match and benefit.match.diseases):
        return pl.lit(base + slots[None], dtype=pl.Int64)
    mapping = {k: slots[d.code] for k, d in enumerate(benefit.match.diseases.items)}
    slot = pl.col(f"dis{i}").replace_strict(mapping, default=slots[None], return_dtype=pl.Int64)
    return base + slot


def _annual_may_vary(benefit: PoolBenefit) -> bool:
    """Whether an annual deductible's full amount can differ between claims of one year."""
    rule = benefit.deductible
    if rule is None or rule.basis != "annual":
        return False
    levels = {rule.amount.fen(level) for level in (1, 2, 3)}
    return len(levels) > 1 or rule.out_of_region is not None or bool(_factor_tilts(benefit))


def _cap_limit(cap: Cap) -> pl.Expr:
    if cap.amount is not None:
        return pl.lit(cap.amount.fen)
    if cap.by_employment is not None:
        money = cap.by_employment
        return pl.when(pl.col("retired")).then(money.fen(True)).otherwise(money.fen(False))
    groups = cap.by_group or {}
    if not groups:
        return pl.lit(cap.all_groups.fen if cap.all_groups is not None else 0)
    seen = {g: pl.col(f"seen:{g}") for g in groups}
    best = pl.max_horizontal(
        *[pl.when(seen[g]).then(money.fen).otherwise(None) for g, money in groups.items()]
    ).fill_null(0)
    if cap.all_groups is None:
        return best
    every = pl.all_horizontal(*seen.values())
    return pl.when(every).then(cap.all_groups.fen).otherwise(best)


def _within_caps(
    frame: pl.LazyFrame, benefits: list[PoolBenefit], pool_cap: int, fallbacks: Fallbacks
) -> pl.LazyFrame:
    """Limit the payment by the benefit's cap, then by the pool's annual cap; note whether
    the pool cap bound it (cost above it overflows to 大额, `overflow`)."""
    frame = _add_missing_seen(frame, benefits)
    limit = pl.lit(None, dtype=pl.Int64)
    key = pl.lit(None, dtype=pl.Int64)
    slots = _disease_slots(benefits)
    ids = _numbered(cap.id for b in benefits for cap in b.caps)
    for i, b in enumerate(benefits):
        for cap in b.caps:  # "cap:{id}[:{disease code}]"
            mine = pl.col("benefit") == i
            part = _slot_key(ids[cap.id], slots, i, b, cap.per_disease)
            limit = pl.when(mine).then(_cap_limit(cap).cast(pl.Int64)).otherwise(limit)
            key = pl.when(mine).then(part).otherwise(key)
    frame = frame.with_columns(limit.alias("cap_limit"), key.alias("cap_key"))
    capped = pl.col("cap_key").is_not_null()
    frame = frame.with_columns(year_window(pl.col("cap_key")).alias("cap_win"))
    keys = ["cap_win"]
    frame = frame.with_columns(
        pl.when(capped).then(pl.col("wanted")).otherwise(0).alias("cap_want")
    )
    if any(cap.by_group is not None for b in benefits for cap in b.caps):
        # a 两病-style cap rises as disease groups are seen during the year
        frame = fallbacks.flag(
            frame,
            "a benefit cap that falls within the year",
            capped & falls(pl.col("cap_limit"), keys),
        )
        frame = rising_capped_share(frame, "cap_want", "cap_limit", keys, "cap_share")
        frame = frame.with_columns(
            (pl.col("cap_share_used") - pl.col("cap_share")).alias("cap_before")
        )
    else:
        want, limit = pl.col("cap_want"), pl.col("cap_limit").fill_null(0)
        frame = frame.with_columns(
            capped_share(want, limit, keys).alias("cap_share"),
            pl.min_horizontal(before(want, keys), limit).alias("cap_before"),
        )
    first = pl.when(capped).then(pl.col("cap_share")).otherwise(pl.col("wanted"))
    frame = frame.with_columns(first.alias("after_cap"))
    room_before = pool_cap - before(pl.col("after_cap"), PERSON_YEAR)
    amount = pl.max_horizontal(0, pl.min_horizontal(pl.col("after_cap"), room_before))
    frame = frame.with_columns(amount.alias("pool_amount"))
    pool_room = pl.max_horizontal(0, pool_cap - before(pl.col("pool_amount"), PERSON_YEAR))
    cap_room = pl.max_horizontal(0, pl.col("cap_limit") - pl.col("cap_before"))
    overflow_ok = [i for i, b in enumerate(benefits) if b.overflow_to_large_expense]
    binding = (pool_room < pl.col("wanted")) & (~capped | (pool_room <= cap_room))
    overflow = binding & pl.col("benefit").is_in(overflow_ok) & (pl.col("pool_ratio") > 0)
    return frame.with_columns(overflow.fill_null(False).alias("overflow"))


def _add_missing_seen(frame: pl.LazyFrame, benefits: list[PoolBenefit]) -> pl.LazyFrame:
    """A cap group no disease list names is never seen."""
    missing = {
        g
        for b in benefits
        for cap in b.caps
        for g in (cap.by_group or {})
        if f"seen:{g}" not in frame.collect_schema().names()
    }
    return frame.with_columns(pl.lit(False).alias(f"seen:{g}") for g in sorted(missing))
