"""Synthetic insured persons: age and sex, scheme, employment, categories, accounts, products.

The rates are data at the top of this file; `docs/tables.md` gives each one's source or marks it
assumed. A person is a pure function of (seed, global person index), see `draws`.
"""

from __future__ import annotations

import math

import polars as pl

from yibao.synth import care
from yibao.synth.draws import Draws, key, pick, weighted_table
from yibao.synth.plan import Plan

# 2020 census (第七次全国人口普查) five-year age bands, % of the population: (low, high, share)
AGE_PYRAMID = (
    (0, 4, 5.5), (5, 9, 6.4), (10, 14, 6.0), (15, 19, 5.2), (20, 24, 5.3), (25, 29, 6.5),
    (30, 34, 8.7), (35, 39, 7.0), (40, 44, 6.6), (45, 49, 8.1), (50, 54, 8.4), (55, 59, 7.0),
    (60, 64, 5.2), (65, 69, 5.0), (70, 74, 3.5), (75, 79, 2.3), (80, 84, 1.5), (85, 89, 0.8),
    (90, 99, 0.3),
)  # fmt: skip
MALE_SHARE = ((0, 0.535), (20, 0.513), (60, 0.49), (80, 0.42))  # from this age on
# Share of an age band insured as employees where a region runs both schemes (the rest are
# residents); a one-scheme region draws from the census pyramid weighted by these.
EMPLOYEE_PROPENSITY = ((0, 0.0), (18, 0.25), (25, 0.62), (50, 0.55), (60, 0.45), (75, 0.35))
RETIREMENT_AGE = {"M": 60, "F": 50}  # women: 50 (workers) or 55 (cadres), half each
FEMALE_CADRE_SHARE = 0.5
FLEXIBLE_SHARE = 0.12  # of working-age employees: 灵活就业
CIVIL_SERVANT_SHARE = 0.04  # of in-service and retired employees
# residents: one assistance status at most (特困 / 低保 / 低保边缘), by age
TEKUN = {"young": 0.0025, "old": 0.012}  # old = 60+
DIBAO = 0.040
LOW_INCOME_MARGINAL = 0.015
POVERTY_AMONG_ASSISTED = 0.35  # 建档立卡 among 低保 / 特困 residents
POVERTY_BASE = {"tongliao": 0.020, "fuxin": 0.030, "qingdao": 0.002}  # other residents
POVERTY_DEFAULT = 0.010
SEVERELY_DISABLED = ((0, 0.003), (18, 0.009), (60, 0.03), (80, 0.08))
DISABLED_CHILD = 0.010  # below 18
# employee personal-account balances (yuan): share with none, log-normal median
ACCOUNT = {"in_service": (0.05, 1800.0), "retired": (0.02, 3000.0), "flexible": (0.50, 800.0)}
ACCOUNT_SIGMA = 1.0
# opt-in products a region's policy offers (commercial layer) and person flags its benefits
# require, as shares of the persons who may have them; unknown ones get the default
PRODUCT_SHARE = {"qindao_ebao": 0.35, "*": 0.30}  # 琴岛e保 buyers among Qingdao persons
FLAG_SHARE = {"community_contract": 0.028, "*": 0.05}  # 三约合一 residents (QD-16), of residents


def person_id(plan: Plan) -> pl.Expr:
    """Region prefix and the 1-based global person number: QD000000001."""
    return pl.format("{}{}", pl.lit(plan.id_prefix), (pl.col("p") + 1).cast(pl.String).str.zfill(9))


def _by_age(age: pl.Expr, steps: tuple[tuple[int, float], ...]) -> pl.Expr:
    out = pl.lit(steps[0][1])
    for low, value in steps[1:]:
        out = pl.when(age >= low).then(pl.lit(value)).otherwise(out)
    return out


def _step_value(age: int, steps: tuple[tuple[int, float], ...]) -> float:
    value = steps[0][1]
    for low, v in steps:
        if age >= low:
            value = v
    return value


def _pyramid(schemes: tuple[str, ...]) -> pl.DataFrame:
    """(scheme, sex, age band) cells weighted by census × sex share × scheme propensity."""
    rows = []
    for low, high, share in AGE_PYRAMID:
        for age in range(low, high + 1):
            p_employee = _step_value(age, EMPLOYEE_PROPENSITY)
            male = _step_value(age, MALE_SHARE)
            for sex, p_sex in (("M", male), ("F", 1 - male)):
                for scheme in schemes:
                    p_scheme = p_employee if scheme == "employee" else 1 - p_employee
                    weight = share / (high - low + 1) * p_sex * p_scheme
                    rows.append({"scheme": scheme, "sex": sex, "age": age, "weight": weight})
    return weighted_table(rows, by=[])


def persons_frame(plan: Plan, draws: Draws, first: int, count: int) -> pl.DataFrame:
    """Persons `first` … `first + count − 1`, with the generator's own columns (age, chronic…)."""
    p = pl.col("p")
    k = key((p, 40))
    u = draws.uniform
    frame = pl.DataFrame({"p": pl.int_range(first, first + count, eager=True, dtype=pl.Int64)})
    frame = pick(frame.with_columns(_u=u(k, "cell")), _pyramid(plan.schemes), "_u", [])
    age, sex, scheme = pl.col("age"), pl.col("sex"), pl.col("scheme")

    retire_at = (
        pl.when(sex == "M")
        .then(RETIREMENT_AGE["M"])
        .when(u(k, "cadre") < FEMALE_CADRE_SHARE)
        .then(55)
        .otherwise(RETIREMENT_AGE["F"])
    )
    employment = (
        pl.when(scheme != "employee")
        .then(None)
        .when(age >= retire_at)
        .then(pl.lit("retired"))
        .when(u(k, "flexible") < FLEXIBLE_SHARE)
        .then(pl.lit("flexible"))
        .otherwise(pl.lit("in_service"))
    )
    frame = frame.with_columns(employment=employment)
    employment_c = pl.col("employment")
    resident = scheme == "resident"

    u_assist = u(k, "assistance")
    tekun_rate = pl.when(age >= 60).then(TEKUN["old"]).otherwise(TEKUN["young"])
    assistance = (
        pl.when(~resident)
        .then(None)
        .when(u_assist < tekun_rate)
        .then(pl.lit("tekun"))
        .when(u_assist < tekun_rate + DIBAO)
        .then(pl.lit("dibao"))
        .when(u_assist < tekun_rate + DIBAO + LOW_INCOME_MARGINAL)
        .then(pl.lit("low_income_marginal"))
    )
    frame = frame.with_columns(_assist=assistance)
    base_poverty = POVERTY_BASE.get(plan.region, POVERTY_DEFAULT)
    poverty = resident & (
        u(k, "poverty")
        < pl.when(pl.col("_assist").is_in(["tekun", "dibao"]))
        .then(POVERTY_AMONG_ASSISTED)
        .otherwise(base_poverty)
    )
    severely = u(k, "severely_disabled") < _by_age(age, SEVERELY_DISABLED)
    disabled_child = (age < 18) & (u(k, "disabled_child") < DISABLED_CHILD)
    civil = employment_c.is_in(["in_service", "retired"]) & (
        u(k, "civil_servant") < CIVIL_SERVANT_SHARE
    )
    flags = [
        pl.when(poverty).then(pl.lit("poverty_registered")),
        pl.col("_assist"),
        pl.when(severely).then(pl.lit("severely_disabled")),
        pl.when(disabled_child).then(pl.lit("disabled_child")),
        pl.when(civil).then(pl.lit("civil_servant")),
    ]
    categories = pl.concat_list(flags).list.drop_nulls().list.sort()

    none_share = pl.lit(0.0)
    median = pl.lit(0.0)
    for status, (share, med) in ACCOUNT.items():
        none_share = pl.when(employment_c == status).then(share).otherwise(none_share)
        median = pl.when(employment_c == status).then(med).otherwise(median)
    balance_yuan = draws.lognormal(k, "account", median, ACCOUNT_SIGMA)
    balance = (
        pl.when(employment_c.is_null() | (u(k, "account_none") < none_share))
        .then(0)
        .otherwise((balance_yuan * 100).round(0).cast(pl.Int64))
    )

    products = _opt_ins(plan.products, PRODUCT_SHARE, k, draws)
    flag_list = _opt_ins(plan.flags, FLAG_SHARE, k, draws)
    # age on 1 January of the year is exactly `age`
    days_before = (u(k, "birthday") * 365).floor().cast(pl.Int64)
    birth_date = pl.date(plan.year - age, 1, 1) - pl.duration(days=days_before)
    sigma_f = care.FRAILTY_SIGMA
    frame = frame.with_columns(
        person_id=person_id(plan),
        region=pl.lit(plan.region),
        categories=categories,
        birth_date=birth_date,
        account_balance_fen=balance,
        flags=flag_list,
        products=products,
        frailty=draws.lognormal(k, "frailty", math.exp(-(sigma_f**2) / 2), sigma_f),
        band=sum((age >= low).cast(pl.Int8) for low in care.BANDS[1:]),
    ).drop("_assist", "_u")
    return _chronic(frame, plan, draws, k)


def _opt_ins(
    names: dict[str, tuple[str, ...]], shares: dict[str, float], k: pl.Expr, draws: Draws
) -> pl.Expr:
    """A sorted list of the opt-ins (products or flags) each person has, among their scheme's."""
    if not names:
        return pl.lit([], dtype=pl.List(pl.String))
    parts = [
        pl.when(
            pl.col("scheme").is_in(list(schemes))
            & (draws.uniform(k, f"opt_in/{name}") < shares.get(name, shares["*"]))
        ).then(pl.lit(name))
        for name, schemes in sorted(names.items())
    ]
    return pl.concat_list(parts).list.drop_nulls()


def _chronic(frame: pl.DataFrame, plan: Plan, draws: Draws, k: pl.Expr) -> pl.DataFrame:
    """At most one registered chronic condition per person, by age."""
    prevalence = pl.lit(0.0)
    for i, value in enumerate(care.CHRONIC_PREVALENCE):
        prevalence = pl.when(pl.col("band") == i).then(value).otherwise(prevalence)
    rows = []
    for group in ("child", "adult"):
        for c in care.CHRONIC:
            for sex in ("M", "F"):
                weight = c.child if group == "child" else c.adult
                if c.sex and c.sex != sex:
                    weight = 0
                rows.append({"_group": group, "sex": sex, "chronic": c.key, "weight": weight})
    table = weighted_table(rows, by=["_group", "sex"])
    frame = frame.with_columns(
        _group=pl.when(pl.col("age") < 18).then(pl.lit("child")).otherwise(pl.lit("adult")),
        _u=draws.uniform(k, "chronic_kind"),
    )
    frame = pick(frame, table, "_u", ["_group", "sex"])
    minimum = {c.key: c.min_age for c in care.CHRONIC}
    too_young = pl.col("age") < pl.col("chronic").replace_strict(minimum, default=0)
    has = (draws.uniform(k, "chronic") < prevalence) & ~too_young
    return frame.with_columns(chronic=pl.when(has).then(pl.col("chronic"))).drop("_group", "_u")
