"""Claim lines: the items a claim is billed for, spending the claim's target total.

Fixed lines come first: the consultation fee of a hospital visit, a bed line for every day of a
stay (and nursing on most), the items a diagnosis always needs (an appendectomy for K35, a stent
for I21 at level 2 and above, a lens for a cataract). Variable lines are drawn from the claim's
item pool; their quantities share out what the target total leaves after the fixed lines, so the
claim totals keep the heavy tail of the targets. Every item is checked against its catalogue
restriction (sex, age, hospital level, indication) and replaced by an unrestricted one of its
kind if the person or claim falls outside it, so that only planted fraud breaks a restriction.
"""

from __future__ import annotations

import re

import polars as pl

from yibao.synth import care, fraud
from yibao.synth.draws import Draws, key, pick, poisson, weighted_table
from yibao.synth.plan import Plan

ROLE = {"consult": 0, "bed": 1, "nursing": 2, "must": 3, "variable": 4, "planted": 5}
MAX_QUANTITY = 999


def line_key() -> pl.Expr:
    return key((pl.col("ck"), 50), (pl.col("slot"), 12))


def catalog_frame(plan: Plan) -> pl.DataFrame:
    """The catalogue as a frame: names, classes, limits and restrictions."""
    rows = []
    for entry in plan.catalog.values():
        r = entry.restriction
        indication = (
            "\\|(?:" + "|".join(re.escape(p) for p in r.indication_icd) + ")"
            if r.indication_icd
            else None
        )
        rows.append(
            {
                "code": entry.code,
                "name": entry.name,
                "category": entry.category,
                "item_kind": entry.kind,
                "price_limit_fen": entry.price_limit_fen,
                "r_sex": r.sex,
                "r_min_age": r.min_age,
                "r_max_age": r.max_age,
                "r_levels": sorted(r.levels) if r.levels else None,
                "r_indication": indication,
                "base_price": care.PRICES.get(entry.code, 1000),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "code": pl.String,
            "name": pl.String,
            "category": pl.String,
            "item_kind": pl.String,
            "price_limit_fen": pl.Int64,
            "r_sex": pl.String,
            "r_min_age": pl.Int64,
            "r_max_age": pl.Int64,
            "r_levels": pl.List(pl.Int64),
            "r_indication": pl.String,
            "base_price": pl.Int64,
        },
    )


def pool_table(plan: Plan) -> pl.DataFrame:
    rows = [
        {"pool": pool, "code": code, "weight": float(weight)}
        for pool, items in care.POOLS.items()
        for code, weight in items.items()
        if code in plan.catalog
    ]
    rows += [
        {"pool": f"in:{pool}", "code": code, "weight": float(weight)}
        for pool, items in care.POOLS.items()
        for code, weight in {**care.BASE_INPATIENT, **items}.items()
        if code in plan.catalog
    ]
    return weighted_table(rows, by=["pool"])


def build_lines(
    plan: Plan,
    draws: Draws,
    claims: pl.DataFrame,
    catalog: pl.DataFrame,
    pools: pl.DataFrame,
    fraudulent: tuple[str, ...] = (),
) -> pl.DataFrame:
    """All lines of `claims` (row index `c`), fraud planted, numbered 1… per claim, in order;
    the variable lines of `fraudulent` institutions' unpatterned claims billed as B/C items."""
    stays = claims.filter(pl.col("med_type") == "21")
    limits = price_limits(catalog)
    fixed = pl.concat(
        [_consults(claims), *_beds(draws, stays), _musts(draws, stays, limits)],
        how="vertical_relaxed",
    )
    fixed_cost = fixed.group_by("c").agg(fixed_fen=(pl.col("price_fen") * pl.col("quantity")).sum())
    variable = _legal(_variable(draws, claims, pools, fixed_cost, limits), claims, catalog)
    if fraudulent:
        variable = fraud.upcode(variable, claims, fraudulent)
    # Only variable lines can repeat a code on a day (fixed lines are distinct by design); in
    # slot order, the first of two equal lines is the one kept.
    variable = variable.filter(pl.struct("c", "code", "item_date").is_first_distinct())
    lines = pl.concat([fixed, variable], how="vertical_relaxed")
    lines = fraud.plant(plan, draws, lines, claims, catalog)
    day = (pl.col("item_date") - pl.lit(plan.start)).dt.total_days()
    order = key((pl.col("c"), 32), (day, 9), (pl.col("role"), 3), (pl.col("slot"), 12))
    lines = lines.sort(order)
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    first_row = pl.when(pl.col("c").is_first_distinct()).then(row).forward_fill()
    lines = lines.with_columns(line_no=(row - first_row + 1).cast(pl.Int32))
    names = catalog.select("code", "name", "category", "price_limit_fen")
    return lines.join(names, on="code", how="left", maintain_order="left")


def _consults(claims: pl.DataFrame) -> pl.DataFrame:
    visits = claims.filter(pl.col("med_type").is_in(["11", "14"]))
    fee = pl.lit(None, pl.Int64)
    for level, price in care.CONSULT_FEE.items():
        fee = pl.when(pl.col("hospital_level") == level).then(price).otherwise(fee)
    return visits.select(
        "c",
        "ck",
        role=pl.lit(ROLE["consult"], pl.Int8),
        slot=pl.lit(0, pl.Int64),
        code=pl.lit("S001"),
        price_fen=fee.cast(pl.Int64),
        quantity=pl.lit(1, pl.Int64),
        item_date=pl.col("date"),
    )


def _beds(draws: Draws, stays: pl.DataFrame) -> list[pl.DataFrame]:
    """A bed line for every day of the stay (admission day counts, discharge day does not)."""
    days = stays.with_columns(
        slot=pl.int_ranges(0, pl.max_horizontal(pl.col("los"), 1), dtype=pl.Int64)
    ).explode("slot")
    code, price = pl.lit(None, pl.String), pl.lit(None, pl.Int64)
    for level, (bed, fen) in care.BED.items():
        code = pl.when(pl.col("hospital_level") == level).then(pl.lit(bed)).otherwise(code)
        price = pl.when(pl.col("hospital_level") == level).then(fen).otherwise(price)
    day = pl.col("admit_date") + pl.duration(days=pl.col("slot"))
    beds = days.select(
        "c",
        "ck",
        role=pl.lit(ROLE["bed"], pl.Int8),
        slot="slot",
        code=code,
        price_fen=price.cast(pl.Int64),
        quantity=pl.lit(1, pl.Int64),
        item_date=day,
    )
    nursed = (draws.uniform(pl.col("ck"), "nursing") < care.NURSING_SHARE) | (
        pl.col("pattern") == "bed_hanging"
    )
    nursing = days.filter(nursed).select(
        "c",
        "ck",
        role=pl.lit(ROLE["nursing"], pl.Int8),
        slot="slot",
        code=pl.lit(care.NURSING),
        price_fen=pl.lit(care.PRICES[care.NURSING], pl.Int64),
        quantity=pl.lit(1, pl.Int64),
        item_date=day,
    )
    return [beds, nursing]


def _musts(draws: Draws, stays: pl.DataFrame, limits: dict[str, int]) -> pl.DataFrame:
    table = pl.DataFrame(
        [
            {"primary": dx, "code": code, "q_low": lo, "q_high": hi, "min_level": level, "slot": i}
            for dx, items in care.MUST.items()
            for i, (code, (lo, hi, level)) in enumerate(items.items())
        ],
        schema_overrides={"slot": pl.Int64},
    )
    needed = stays.filter(pl.col("pattern").fill_null("") != "bed_hanging").join(
        table, on="primary"
    )
    needed = needed.filter(pl.col("hospital_level") >= pl.col("min_level"))
    needed = needed.with_columns(lk=line_key())
    lk = pl.col("lk")
    return needed.select(
        "c",
        "ck",
        role=pl.lit(ROLE["must"], pl.Int8),
        slot="slot",
        code="code",
        price_fen=_price(draws, lk, "must", pl.col("code"), limits),
        quantity=draws.integer(lk, "must/quantity", pl.col("q_low"), pl.col("q_high")),
        item_date=pl.col("admit_date")
        + pl.duration(days=draws.integer(lk, "must/day", 0, pl.col("los"))),
    )


def price_limits(catalog: pl.DataFrame) -> dict[str, int]:
    limited = catalog.filter(pl.col("price_limit_fen").is_not_null())
    return dict(zip(limited["code"], limited["price_limit_fen"], strict=True))


def _price(
    draws: Draws, lk: pl.Expr, stream: str, code: pl.Expr, limits: dict[str, int]
) -> pl.Expr:
    """Unit price in fen: drugs and materials vary around the typical price, capped at a limit."""
    typical = code.replace_strict(care.PRICES, default=1000, return_dtype=pl.Float64)
    jitter = (draws.normal(lk, stream + "/price") * care.PRICE_JITTER).exp()
    varies = code.is_in([c for c in care.PRICES if c[0] in "XZMG"])  # drugs, materials, goods
    price = pl.when(varies).then(typical * jitter).otherwise(typical).round(0).cast(pl.Int64)
    limit = code.replace_strict(limits, default=None, return_dtype=pl.Int64)
    price = pl.when(limit.is_not_null()).then(pl.min_horizontal(price, limit)).otherwise(price)
    premium = (code == "M002") & (draws.uniform(lk, stream + "/premium") < care.PREMIUM_LENS_SHARE)
    lens = draws.integer(lk, stream + "/lens", *care.PREMIUM_LENS_PRICE)
    return pl.when(premium).then(lens).otherwise(price).cast(pl.Int64)


def _variable(
    draws: Draws,
    claims: pl.DataFrame,
    pools: pl.DataFrame,
    fixed_cost: pl.DataFrame,
    limits: dict[str, int],
) -> pl.DataFrame:
    stay = pl.col("med_type") == "21"
    base, mean, cap = pl.lit(0), pl.lit(0.0), pl.lit(0)
    for med, (b, m, c) in care.VARIABLE_LINES.items():
        hit = pl.col("med_type") == med
        base = pl.when(hit).then(b).otherwise(base)
        mean = pl.when(hit).then(m).otherwise(mean)
        cap = pl.when(hit).then(c).otherwise(cap)
    mean = mean + pl.when(stay).then(pl.col("los") * care.VARIABLE_LINES_PER_DAY).otherwise(0.0)
    sizes = claims.select(
        "c",
        base=base,
        cap=cap,
        mean=mean,
        u=draws.uniform(pl.col("ck"), "variable_lines"),
        hanging=pl.col("pattern").fill_null("") == "bed_hanging",
    )
    n = (poisson(sizes["mean"], sizes["u"]) + sizes["base"]).clip(upper_bound=sizes["cap"])
    n = pl.select(pl.when(sizes["hanging"]).then(0).otherwise(n)).to_series()
    frame = (
        claims.select("c", "ck", "date", "admit_date", "los", "target", "pool", "med_type", n=n)
        .filter(pl.col("n") > 0)
        .with_columns(slot=pl.int_ranges(0, pl.col("n"), dtype=pl.Int64))
        .explode("slot")
    )
    frame = frame.with_columns(lk=line_key())
    lk = pl.col("lk")
    frame = frame.with_columns(
        pool=pl.when(pl.col("med_type") == "21")
        .then(pl.format("in:{}", pl.col("pool")))
        .otherwise(pl.col("pool")),
        _u=draws.uniform(lk, "variable/code"),
    )
    frame = pick(frame, pools, "_u", ["pool"])
    day = pl.when(pl.col("med_type") == "21").then(
        pl.col("admit_date") + pl.duration(days=draws.integer(lk, "variable/day", 0, pl.col("los")))
    )
    frame = frame.with_columns(
        price_fen=_price(draws, lk, "variable", pl.col("code"), limits),
        weight=0.2 + 0.8 * draws.uniform(lk, "variable/share"),
        item_date=day.otherwise(pl.col("date")),
    ).join(fixed_cost, on="c", how="left", maintain_order="left")
    remaining = (pl.col("target") * 100 - pl.col("fixed_fen").fill_null(0)).clip(lower_bound=0)
    units = pl.col("weight") * pl.col("code").replace_strict(
        care.UNITS, default=1.0, return_dtype=pl.Float64
    )
    spread = (units * pl.col("price_fen")).sum().over("c")
    quantity = (remaining * units / spread).round(0).clip(1, MAX_QUANTITY)
    frame = frame.with_columns(quantity=quantity.cast(pl.Int64))
    return frame.select(
        "c",
        "ck",
        role=pl.lit(ROLE["variable"], pl.Int8),
        slot="slot",
        code="code",
        price_fen="price_fen",
        quantity="quantity",
        item_date="item_date",
    )


def _legal(lines: pl.DataFrame, claims: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """Replace items the person or claim falls outside the restriction of (限定支付范围)."""
    rules = catalog.filter(
        pl.any_horizontal(
            pl.col(c).is_not_null()
            for c in ("r_sex", "r_min_age", "r_max_age", "r_levels", "r_indication")
        )
    )
    restricted = pl.col("code").is_in(rules["code"].implode())
    lines = lines.with_row_index("_line")
    context = claims.select(
        "c",
        "sex",
        "age",
        level=pl.col("hospital_level").fill_null(
            pl.when(pl.col("med_type") == "41").then(3).otherwise(1)
        ),
        dx=pl.format("|{}", pl.col("diagnoses").list.join("|")),
    )
    checked = lines.filter(restricted).join(context, on="c").join(rules, on="code")
    outside = (
        (pl.col("r_sex").is_not_null() & (pl.col("r_sex") != pl.col("sex")))
        | (pl.col("r_min_age").is_not_null() & (pl.col("age") < pl.col("r_min_age")))
        | (pl.col("r_max_age").is_not_null() & (pl.col("age") > pl.col("r_max_age")))
        | (
            pl.col("r_levels").is_not_null()
            & ~pl.col("r_levels").list.contains(pl.col("level").cast(pl.Int64))
        )
    ).fill_null(False)
    for code, pattern in zip(rules["code"], rules["r_indication"], strict=True):
        if pattern is not None:
            wrong = (pl.col("code") == code) & ~pl.col("dx").str.contains(pattern)
            outside = outside | wrong
    fallback = pl.col("item_kind").replace_strict(
        care.FALLBACK, default=care.FALLBACK_SERVICE, return_dtype=pl.String
    )
    replaced = checked.filter(outside).select(
        "_line",
        code=fallback,
        price_fen=fallback.replace_strict(care.PRICES, default=1000, return_dtype=pl.Int64),
    )
    if not replaced.height:
        return lines.drop("_line")
    return lines.update(replaced, on="_line").drop("_line")
