"""Claim lines → four buckets, vectorized: the columnar twin of `engine/buckets.py`.

The catalogue of each policy version is a frame joined on (version number, code). As in the
per-claim engine the item's own fields win over the catalogue, the catalogue over the
region's default, and each line splits exactly: `fulamt + overlmt + preselfpay + inscp`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from yibao.batch.exact import NotScalable, apply_ratio, scaled
from yibao.batch.matching import any_code_starts_with
from yibao.catalog.model import Catalog
from yibao.policy.schema import RegionPolicy

BUCKETS = ["medfee", "fulamt", "overlmt", "pre", "inscp"]


@dataclass
class Catalogues:
    """Every version's catalogue as one frame, plus the versions' catalogue policy."""

    entries: pl.DataFrame
    versions: pl.DataFrame
    indications: list[tuple[str, ...]]
    unscalable: dict[str, str]  # version id → why its ratios cannot be held exactly


def catalogues(
    policies: Mapping[str, RegionPolicy], catalogs: Mapping[str, Mapping[str, Catalog]]
) -> Catalogues:
    indications: dict[tuple[str, ...], int] = {}
    rows, versions, unscalable = [], [], {}
    for region, policy in policies.items():
        for version in policy.versions:
            vid = policy.version_id(version)
            waive = version.catalog.waive_listed_b_selfpay
            try:
                b_ratio = scaled(version.catalog.b_selfpay_ratio.value)
                entries = list(catalogs[region][vid].entries.values())
                ratios = [
                    None if e.selfpay_ratio is None else scaled(e.selfpay_ratio) for e in entries
                ]
            except NotScalable as exc:
                unscalable[vid] = str(exc)
                continue
            vi = len(versions)
            versions.append(
                {"version": vid, "vi": vi, "b_ratio": b_ratio, "waive": bool(waive and waive.value)}
            )
            for entry, ratio in zip(entries, ratios, strict=True):
                rule = entry.restriction
                ind = None
                if rule.indication_icd:
                    ind = indications.setdefault(rule.indication_icd, len(indications))
                rows.append(
                    {
                        "version": vid,
                        "vi": vi,
                        "code": entry.code,
                        "c_category": entry.category,
                        "c_price_limit": entry.price_limit_fen,
                        "c_ratio": ratio,
                        "c_waivable": entry.selfpay_waivable,
                        "c_restricted": entry.restricted,
                        "r_sex": rule.sex,
                        "r_min_age": rule.min_age,
                        "r_max_age": rule.max_age,
                        "r_levels": sorted(rule.levels) if rule.levels else None,
                        "r_ind": ind,
                    }
                )
    schema = {
        "version": pl.String,
        "vi": pl.UInt32,
        "code": pl.String,
        "c_category": pl.String,
        "c_price_limit": pl.Int64,
        "c_ratio": pl.Int64,
        "c_waivable": pl.Boolean,
        "c_restricted": pl.Boolean,
        "r_sex": pl.String,
        "r_min_age": pl.Int32,
        "r_max_age": pl.Int32,
        "r_levels": pl.List(pl.Int32),
        "r_ind": pl.Int32,
    }
    version_schema = {
        "version": pl.String,
        "vi": pl.UInt32,
        "b_ratio": pl.Int64,
        "waive": pl.Boolean,
    }
    return Catalogues(
        pl.DataFrame(rows, schema=schema),
        pl.DataFrame(versions, schema=version_schema),
        list(indications),
        unscalable,
    )


RESTRICTION = ["r_sex", "r_min_age", "r_max_age", "r_levels", "r_ind"]
CLAIM_FIELDS = ["level", "sex", "age", "dx_str"]  # what a restriction looks at


def version_numbers(claims: pl.DataFrame, cat: Catalogues) -> pl.Series:
    """Each claim's policy version as its catalogue number `vi` (null: no catalogue)."""
    numbers = dict(zip(cat.versions["version"], cat.versions["vi"], strict=True))
    return (
        claims.get_column("version")
        .replace_strict(numbers, default=None, return_dtype=pl.UInt32)
        .alias("vi")
    )


def line_buckets(lines: pl.DataFrame, cat: Catalogues, claims: pl.DataFrame) -> pl.LazyFrame:
    """Each line's amount split into 丙类 self-paid, over the price limit, 乙类 first self-pay
    and in scope (`split_lines`). `lines` carry the claim key `ck` and catalogue number `vi`
    (`version_numbers`: an integer join key is cheaper than the version's text); only the
    few lines of restricted items (限定支付) look at their claim's fields in `claims`, so the
    restriction test runs on those lines alone."""
    entries = cat.entries.lazy().drop("version")
    frame = (
        lines.lazy()
        .join(entries.drop(RESTRICTION), on=["vi", "code"], how="left")
        .join(cat.versions.lazy().drop("version"), on="vi", how="left")
    )
    category = pl.coalesce("category", "c_category", pl.lit("C"))
    amount = pl.col("price") * pl.col("quantity")
    limit = pl.coalesce("price_limit", "c_price_limit")
    over = (
        pl.when(limit.is_not_null() & (pl.col("price") > limit))
        .then(pl.min_horizontal(amount, (pl.col("price") - limit) * pl.col("quantity")))
        .otherwise(0)
    )
    frame = frame.with_columns(
        category.alias("line_class"),
        amount.alias("amount"),
        over.alias("over_line"),
    ).with_columns(
        (pl.col("amount") - pl.col("over_line")).alias("base"),
        _selfpay_ratio().alias("line_ratio"),
    )
    kept = ["ck", "line_class", "amount", "over_line", "base", "line_ratio"]
    restricted = pl.col("c_restricted").fill_null(False)
    plain = frame.filter(~restricted).select(*kept, pl.lit(False).alias("refused"))
    special = (
        frame.filter(restricted)
        .join(entries.select("vi", "code", *RESTRICTION), on=["vi", "code"], how="left")
        .join(claims.lazy().select("ck", *CLAIM_FIELDS), on="ck", how="left")
        .select(*kept, _refused(cat).alias("refused"))
    )
    frame = pl.concat([plain, special]).with_columns(
        ((pl.col("line_class") == "C") | pl.col("refused")).alias("outside")
    )
    pre = apply_ratio(pl.col("base"), pl.col("line_ratio"))
    outside = pl.col("outside")
    return frame.select(
        "ck",
        pl.col("amount").alias("medfee"),
        pl.when(outside).then(pl.col("amount")).otherwise(0).alias("fulamt"),
        pl.when(outside).then(0).otherwise(pl.col("over_line")).alias("overlmt"),
        pl.when(outside).then(0).otherwise(pre).alias("pre"),
        pl.when(outside).then(0).otherwise(pl.col("base") - pre).alias("inscp"),
    )


def claim_totals(buckets: pl.LazyFrame) -> pl.DataFrame:
    return buckets.group_by("ck").agg(pl.col(b).sum() for b in BUCKETS).collect()


def _selfpay_ratio() -> pl.Expr:
    """`_selfpay_ratio`: the item's ratio, else the catalogue's (only for the class the
    catalogue lists; Liaoyang's waiver switch first), else the region's 乙类 default."""
    same = pl.col("c_category").is_not_null() & (pl.col("c_category") == pl.col("line_class"))
    return (
        pl.when(pl.col("item_ratio").is_not_null())
        .then(pl.col("item_ratio"))
        .when(same & pl.col("c_waivable") & pl.col("waive"))
        .then(0)
        .when(same & pl.col("c_ratio").is_not_null())
        .then(pl.col("c_ratio"))
        .when(pl.col("line_class") == "B")
        .then(pl.col("b_ratio"))
        .otherwise(0)
    )


def _refused(cat: Catalogues) -> pl.Expr:
    """`_restriction_refusal` != '': sex, age, hospital level or indication outside the 限定."""
    age = pl.col("age")
    refused = (
        (pl.col("r_sex").is_not_null() & pl.col("sex").is_not_null())
        & (pl.col("sex") != pl.col("r_sex"))
        | (age.is_not_null() & pl.col("r_min_age").is_not_null() & (age < pl.col("r_min_age")))
        | (age.is_not_null() & pl.col("r_max_age").is_not_null() & (age > pl.col("r_max_age")))
        | (
            pl.col("r_levels").is_not_null()
            & (pl.col("r_levels").list.len() > 0)
            & ~pl.col("r_levels").list.contains(pl.col("level"))
        )
    )
    for k, prefixes in enumerate(cat.indications):
        refused = refused | (
            (pl.col("r_ind") == k) & ~any_code_starts_with(prefixes, column="dx_str")
        )
    return refused.fill_null(False)
