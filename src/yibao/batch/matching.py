"""Policy conditions as column expressions, the columnar twin of `engine/matching.py`.

A claim's diagnoses are held as one string (`dx_str`), each code preceded by a separator and
the whole closed by one, so "a code starts with P" is a literal search for SEP + P. The
claim's `disease` code names a listed disease by equality (`_named`), never by prefix.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from yibao.policy.schema import BenefitMatch, Disease, DiseaseList

SEP = "\x1f"
CATEGORY_PREFIX = "cat_"


def any_code_starts_with(prefixes: Iterable[str], column: str = "dx_str") -> pl.Expr:
    """Some code of the claim starts with one of `prefixes` (`str.startswith(tuple)`)."""
    prefixes = list(prefixes)
    if not prefixes:
        return pl.lit(False)
    if "" in prefixes:  # every code starts with the empty prefix
        return pl.col(column) != ""
    return pl.col(column).str.contains_any([SEP + p for p in prefixes])


def computed_where(
    frame: pl.LazyFrame, where: pl.Expr, columns: dict[str, pl.Expr], default: int
) -> pl.LazyFrame:
    """Add integer `columns`, evaluated only on the rows where `where` holds (`default`
    elsewhere). Disease lookups are string searches that matter on few rows (one med type):
    those rows are settled first — the frame up to here is collected, so use this early in a
    chain — and each row then takes its value by position, no other column touched."""
    hit = where.fill_null(False)
    part = frame.filter(hit).select(**columns).collect()
    position = pl.when(hit).then(hit.cast(pl.Int64).cum_sum() - 1).otherwise(part.height)
    padding = pl.DataFrame({name: [default] for name in columns}, schema=part.schema)
    padded = pl.concat([part, padding])
    return frame.with_columns(
        pl.lit(padded.get_column(name)).gather(position).alias(name) for name in columns
    )


def shows_code(code: str, column: str = "dx_str") -> pl.Expr:
    """A diagnosis of the claim falls under `code`: starts with it (`shown_codes`)."""
    return pl.col(column).str.contains(SEP + code, literal=True)


def primary_starts_with(prefixes: Iterable[str]) -> pl.Expr:
    """The first diagnosis starts with one of `prefixes`."""
    first = pl.col("dx").list.first()
    hit = pl.lit(False)
    for prefix in prefixes:
        hit = hit | first.str.starts_with(prefix)
    return hit.fill_null(False)


def has_any(categories: Iterable[str] | None) -> pl.Expr:
    """`ClaimContext.has_any`: the person is in one of `categories` (none listed: False)."""
    hit = pl.lit(False)
    for category in categories or ():
        hit = hit | pl.col(CATEGORY_PREFIX + category)
    return hit


MED_TYPE_CODES = {"11": 0, "14": 1, "21": 2, "41": 3}  # the med types a claim file accepts
MED_CODE = "med_code"  # a claim's med type as its MED_TYPE_CODES number


def med_code() -> pl.Expr:
    """The claim's med type as a small integer (null for one outside MED_TYPE_CODES, which
    the claim-file model refuses): tests on it are much cheaper than on the text."""
    return pl.col("med_type").replace_strict(MED_TYPE_CODES, default=None, return_dtype=pl.UInt8)


def in_list(column: str, values: Iterable) -> pl.Expr:
    """The column's value is one of `values` (a med type through its MED_CODE number)."""
    if column == "med_type":
        codes = sorted({MED_TYPE_CODES[v] for v in values if v in MED_TYPE_CODES})
        return pl.col(MED_CODE).is_in(codes).fill_null(False)
    return pl.col(column).is_in(list(values))


def person_fits(disease: Disease) -> pl.Expr:
    """`_person_fits`: the disease's sex and maximum age, where both sides are known."""
    fits = pl.lit(True)
    if disease.sex:
        fits = fits & (pl.col("sex").is_null() | (pl.col("sex") == disease.sex))
    if disease.max_age is not None:
        fits = fits & (pl.col("age").is_null() | (pl.col("age") <= disease.max_age))
    return fits


def _named(disease: Disease) -> pl.Expr:
    return (pl.col("disease") == disease.code).fill_null(False)


def disease_index(diseases: DiseaseList) -> pl.Expr:
    """`find_disease` as the index of the listed disease (−1: none): the claim's `disease`
    code first (even when the person does not fit it), else the disease that fits of the
    earliest code matching one (list order breaks a tie): each disease's rank is its first
    matching code's place in `dx_str` × the list's length + its index, the least wins."""
    chain = None
    for k, disease in enumerate(diseases.items):
        value = pl.when(person_fits(disease)).then(k).otherwise(-1)
        chain = (
            pl.when(_named(disease)).then(value)
            if chain is None
            else chain.when(_named(disease)).then(value)
        )
    n = len(diseases.items)
    ranks = [
        pl.when(person_fits(disease)).then(first_code_at(disease.icd) * n + k)
        for k, disease in enumerate(diseases.items)
        if disease.icd
    ]
    if ranks:
        best = pl.min_horizontal(ranks)
        chain = chain.when(best.is_not_null()).then(best % n)
    return chain.otherwise(-1).cast(pl.Int32)


def first_code_at(prefixes: Iterable[str], column: str = "dx_str") -> pl.Expr:
    """Where in `column` the first code starting with one of `prefixes` begins (null: none)."""
    places = [
        pl.when(pl.col(column) != "").then(pl.lit(0, pl.Int64))
        if p == ""  # every code starts with the empty prefix
        else pl.col(column).str.find(SEP + p, literal=True).cast(pl.Int64)
        for p in prefixes
    ]
    return pl.min_horizontal(places)


def disease_code(diseases: DiseaseList, index: pl.Expr) -> pl.Expr:
    codes = {k: d.code for k, d in enumerate(diseases.items)}
    return index.replace_strict(codes, default=None, return_dtype=pl.String)


def group_claimed(diseases: DiseaseList, group: str) -> pl.Expr:
    """`groups_claimed`: the claim shows a disease of `group`, by code or ICD prefix."""
    hit = pl.lit(False)
    for disease in diseases.items:
        if disease.group == group:
            hit = hit | _named(disease) | any_code_starts_with(disease.icd)
    return hit


def benefit_matches(match: BenefitMatch | None, index: pl.Expr | None) -> pl.Expr:
    """`benefit_matches` without the disease lookup (`index` is `disease_index` when listed)."""
    if match is None:
        return pl.lit(True)
    ok = pl.lit(True)
    if match.levels:
        ok = ok & in_list("level", match.levels)
    if match.in_region_only:
        ok = ok & ~pl.col("oor")
    if match.requires_person_flag:
        ok = ok & pl.col("flags").list.contains(match.requires_person_flag).fill_null(False)
    if match.diseases is not None and index is not None:
        ok = ok & (index >= 0)
    return ok


def level_key() -> pl.Expr:
    """Admissions are counted per level; transfer-out (转外) counts as its own level (0)."""
    return pl.when(pl.col("oor")).then(0).otherwise(pl.col("level"))
