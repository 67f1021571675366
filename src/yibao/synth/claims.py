"""Claims of synthetic persons: how many, when, where, for what, and at what cost.

One row per claim. General outpatient visits (11), chronic/special-disease visits (14, or 11
where the region does not list the person's condition), pharmacy purchases (41) and inpatient
stays (21) are drawn per person from Poisson counts scaled by the person's frailty and the
share of the year inside the policy window. Stays of one person never overlap and are at least
`care.READMISSION_GAP` days apart (a planted split hospitalisation is the exception), and no
other claim falls inside a stay. Each claim carries a target total (`target` yuan, log-normal
body with a Pareto tail) that `lines` spends on items.
"""

from __future__ import annotations

import polars as pl

from yibao.synth import care
from yibao.synth.draws import Draws, key, pick, poisson, weighted_table
from yibao.synth.plan import Plan

KIND = {"11": 1, "chronic": 2, "41": 3, "stay": 4, "readmission": 5}
MAX_CLAIMS = (1 << 13) - 1  # per person and kind (the key holds 13 bits)


def claim_key(kind: int | pl.Expr) -> pl.Expr:
    return key((pl.col("p"), 34), (kind, 3), (pl.col("j"), 13))


def _by(values: dict, column: pl.Expr, default=None) -> pl.Expr:
    """A per-row constant chosen by a column's value (a small lookup)."""
    out = pl.lit(default)
    for value, result in values.items():
        out = pl.when(column == value).then(pl.lit(result)).otherwise(out)
    return out


def _by_band(weights: care.Weights) -> pl.Expr:
    return _by(dict(enumerate(weights)), pl.col("band"), 0.0)


def _choice(u: pl.Expr, probabilities: list[pl.Expr | float]) -> pl.Expr:
    """Index (0 …) of the category a uniform falls in, given per-row probabilities."""
    index = pl.lit(0, dtype=pl.Int8)
    running: pl.Expr = pl.lit(0.0)
    for p in probabilities[:-1]:
        running = running + p
        index = index + (u >= running).cast(pl.Int8)
    return index


def _level(u: pl.Expr, table: dict[str, tuple[float, float, float]]) -> pl.Expr:
    probs = [_by({s: w[i] for s, w in table.items()}, pl.col("scheme"), 0.0) for i in range(3)]
    return (_choice(u, probs) + 1).cast(pl.Int8)


def _heavy_tailed(
    draws: Draws, k: pl.Expr, stream: str, median, sigma: float, tail, scale, alpha: float
) -> pl.Expr:
    """Log-normal body; with probability `tail` a Pareto draw above `scale` instead."""
    body = draws.lognormal(k, stream, median, sigma)
    heavy = draws.pareto(k, stream + "/tail", scale, alpha)
    return pl.when(draws.uniform(k, stream + "/is_tail") < tail).then(heavy).otherwise(body)


def _explode(persons: pl.DataFrame, count: str, columns: list[str]) -> pl.DataFrame:
    return (
        persons.filter(pl.col(count) > 0)
        .select(*columns, j=pl.int_ranges(0, pl.col(count), dtype=pl.Int64))
        .explode("j")
    )


def _date(plan: Plan, offset: pl.Expr) -> pl.Expr:
    return pl.lit(plan.start) + pl.duration(days=offset)


def _institution(plan: Plan, draws: Draws, k: pl.Expr, level: pl.Expr, pharmacy: bool):
    """Designated institution code: H/P + 行政区划代码 + level + sequence (fixmedins_code-like)."""
    u = draws.uniform
    home = u(k, "home") < care.HOME_CLINIC_SHARE
    away = draws.integer(k, "away_institution", 0, plan.institutions["away"] - 1)
    place = pl.when(pl.col("out_of_region")).then(pl.lit(plan.away_code))
    place = place.otherwise(pl.lit(plan.admin_code))
    if pharmacy:
        n = plan.institutions["pharmacy"]
        own = pl.col("home_pharmacy").cast(pl.Int64)
        seq = pl.when(home).then(own).otherwise(draws.integer(k, "pharmacy", 0, n - 1))
        seq = pl.when(pl.col("out_of_region")).then(away).otherwise(seq)
        return pl.format("P{}{}", place, seq.cast(pl.String).str.zfill(5))
    sizes = _by({1: plan.institutions["1"], 2: plan.institutions["2"]}, level)
    sizes = sizes.fill_null(plan.institutions["3"]).cast(pl.Int64)
    anywhere = (u(k, "institution") * sizes).floor().cast(pl.Int64)
    seq = pl.when((level == 1) & home).then(pl.col("home_clinic")).otherwise(anywhere)
    seq = pl.when(pl.col("out_of_region")).then(away).otherwise(seq)
    return pl.format("H{}{}{}", place, level, seq.cast(pl.String).str.zfill(4))


def _diagnosis_table(diagnoses: tuple[care.Diagnosis, ...]) -> pl.DataFrame:
    rows = []
    for d in diagnoses:
        for band in range(len(care.BANDS)):
            for sex in ("M", "F"):
                weight = 0.0 if d.sex and d.sex != sex else d.weights[band]
                rows.append(
                    {
                        "band": band,
                        "sex": sex,
                        "icd": d.icd,
                        "pool": d.pool,
                        "child_pool": d.child_pool,
                        "los_factor": d.los,
                        "cost_factor": d.cost,
                        "extra": list(d.extra),
                        "weight": weight,
                    }
                )
    table = weighted_table(rows, by=["band", "sex"])
    return table.with_columns(
        pl.col("band").cast(pl.Int8), pl.col("extra").cast(pl.List(pl.String))
    )


def _age_on(day: pl.Expr) -> pl.Expr:
    born = pl.col("birth_date")
    before = (day.dt.month().cast(pl.Int32) * 100 + day.dt.day()) < (
        born.dt.month().cast(pl.Int32) * 100 + born.dt.day()
    )
    return day.dt.year() - born.dt.year() - before.cast(pl.Int32)


def _by_scheme_band(table: dict[str, care.Weights]) -> pl.Expr:
    out = pl.lit(0.0)
    for scheme, weights in table.items():
        for band, value in enumerate(weights):
            hit = (pl.col("scheme") == scheme) & (pl.col("band") == band)
            out = pl.when(hit).then(value).otherwise(out)
    return out


def counts(plan: Plan, draws: Draws, persons: pl.DataFrame) -> pl.DataFrame:
    """Per person: numbers of general visits, chronic visits, pharmacy purchases, stays."""
    k = key((pl.col("p"), 34))
    frailty, exposure = pl.col("frailty"), plan.exposure
    chronic = pl.col("chronic").is_not_null()
    visits = {c.key: float(c.visits) for c in care.CHRONIC}
    rates = persons.select(
        n11=_by_scheme_band(care.OUTPATIENT_VISITS) * frailty * exposure,
        n41=_by_scheme_band(care.PHARMACY_PURCHASES) * frailty * exposure,
        n_chronic=pl.col("chronic").replace_strict(visits, default=0.0, return_dtype=pl.Float64)
        * exposure,
        n21=_by_band(care.ADMISSIONS)
        * pl.when(chronic).then(care.CHRONIC_ADMISSION_FACTOR).otherwise(1.0)
        * frailty
        * exposure,
        **{f"u_{name}": draws.uniform(k, f"count/{name}") for name in ("11", "41", "ch", "21")},
    )
    out = {}
    for name, u in (("n11", "u_11"), ("n41", "u_41"), ("n_chronic", "u_ch"), ("n21", "u_21")):
        out[name] = poisson(rates[name].fill_null(0.0), rates[u]).clip(0, MAX_CLAIMS)
    sizes = plan.institutions
    return persons.with_columns(
        **out,
        home_clinic=draws.integer(k, "home_clinic", 0, sizes["1"] - 1),
        home_pharmacy=draws.integer(k, "home_pharmacy", 0, sizes["pharmacy"] - 1),
    )


def outpatient(plan: Plan, draws: Draws, persons: pl.DataFrame, fraud_rate: float) -> pl.DataFrame:
    """General visits (11), chronic visits (14 / 11) and pharmacy purchases (41)."""
    base = ["p", "scheme", "sex", "band", "birth_date", "chronic", "flags"]
    base += ["home_clinic", "home_pharmacy"]
    general = _explode(persons, "n11", base).with_columns(kind=pl.lit(KIND["11"], pl.Int8))
    chronic = _explode(persons, "n_chronic", base).with_columns(
        kind=pl.lit(KIND["chronic"], pl.Int8)
    )
    pharmacy = _explode(persons, "n41", base).with_columns(kind=pl.lit(KIND["41"], pl.Int8))
    parts = [
        _general(plan, draws, general),
        _chronic(plan, draws, chronic),
        _pharmacy(plan, draws, pharmacy),
    ]
    parts = [part for part in parts if part.height]
    if not parts:
        return pl.DataFrame()
    claims = pl.concat(parts, how="diagonal_relaxed")
    return _outpatient_fraud(plan, draws, claims, fraud_rate)


def _common(plan: Plan, draws: Draws, frame: pl.DataFrame, med: str) -> pl.DataFrame:
    k = claim_key(pl.col("kind"))
    out_rate = care.OUT_OF_REGION[med]
    date = _date(plan, draws.integer(k, "date", 0, plan.days - 1))
    frame = frame.with_columns(
        ck=k,
        date=date,
        out_of_region=draws.uniform(k, "out_of_region") < out_rate,
    )
    return frame.with_columns(
        referral=pl.col("out_of_region")
        & (draws.uniform(k, "referral") < care.REFERRED_SHARE[med]),
        age=_age_on(pl.col("date")),
    )


def _away_level(draws: Draws, k: pl.Expr, level: pl.Expr) -> pl.Expr:
    away = (_choice(draws.uniform(k, "away_level"), list(care.OUT_OF_REGION_LEVELS)) + 1).cast(
        pl.Int8
    )
    return pl.when(pl.col("out_of_region")).then(away).otherwise(level)


def _general(plan: Plan, draws: Draws, frame: pl.DataFrame) -> pl.DataFrame:
    if not frame.height:
        return frame
    frame = _common(plan, draws, frame, "11")
    k = pl.col("ck")
    level = _level(draws.uniform(k, "level"), care.OUTPATIENT_LEVELS)
    contracted = pl.col("flags").list.contains("community_contract")
    level1 = draws.uniform(k, "contract_level") < care.COMMUNITY_CONTRACT_LEVEL1
    level = pl.when(contracted & level1).then(pl.lit(1, pl.Int8)).otherwise(level)
    frame = frame.with_columns(hospital_level=_away_level(draws, k, level))
    frame = pick(
        frame.with_columns(_u=draws.uniform(k, "diagnosis")),
        _diagnosis_table(care.OUTPATIENT_DIAGNOSES),
        "_u",
        ["band", "sex"],
    )
    median = _by({lv: m for lv, (m, _) in care.OUTPATIENT_COST.items()}, pl.col("hospital_level"))
    prob, scale, alpha = care.OUTPATIENT_TAIL
    sigma = care.OUTPATIENT_COST[1][1]
    cost = _heavy_tailed(draws, k, "cost", median, sigma, prob, scale, alpha)
    return frame.with_columns(
        med_type=pl.lit("11"),
        diagnoses=pl.concat_list(pl.col("icd")),
        disease=pl.lit(None, pl.String),
        pool=pl.when((pl.col("age") <= 14) & pl.col("child_pool").is_not_null())
        .then(pl.col("child_pool"))
        .otherwise(pl.col("pool")),
        target=cost
        * pl.when(pl.col("out_of_region")).then(care.OUT_OF_REGION_COST_FACTOR).otherwise(1.0),
        institution=_institution(plan, draws, k, pl.col("hospital_level"), pharmacy=False),
    ).drop("_u", "icd", "child_pool", "los_factor", "cost_factor", "extra")


def _chronic(plan: Plan, draws: Draws, frame: pl.DataFrame) -> pl.DataFrame:
    if not frame.height:
        return frame
    frame = _common(plan, draws, frame, "14")
    k = pl.col("ck")
    table = pl.DataFrame(
        [
            {
                "chronic": c.key,
                "icd": c.icd,
                "pool": c.pool,
                "median": float(c.cost),
                "extra": list(c.extra),
                "p1": c.levels[0],
                "p2": c.levels[1],
            }
            for c in care.CHRONIC
        ],
        schema_overrides={"extra": pl.List(pl.String)},
    )
    codes = pl.DataFrame(
        [{"scheme": s, "chronic": c, "disease": d} for (s, c), d in plan.chronic_codes.items()],
        schema={"scheme": pl.String, "chronic": pl.String, "disease": pl.String},
    )
    frame = frame.join(table, on="chronic", how="left").join(
        codes, on=["scheme", "chronic"], how="left"
    )
    level = (_choice(draws.uniform(k, "level"), [pl.col("p1"), pl.col("p2"), 0.0]) + 1).cast(
        pl.Int8
    )
    cost = draws.lognormal(k, "cost", pl.col("median"), care.CHRONIC_COST_SIGMA)
    return (
        frame.with_columns(
            hospital_level=_away_level(draws, k, level),
        )
        .with_columns(
            med_type=pl.when(pl.col("disease").is_not_null())
            .then(pl.lit("14"))
            .otherwise(pl.lit("11")),
            diagnoses=pl.concat_list(pl.col("extra"), pl.col("icd")),
            target=cost,
            institution=_institution(plan, draws, k, pl.col("hospital_level"), pharmacy=False),
        )
        .drop("icd", "median", "extra", "p1", "p2")
    )


def _pharmacy(plan: Plan, draws: Draws, frame: pl.DataFrame) -> pl.DataFrame:
    if not frame.height:
        return frame
    frame = _common(plan, draws, frame, "41")
    k = pl.col("ck")
    median, sigma = care.PHARMACY_COST
    prob, scale, alpha = care.PHARMACY_TAIL
    return frame.with_columns(
        med_type=pl.lit("41"),
        hospital_level=pl.lit(None, pl.Int8),
        diagnoses=pl.lit([], pl.List(pl.String)),
        disease=pl.lit(None, pl.String),
        pool=pl.when(pl.col("age") <= 14)
        .then(pl.lit("pharmacy_child"))
        .otherwise(pl.lit("pharmacy")),
        target=_heavy_tailed(draws, k, "cost", median, sigma, prob, scale, alpha),
        institution=_institution(plan, draws, k, pl.lit(None, pl.Int8), pharmacy=True),
    )


def _pattern(draws: Draws, k: pl.Expr, rate: float, patterns: tuple[str, ...]) -> pl.Expr:
    """A planted fraud pattern (or null) for a claim, each applicable pattern equally likely."""
    if rate <= 0:
        return pl.lit(None, pl.String)
    which = (draws.uniform(k, "fraud/which") * len(patterns)).floor().cast(pl.Int64)
    chosen = _by(dict(enumerate(patterns)), which)
    return pl.when(draws.uniform(k, "fraud") < rate).then(chosen).otherwise(pl.lit(None, pl.String))


def _outpatient_fraud(plan: Plan, draws: Draws, claims: pl.DataFrame, rate: float) -> pl.DataFrame:
    k = pl.col("ck")
    pattern = pl.when(pl.col("med_type") == "41")
    pattern = pattern.then(_pattern(draws, k, rate, care.PHARMACY_PATTERNS))
    pattern = pattern.otherwise(_pattern(draws, k, rate, care.OUTPATIENT_PATTERNS))
    # a children's medicine cannot be wrong for a child, nor progesterone for a woman
    impossible = (pl.col("sex") == "F") & (pl.col("age") <= 14)
    pattern = (
        pl.when((pattern == "sex_age_mismatch") & impossible)
        .then(pl.lit("duplicate_charge"))
        .otherwise(pattern)
    )
    wrong_dx = care.WRONG_SEX_ITEM[1]
    claims = claims.with_columns(pattern=pattern)
    if rate > 0:
        claims = _substitutions(plan, draws, claims, rate)
    male_case = (pl.col("pattern") == "sex_age_mismatch") & (pl.col("sex") == "M")
    return claims.with_columns(
        diagnoses=pl.when(male_case)
        .then(pl.concat_list(pl.col("diagnoses"), pl.lit([wrong_dx], pl.List(pl.String))))
        .otherwise(pl.col("diagnoses"))
    )


def _extra(draws: Draws, k: pl.Expr, rate: float, extra: tuple[str, ...], base: int) -> pl.Expr:
    """One of `extra` for a claim without a pattern, each as likely as one of `base` patterns
    (its own draw streams: the claims the older patterns fall on do not move)."""
    which = (draws.uniform(k, "fraud/extra_which") * len(extra)).floor().cast(pl.Int64)
    hit = pl.col("pattern").is_null() & (draws.uniform(k, "fraud/extra") < rate * len(extra) / base)
    return pl.when(hit).then(_by(dict(enumerate(extra)), which)).otherwise(pl.col("pattern"))


def _substitutions(plan: Plan, draws: Draws, claims: pl.DataFrame, rate: float) -> pl.DataFrame:
    """Plant drug and disease substitution (串换药品 / 串换病种) on visits without a pattern;
    a substituted disease is the first of `care.SUBSTITUTED_DISEASES` the scheme covers and
    the person does not have (none: the visit gets a substituted drug instead)."""
    k, base = pl.col("ck"), len(care.OUTPATIENT_PATTERNS)
    pattern = pl.col("pattern")
    for med, extra in care.EXTRA_OUTPATIENT_PATTERNS.items():
        hit = pl.col("med_type") == med
        pattern = pl.when(hit).then(_extra(draws, k, rate, extra, base)).otherwise(pattern)
    rows = []
    for (scheme, own), code in plan.chronic_codes.items():
        for other in care.SUBSTITUTED_DISEASES:
            target = plan.chronic_codes.get((scheme, other))
            if other != own and target is not None and target != code:
                rows.append({"scheme": scheme, "chronic": own, "_swap": target})
                break
    swaps = pl.DataFrame(
        rows, schema={"scheme": pl.String, "chronic": pl.String, "_swap": pl.String}
    )
    claims = claims.with_columns(pattern=pattern).join(
        swaps, on=["scheme", "chronic"], how="left", maintain_order="left"
    )
    swapped = (pl.col("pattern") == "disease_substitution") & pl.col("_swap").is_not_null()
    stuck = (pl.col("pattern") == "disease_substitution") & pl.col("_swap").is_null()
    return claims.with_columns(
        disease=pl.when(swapped).then(pl.col("_swap")).otherwise(pl.col("disease")),
        pattern=pl.when(stuck).then(pl.lit("drug_substitution")).otherwise(pl.col("pattern")),
    ).drop("_swap")


def _low_standard(draws: Draws, blocks: pl.DataFrame) -> pl.DataFrame:
    """A planted low-standard admission: a cold or gastritis, 1–3 days, a few hundred yuan."""
    k, hit = pl.col("ck"), pl.col("pattern") == "low_standard_admission"
    which = draws.integer(k, "fraud/low_standard_dx", 0, len(care.LOW_STANDARD_DIAGNOSES) - 1)
    icd = _by({i: dx for i, (dx, _) in enumerate(care.LOW_STANDARD_DIAGNOSES)}, which)
    pool = _by({i: pool for i, (_, pool) in enumerate(care.LOW_STANDARD_DIAGNOSES)}, which)
    low, high = care.LOW_STANDARD_COST
    cost = low + (high - low) * draws.uniform(k, "fraud/low_standard_cost")
    return blocks.with_columns(
        diagnoses=pl.when(hit).then(pl.concat_list(icd)).otherwise(pl.col("diagnoses")),
        primary=pl.when(hit).then(icd).otherwise(pl.col("primary")),
        pool=pl.when(hit).then(pool).otherwise(pl.col("pool")),
        los=pl.when(hit)
        .then(draws.integer(k, "fraud/low_standard_days", *care.LOW_STANDARD_DAYS))
        .otherwise(pl.col("los")),
        target=pl.when(hit).then(cost).otherwise(pl.col("target")),
    )


def stays(
    plan: Plan,
    draws: Draws,
    persons: pl.DataFrame,
    fraud_rate: float,
    fraudulent: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Inpatient stays (one claim each; a planted split stay is two claims), laid out in time.

    `fraudulent` institutions (planted, see `fraud.fraudulent_institutions`) get more split
    stays and costlier unpatterned stays."""
    base = ["p", "scheme", "sex", "band", "birth_date", "chronic", "flags", "home_clinic"]
    blocks = _explode(persons, "n21", base + ["home_pharmacy"])
    if not blocks.height:
        return blocks
    k = claim_key(KIND["stay"])
    blocks = blocks.with_columns(
        kind=pl.lit(KIND["stay"], pl.Int8),
        ck=k,
        out_of_region=draws.uniform(k, "out_of_region")
        < _by(care.OUT_OF_REGION["21"], pl.col("scheme"), 0.0),
        pattern=_pattern(draws, k, fraud_rate, care.INPATIENT_PATTERNS),
    )
    k = pl.col("ck")
    blocks = blocks.with_columns(
        referral=pl.col("out_of_region")
        & (draws.uniform(k, "referral") < care.REFERRED_SHARE["21"]),
        hospital_level=_away_level(
            draws, k, _level(draws.uniform(k, "level"), care.INPATIENT_LEVELS)
        ),
    )
    if fraud_rate > 0:
        extra = _extra(
            draws, k, fraud_rate, care.EXTRA_INPATIENT_PATTERNS, len(care.INPATIENT_PATTERNS)
        )
        blocks = blocks.with_columns(pattern=extra)
    if fraudulent:
        # the hospital the stay will be at (the same expression as below, on the same key)
        where = _institution(plan, draws, k, pl.col("hospital_level"), False)
        more = draws.uniform(k, "fraud/institution_split") < care.INSTITUTION_SPLIT_SHARE
        boost = pl.col("pattern").is_null() & where.is_in(list(fraudulent)) & more
        blocks = blocks.with_columns(
            pattern=pl.when(boost).then(pl.lit("split_hospitalization")).otherwise("pattern")
        )
    blocks = _stay_diagnosis(draws, blocks)
    blocks = _stay_size(plan, draws, blocks, "")
    if fraud_rate > 0:
        blocks = _low_standard(draws, blocks)
    # the planted re-admission of a split stay: same diagnosis, level and hospital
    split = pl.col("pattern") == "split_hospitalization"
    second = key((pl.col("p"), 34), (KIND["readmission"], 3), (pl.col("j"), 13))
    blocks = blocks.with_columns(
        gap=pl.when(split).then(draws.integer(k, "split_gap", *care.SPLIT_GAP)).otherwise(0)
    )
    blocks = _stay_size(plan, draws, blocks.with_columns(ck2=second), "2")
    blocks = blocks.with_columns(
        length=pl.col("los") + pl.when(split).then(pl.col("gap") + pl.col("los2")).otherwise(0)
    )
    too_long = split & (pl.col("length") > plan.days - 1)
    blocks = blocks.with_columns(
        pattern=pl.when(too_long).then(pl.lit("duplicate_charge")).otherwise(pl.col("pattern"))
    ).with_columns(
        length=pl.when(pl.col("pattern") == "split_hospitalization")
        .then(pl.col("length"))
        .otherwise(pl.col("los"))
    )
    blocks = _layout(plan, draws, blocks)
    first = blocks.with_columns(
        part=pl.lit(0, pl.Int8),
        admit_date=pl.col("block_start"),
        discharge_date=pl.col("block_start") + pl.duration(days=pl.col("los")),
    )
    readmit = (
        blocks.filter(pl.col("pattern") == "split_hospitalization")
        .with_columns(
            part=pl.lit(1, pl.Int8),
            kind=pl.lit(KIND["readmission"], pl.Int8),
            ck=pl.col("ck2"),
            los=pl.col("los2"),
            target=pl.col("target2"),
            admit_date=pl.col("block_start") + pl.duration(days=pl.col("los") + pl.col("gap")),
        )
        .with_columns(discharge_date=pl.col("admit_date") + pl.duration(days=pl.col("los")))
    )
    out = pl.concat([first, readmit], how="vertical_relaxed")
    out = out.with_columns(
        med_type=pl.lit("21"),
        date=pl.col("discharge_date"),
        age=_age_on(pl.col("discharge_date")),
        institution=_institution(plan, draws, pl.col("ck"), pl.col("hospital_level"), False),
    )
    # both admissions of a split pair are at the hospital of the first
    same = pl.col("institution").first().over(["p", "j"])
    out = out.with_columns(institution=same).drop("ck2", "los2", "target2", "length", "gap")
    if fraudulent:
        inflated = pl.col("pattern").is_null() & pl.col("institution").is_in(list(fraudulent))
        out = out.with_columns(
            target=pl.when(inflated)
            .then(pl.col("target") * care.INFLATED_COST)
            .otherwise(pl.col("target"))
        )
    return out


def _stay_diagnosis(draws: Draws, blocks: pl.DataFrame) -> pl.DataFrame:
    k = pl.col("ck")
    blocks = pick(
        blocks.with_columns(_u=draws.uniform(k, "diagnosis")),
        _diagnosis_table(care.INPATIENT_DIAGNOSES),
        "_u",
        ["band", "sex"],
    )
    table = pl.DataFrame(
        [
            {"chronic": c.key, "c_icd": c.icd, "c_pool": c.pool, "c_extra": list(c.extra)}
            for c in care.CHRONIC
        ],
        schema_overrides={"c_extra": pl.List(pl.String)},
    )
    blocks = blocks.join(table, on="chronic", how="left")
    own = pl.col("chronic").is_not_null() & (
        draws.uniform(k, "chronic_admission") < care.CHRONIC_OWN_ADMISSION
    )
    chemo = draws.uniform(k, "chemo") < 0.6
    extra = pl.when(own).then(pl.col("c_extra")).otherwise(pl.col("extra"))
    extra = pl.when(chemo).then(extra).otherwise(pl.lit([], pl.List(pl.String)))
    icd = pl.when(own).then(pl.col("c_icd")).otherwise(pl.col("icd"))
    pool = pl.when(own).then(pl.col("c_pool")).otherwise(pl.col("pool"))
    age = pl.col("band") <= 1
    pool = (
        pl.when(~own & age & pl.col("child_pool").is_not_null())
        .then(pl.col("child_pool"))
        .otherwise(pool)
    )
    return blocks.with_columns(
        diagnoses=pl.concat_list(extra, icd),
        primary=icd,
        pool=pool,
        disease=pl.lit(None, pl.String),
        los_factor=pl.when(own).then(1.0).otherwise(pl.col("los_factor")),
        cost_factor=pl.when(own).then(1.2).otherwise(pl.col("cost_factor")),
    ).drop("_u", "icd", "child_pool", "extra", "c_icd", "c_pool", "c_extra")


def _stay_size(plan: Plan, draws: Draws, blocks: pl.DataFrame, suffix: str) -> pl.DataFrame:
    """Target cost and length of stay (`target`, `los`, or `target2`, `los2` for a re-admission)."""
    k = pl.col("ck" + suffix)
    level = pl.col("hospital_level")
    median = _by({lv: m for lv, (m, _) in care.INPATIENT_COST.items()}, level) * pl.col(
        "cost_factor"
    )
    sigma = care.INPATIENT_COST[1][1]
    body = draws.lognormal(k, "cost", median, sigma)
    tail_p = _by({lv: t[0] for lv, t in care.INPATIENT_TAIL.items()}, level)
    scale = _by({lv: t[1] for lv, t in care.INPATIENT_TAIL.items()}, level) * pl.col("cost_factor")
    alpha = care.INPATIENT_TAIL[3][2]
    heavy = draws.pareto(k, "cost/tail", scale, alpha)
    cost = pl.when(draws.uniform(k, "cost/is_tail") < tail_p).then(heavy).otherwise(body)
    away = pl.when(pl.col("out_of_region")).then(care.OUT_OF_REGION_COST_FACTOR).otherwise(1.0)
    cost = (cost * away).clip(upper_bound=care.INPATIENT_COST_CAP)
    typical = _by(care.LENGTH_OF_STAY, level) * pl.col("los_factor")
    spread = 0.75 + 0.5 * draws.uniform(k, "los")
    los = (typical * (cost / (median * away)).pow(care.LOS_COST_ELASTICITY) * spread).round(0)
    longest = min(care.MAX_LOS, max(plan.days - 1, 0))
    los = los.clip(min(1, longest), longest).cast(pl.Int64)
    return blocks.with_columns(**{"target" + suffix: cost, "los" + suffix: los})


def _layout(plan: Plan, draws: Draws, blocks: pl.DataFrame) -> pl.DataFrame:
    """Place each person's stays in the window in order, `READMISSION_GAP` days apart at least."""
    gap = care.READMISSION_GAP
    room = plan.days - 1
    blocks = blocks.sort("p", "j")
    step = pl.col("length") + gap
    blocks = blocks.with_columns(need=step.cum_sum().over("p") - gap).filter(pl.col("need") <= room)
    slack = room - pl.col("need").max().over("p")
    offset = (slack * draws.uniform(pl.col("ck"), "slack").sort().over("p")).floor()
    prior = step.cum_sum().over("p") - step
    start = pl.lit(plan.start) + pl.duration(days=(offset.cast(pl.Int64) + prior))
    return (
        blocks.with_columns(block_start=start)
        .with_columns(block_end=pl.col("block_start") + pl.duration(days=pl.col("length")))
        .drop("need")
    )


def without_stay_days(claims: pl.DataFrame, stays: pl.DataFrame) -> pl.DataFrame:
    """Drop outpatient and pharmacy claims dated inside a stay of the same person."""
    if not stays.height or not claims.height:
        return claims
    spans = stays.filter(pl.col("part") == 0).select("p", "block_start", "block_end")
    inside = (
        claims.select("p", "ck", "date")
        .join(spans, on="p")
        .filter(pl.col("date").is_between(pl.col("block_start"), pl.col("block_end")))
        .get_column("ck")
    )
    return claims.filter(~pl.col("ck").is_in(inside.implode()))


# columns only stays have, for chunks without any stay
STAY_COLUMNS = {
    "los": pl.Int64,
    "admit_date": pl.Date,
    "discharge_date": pl.Date,
    "primary": pl.String,
    "part": pl.Int8,
}


# what lines and the output need of a claim
CLAIM_COLUMNS = (
    "p", "kind", "j", "ck", "part", "date", "med_type", "hospital_level", "out_of_region",
    "referral", "admit_date", "discharge_date", "los", "diagnoses", "primary", "disease",
    "institution", "pool", "target", "pattern", "sex", "age",
)  # fmt: skip


def number_claims(claims: pl.DataFrame) -> pl.DataFrame:
    """Claim ids C0001 … per person, in settlement-date order (only the columns still needed)."""
    missing = {name: pl.lit(None, dtype) for name, dtype in STAY_COLUMNS.items()}
    claims = claims.with_columns(**{k: v for k, v in missing.items() if k not in claims.columns})
    claims = claims.select(CLAIM_COLUMNS).sort("p", "date", "kind", "j")
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    first_row = pl.when(pl.col("p").is_first_distinct()).then(row).forward_fill()
    number = (row - first_row + 1).cast(pl.String).str.zfill(4)
    return claims.with_columns(claim_id=pl.format("C{}", number))
