"""Claim lines → four buckets, vectorized: the columnar twin of `engine/buckets.py`.

The catalogue of each policy version is a frame; each line finds its entry by (version
number, code) and takes the entry's columns by position. As in the
per-claim engine the item's own fields win over the catalogue, the catalogue over the
region's default, and each line splits exactly: `fulamt + overlmt + preselfpay + inscp`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from yibao.batch.exact import NotScalable, apply_ratio, scaled
from yibao.batch.matching import any_code_starts_with
from yibao.catalog.model import Catalog
from yibao.policy.schema import RegionPolicy, SchemePolicy

# a claim's sums of its lines: the four buckets and their total, and the amount of the lines
# whose catalogue kind the claim's account may not pay for (`engine/account.not_for_account`)
BUCKETS = ["medfee", "fulamt", "overlmt", "pre", "inscp", "acct_excl"]


@dataclass
class Catalogues:
    """Every version's catalogue as one frame, plus the versions' catalogue policy."""

    entries: pl.DataFrame
    versions: pl.DataFrame
    indications: list[tuple[str, ...]]
    unscalable: dict[str, str]  # version id → why its ratios cannot be held exactly

    @cached_property
    def entry_index(self) -> tuple[dict[str, int], pl.Series]:
        """Each code's number, and the (version number × code number) table of rows in
        `entries` (null: not listed): built once per run, used by every partition."""
        codes = self.entries.get_column("code").unique(maintain_order=True)
        number = {code: k for k, code in enumerate(codes.to_list())}
        table = [None] * (self.versions.height * len(number))
        for k, (vi, code) in enumerate(self.entries.select("vi", "code").iter_rows()):
            table[vi * len(number) + number[code]] = k
        return number, pl.Series(table, dtype=pl.UInt32)


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
            refusing = _schemes_refusing(version.schemes)
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
                        "c_not_acct": entry.kind in refusing,
                        "a_schemes": refusing.get(entry.kind),
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
        "c_not_acct": pl.Boolean,
        "a_schemes": pl.List(pl.String),
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


def _schemes_refusing(schemes: Mapping[str, SchemePolicy]) -> dict[str, list[str]]:
    """Catalogue kind → the schemes whose account may not pay for it (`not_for_kinds`)."""
    refusing: dict[str, list[str]] = {}
    for name, scheme in sorted(schemes.items()):
        rule = scheme.account.not_for_kinds if scheme.account is not None else None
        for kind in rule.value if rule is not None else ():
            refusing.setdefault(kind, []).append(name)
    return refusing


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


def line_buckets(lines: pl.DataFrame, cat: Catalogues, claims: pl.DataFrame) -> pl.DataFrame:
    """Each line's amount split into 丙类 self-paid, over the price limit, 乙类 first self-pay
    and in scope (`split_lines`), the lines in their own order. `lines` carry the claim key
    `ck` and catalogue number `vi` (`version_numbers`); only the few lines of restricted
    items (限定支付) look at their claim's fields in `claims`, so the restriction test runs
    on those lines alone."""
    row = _entry_rows(lines, cat)
    entries, versions = cat.entries, cat.versions
    vi = lines.get_column("vi")
    frame = lines.with_columns(
        *[entries.get_column(c).gather(row) for c in ENTRY_COLUMNS],
        *[versions.get_column(c).gather(vi) for c in ("b_ratio", "waive")],
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
        _refusals(frame, row, cat, claims).alias("refused"),
        _not_for_account(frame, row, cat, claims).alias("not_acct"),
    )
    outside = (pl.col("line_class") == "C") | pl.col("refused")
    pre = apply_ratio(pl.col("base"), pl.col("line_ratio"))
    return frame.select(
        "ck",
        pl.col("amount").alias("medfee"),
        pl.when(outside).then(pl.col("amount")).otherwise(0).alias("fulamt"),
        pl.when(outside).then(0).otherwise(pl.col("over_line")).alias("overlmt"),
        pl.when(outside).then(0).otherwise(pre).alias("pre"),
        pl.when(outside).then(0).otherwise(pl.col("base") - pre).alias("inscp"),
        pl.when(pl.col("not_acct")).then(pl.col("amount")).otherwise(0).alias("acct_excl"),
    )


ENTRY_COLUMNS = [
    "c_category", "c_price_limit", "c_ratio", "c_waivable", "c_restricted", "c_not_acct",
]  # fmt: skip


def _entry_rows(lines: pl.DataFrame, cat: Catalogues) -> pl.Series:
    """Each line's row in `cat.entries` for its (vi, code), null if its version's catalogue
    does not list the code (or it has none). A dictionary lookup of the code and a gather
    from a (version × code) table: about a third of a hash join of the lines on both."""
    number, table = cat.entry_index
    if not number:
        return pl.repeat(None, lines.height, dtype=pl.UInt32, eager=True)
    code_no = lines.get_column("code").replace_strict(number, default=None, return_dtype=pl.UInt32)
    at = lines.get_column("vi").cast(pl.UInt32) * len(number) + code_no
    return table.gather(at)


def _refusals(
    frame: pl.DataFrame, row: pl.Series, cat: Catalogues, claims: pl.DataFrame
) -> pl.Series:
    """Whether a restricted item's line is outside its 限定 (False on every other line)."""
    refused = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).alias("refused")
    where = frame.get_column("c_restricted").fill_null(False).arg_true()
    if where.is_empty():
        return refused
    ck = frame.get_column("ck").gather(where)
    special = pl.DataFrame(
        [cat.entries.get_column(c).gather(row.gather(where)) for c in RESTRICTION]
    ).hstack(_claim_fields(claims, ck).get_columns())
    return refused.scatter(where, special.select(_refused(cat)).to_series())


def _not_for_account(
    frame: pl.DataFrame, row: pl.Series, cat: Catalogues, claims: pl.DataFrame
) -> pl.Series:
    """Whether the line's catalogue kind is one its claim's scheme's account may not pay for
    (False on every other line): only the few lines of such a kind look at their claim."""
    refused = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).alias("not_acct")
    where = frame.get_column("c_not_acct").fill_null(False).arg_true()
    if where.is_empty():
        return refused
    schemes = cat.entries.get_column("a_schemes").gather(row.gather(where))
    scheme = _claim_fields(claims, frame.get_column("ck").gather(where), ["scheme"])
    found = schemes.list.contains(scheme.get_column("scheme")).fill_null(False)
    return refused.scatter(where, found)


def _claim_fields(
    claims: pl.DataFrame, ck: pl.Series, fields: list[str] = CLAIM_FIELDS
) -> pl.DataFrame:
    """The `fields` of the claims `ck`, in that order. The claims are sorted by `ck`
    (their row numbers, some rows perhaps dropped): a binary search finds them."""
    keys = claims.get_column("ck")
    at = keys.search_sorted(ck).clip(0, max(claims.height - 1, 0))
    if claims.height and keys.is_sorted() and keys.gather(at).equals(ck, check_names=False):
        return claims.select(fields).gather(at)
    found = ck.alias("ck").to_frame().join(claims, on="ck", how="left", maintain_order="left")
    return found.select(fields)


def claim_totals(buckets: pl.DataFrame) -> pl.DataFrame:
    """Each claim's bucket sums (`ck` and BUCKETS). Lines that come claim by claim (as
    `prepare` numbers sorted lines) are summed as differences of running totals at the
    end of each claim's run, several times cheaper than a hash group-by."""
    ck = buckets.get_column("ck")
    ends = ck.ne_missing(ck.shift(-1)).fill_null(True).arg_true()
    runs = ck.gather(ends)
    if runs.n_unique() != runs.len():  # a claim's lines are not all together
        return buckets.group_by("ck").agg(pl.col(b).sum() for b in BUCKETS)
    # Series by Series: the same expressions in one select took twice the CPU
    sums = [runs]
    for bucket in BUCKETS:
        total = buckets.get_column(bucket).cum_sum().gather(ends)
        sums.append((total - total.shift(1, fill_value=0)).alias(bucket))
    return pl.DataFrame(sums)


def _selfpay_ratio() -> pl.Expr:
    """`selfpay_ratio`: the item's ratio on a 乙类 line, else the catalogue's (only for the
    class the catalogue lists; Liaoyang's waiver switch first), else the region's 乙类 default."""
    same = pl.col("c_category").is_not_null() & (pl.col("c_category") == pl.col("line_class"))
    return (
        pl.when(pl.col("item_ratio").is_not_null() & (pl.col("line_class") == "B"))
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
