"""The `persons` and `claim_lines` tables → one frame of claims in settlement order.

Each claim takes its fields from its first line (as `frames_to_claim_files` does) and the
person's; here are also the values the per-claim engine derives on the way: settlement date
(discharge or visit), year, hospital level with its default, age on the settlement date,
normalised diagnoses and the policy version in force. Rows the claim-file model would refuse
are not judged here: their persons go to the per-claim engine, which names the error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import polars as pl

from yibao.batch.exact import NotScalable, scaled
from yibao.batch.matching import CATEGORY_PREFIX, MED_CODE, MED_TYPE_CODES, SEP, med_code
from yibao.batch.tables import CLAIM_FIELDS, IDENTIFYING_CLAIM_FIELDS, listed_twice
from yibao.money import MAX_CLAIM_FEN
from yibao.policy.schema import Category, RegionPolicy

CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
MED_TYPES = tuple(MED_TYPE_CODES)
ORDER = ["pid", "setl_date", "cid"]
REFUSED = "input the claim-file model refuses"  # the fallback names the error
CONTROL_CHARACTERS = [chr(c) for c in range(0x20)] + ["\x7f"]  # U+0000–U+001F, U+007F
# what `_claims` takes from a claim's first line: the claim fields settlement reads
CLAIM_COLUMNS = ["person_id", *(name for name in CLAIM_FIELDS if name != "institution")]
RUN_ORDER = ["lp", "setl_date", "lk"]  # the same order when the lines are sorted (`_runs`)
LAST_LINE_NO = 2**31 - 1  # the largest Int32: where a null line_no sorts
CLAIM_NAMES = {"out_of_region": "oor"}  # a claim field's column in `_claims`, where renamed
# `_claims` is a join and row-wise columns: measured ~20% less CPU in memory than streaming
# (two partitions at once; the streaming engine is better for the bucket and chain queries)
ENGINE = "in-memory"


@dataclass
class Prepared:
    claims: pl.DataFrame  # one row per claim, sorted by person and settlement order; `ck` key
    lines: pl.DataFrame  # one row per claim line, with its claim key `ck`
    suspects: dict[str, pl.Series]  # reason → person ids for the per-claim engine
    # left out without a claim file, to be reported: claims of lines whose person_id (None:
    # null) is not in the persons table, by person_id, and persons rows without an id
    unknown_persons: dict[str | None, int] = field(default_factory=dict)
    persons_without_id: int = 0


def prepare(
    persons: pl.DataFrame, lines: pl.DataFrame, policies: Mapping[str, RegionPolicy]
) -> Prepared:
    people = _persons(persons)
    without_id = people.get_column("pid").null_count()
    # a person listed twice is refused; one row of theirs is kept so that the claim rows
    # (one per claim, joined or gathered from `people`) still line up with everyone's lines
    twice = listed_twice(people, "pid")
    if twice.len():
        people = people.unique("pid", keep="first", maintain_order=True)
    lines, unknown = of_persons(lines, people.get_column("pid"))
    runs = _runs(lines)
    # `extra`: columns the claims carry until each line has its claim key
    if runs is None:  # any order: the string keys
        claim_key, order, extra, numbered = ["person_id", "claim_id"], ORDER, ["institution"], []
    else:  # sorted by person and claim: the run numbers stand for them
        lines = runs
        claim_key, order, extra, numbered = ["lk"], RUN_ORDER, ["lp", "lk"], ["lk"]
    # lines of one claim disagreeing on its fields: found while the claim key is at hand
    disagreeing = None if runs is None else _disagreeing_runs(lines)
    if runs is not None and _line_no_rising(lines):
        # each claim's first line has its lowest line_no; only the claim's columns are copied
        first = lines.select(*extra, *CLAIM_COLUMNS).filter(lines.get_column("lk_start"))
    else:
        # a null line_no counts as the last: every claim keeps one row (its person is refused)
        line_no = pl.col("line_no").fill_null(LAST_LINE_NO)
        first = lines.filter(line_no == line_no.min().over(claim_key)).unique(
            claim_key, keep="first"
        )
    if runs is None:
        claims = _claims(first.lazy(), people, policies, extra).collect(engine=ENGINE)
        claims = claims.sort(order)
    else:  # sort the claims' own columns, before the person's are joined on (in that order)
        settle_date = pl.coalesce("discharge_date", "date").alias("setl_date")
        first = first.with_columns(settle_date)
        if not _in_run_order(first):
            first = first.sort(order)
        claims = _claims(first.lazy(), people, policies, extra, "left", _by_run(first, people))
        claims = claims.collect(engine=ENGINE)
    claims = claims.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("ck"))
    line_rows = lines.select(
        *numbered,
        pl.col("person_id").alias("pid"),
        pl.col("claim_id").alias("cid"),
        "code",
        "name",
        "category",
        pl.col("price_fen").alias("price"),
        "quantity",
        "selfpay_ratio",
        pl.col("price_limit_fen").alias("price_limit"),
    )
    line_rows, odd_ratio = _item_ratios(line_rows)
    line_rows = _with_claim_key(line_rows, claims, numbered)
    if disagreeing is None:
        disagreeing = _disagreeing(lines, claims, line_rows.get_column("ck"))
    claims = claims.drop(extra)
    suspects = {
        REFUSED: pl.concat(
            [
                twice,
                _bad_persons(people),
                claims.filter(_bad_claim()).get_column("pid"),
                line_rows.filter(_bad_line()).get_column("pid"),
                _unnumbered(lines),
                disagreeing,
            ]
        ).unique(),
        "an item self-pay ratio the columnar engine does not hold (invalid or > 6 decimals)": (
            line_rows.filter(odd_ratio).get_column("pid").unique()
        ),
        "no policy version or scheme on the settlement date": claims.filter(
            pl.col("version").is_null()
        )
        .get_column("pid")
        .unique(),
        "a year under two policy versions": claims.filter(_second_version())
        .get_column("pid")
        .unique(),
    }
    return Prepared(claims, line_rows, suspects, unknown, without_id)


def of_persons(lines: pl.DataFrame, pids: pl.Series) -> tuple[pl.DataFrame, dict[str | None, int]]:
    """The lines of the persons `pids` (a person missing from the persons table has no claim
    file), and the claims left out, by person_id. Usually every line's person is there:
    checking the persons where the id changes from the line before (each person once when
    sorted) spares a lookup of every line."""
    person = pl.col("person_id")
    known = person.is_in(pids.implode()).fill_null(False)  # a null person_id too
    # the first row is a head even when null (ne_missing(null, null) is False)
    head = person.ne_missing(person.shift(1)) | (pl.int_range(pl.len()) == 0)
    heads = lines.select(person.filter(head))
    if heads.select(known.all()).item():
        return lines, {}
    lost = lines.filter(~known).group_by("person_id").agg(pl.col("claim_id").n_unique())
    return lines.filter(known), dict(lost.iter_rows())


def _second_version() -> pl.Expr:
    """A claim whose version (null counting as one) differs from the previous claim's of the
    same person and year: the claims are sorted by person and date, so a person-year's
    claims are adjacent and one change marks a year under two versions."""
    same_year = (pl.col("pid") == pl.col("pid").shift(1)) & (
        pl.col("year") == pl.col("year").shift(1)
    )
    changed = pl.col("version").ne_missing(pl.col("version").shift(1))
    return (same_year & changed).fill_null(False)


def _runs(lines: pl.DataFrame) -> pl.DataFrame | None:
    """When the lines are sorted by (person_id, claim_id) — as `yibao synth` and most exports
    write them — number the runs: `lp` the person, `lk` the claim (UInt32, rising in that
    order). Integer keys then stand for the two strings in the window, join and sort that
    follow, with the same result; else None (the string keys are used)."""
    person, claim = pl.col("person_id"), pl.col("claim_id")
    if lines.height == 0 or lines.select(person.null_count() + claim.null_count()).item():
        return None
    new_person = person != person.shift(1)
    new_claim = new_person | (claim != claim.shift(1))
    rising = (person > person.shift(1)) | ((person == person.shift(1)) & (claim >= claim.shift(1)))
    if not lines.select(rising.fill_null(True).all()).item():
        return None
    return lines.with_columns(
        (new_person.fill_null(True).cast(pl.UInt32).cum_sum() - 1).alias("lp"),
        new_claim.fill_null(True).alias("lk_start"),
    ).with_columns((pl.col("lk_start").cast(pl.UInt32).cum_sum() - 1).alias("lk"))


def _unnumbered(lines: pl.DataFrame) -> pl.Series:
    """The persons with a line without a `line_no`: a claim's fields are read from its
    lowest-numbered line, and the claim-file conversion refuses such a line by name (as the
    per-claim engine does a null code). A column's null count costs nothing."""
    if not lines.get_column("line_no").null_count():
        return pl.Series("pid", [], dtype=pl.String)
    return lines.filter(pl.col("line_no").is_null()).get_column("person_id").alias("pid")


def _disagreeing_runs(lines: pl.DataFrame) -> pl.Series:
    """The persons of a claim (a run numbered by `_runs`) whose lines disagree on a field
    that identifies it (`IDENTIFYING_CLAIM_FIELDS`, null differing from a value): most
    likely two claims given one claim_id, which would settle as one. A claim's lines are
    adjacent, so each is compared with the line before it — a shift, no grouping."""
    later = ~pl.col("lk_start")
    differs = pl.any_horizontal(
        pl.col(name).ne_missing(pl.col(name).shift(1)) for name in IDENTIFYING_CLAIM_FIELDS
    )
    return lines.filter(later & differs).get_column("person_id").alias("pid")


def _disagreeing(lines: pl.DataFrame, claims: pl.DataFrame, ck: pl.Series) -> pl.Series:
    """`_disagreeing_runs` for lines in any order: each line compared with its claim's row
    (its first line's copy), gathered by the claim key `ck` of each line (`lines` order). A
    window over the string keys per field cost ten times more."""
    differs = pl.any_horizontal(
        pl.col(name).ne_missing(claims.get_column(CLAIM_NAMES.get(name, name)).gather(ck))
        for name in IDENTIFYING_CLAIM_FIELDS
    )
    return lines.filter(differs).get_column("person_id").alias("pid")


def _with_claim_key(lines: pl.DataFrame, claims: pl.DataFrame, numbered: list[str]) -> pl.DataFrame:
    """Each line's claim key `ck`. Numbered runs (`lk` = 0, 1, ..., one claim each) index the
    claims sorted by `lk` directly; else a join on the string keys."""
    if not numbered:
        found = claims.select("pid", "cid", "ck")
        return lines.join(found, on=["pid", "cid"], how="left", maintain_order="left")
    by_run = claims.select("lk", "ck").sort("lk").get_column("ck")
    return lines.drop("lk").with_columns(by_run.gather(lines.get_column("lk")))


def _line_no_rising(lines: pl.DataFrame) -> bool:
    """Numbered lines (`_runs`) whose line_no never falls within a claim and is never null:
    the first line of each claim is then the one `prepare` takes."""
    line_no = pl.col("line_no")
    rising = pl.col("lk_start") | (line_no >= line_no.shift(1))
    return lines.select((line_no.null_count() == 0) & rising.fill_null(True).all()).item()


def _in_run_order(claims: pl.DataFrame) -> bool:
    """Whether the first lines of claims numbered by `_runs` are in RUN_ORDER already."""
    lp, day, lk = pl.col("lp"), pl.col("setl_date"), pl.col("lk")
    later = (lp > lp.shift(1)) | (
        (lp == lp.shift(1)) & ((day > day.shift(1)) | ((day == day.shift(1)) & (lk > lk.shift(1))))
    )
    return claims.select((day.null_count() == 0) & later.fill_null(True).all()).item()


def _persons(persons: pl.DataFrame) -> pl.DataFrame:
    empty = pl.lit([], dtype=pl.List(pl.String()))
    return persons.select(
        pl.col("person_id").alias("pid"),
        "region",
        "scheme",
        "employment",
        pl.col("categories").fill_null(empty),
        "birth_date",
        "sex",
        pl.col("account_balance_fen").fill_null(0).alias("balance"),
        pl.col("flags").fill_null(empty),
        pl.col("products").fill_null(empty),
    ).with_columns(
        (pl.col("employment") == "retired").fill_null(False).alias("retired"),
        pl.col("birth_date").dt.year().cast(pl.Int32).alias("birth_year"),
        _month_day(pl.col("birth_date")).alias("birth_md"),
        *[pl.col("categories").list.contains(c).alias(CATEGORY_PREFIX + c) for c in CATEGORIES],
    )


def _claims(
    first: pl.LazyFrame,
    people: pl.DataFrame,
    policies: Mapping[str, RegionPolicy],
    extra: list[str],
    keep_order: str = "none",
    rows: pl.Series | None = None,
) -> pl.LazyFrame:
    """One row per claim (unsorted) with its person's fields and the derived values; the
    person's fields are joined on, or gathered from their `rows` (`_by_run`)."""
    dx = pl.col("diagnoses").list.eval(pl.element().str.strip_chars().str.to_uppercase())
    claims = first.select(
        *extra,
        pl.col("person_id").alias("pid"),
        pl.col("claim_id").alias("cid"),
        "date",
        "med_type",
        "hospital_level",
        pl.col("out_of_region").alias("oor"),
        "referral",
        "admit_date",
        "discharge_date",
        dx.alias("dx"),
        pl.col("diagnoses").is_null().alias("dx_missing"),
        _control_character().alias("dx_control"),
        "disease",
    )
    people = people.drop("categories", "employment")
    if rows is None:
        claims = claims.join(people.lazy(), on="pid", how="left", maintain_order=keep_order)
    else:
        aligned = people.drop("pid").gather(rows).lazy()
        claims = pl.concat([claims, aligned], how="horizontal")
    settle_date = pl.coalesce("discharge_date", "date")
    level = pl.coalesce(
        pl.col("hospital_level").cast(pl.Int32),
        pl.when(pl.col("med_type") == "41").then(3).otherwise(1),
    )
    claims = claims.with_columns(
        settle_date.alias("setl_date"),
        settle_date.dt.year().alias("year"),
        med_code().alias(MED_CODE),
        level.alias("level"),
        _dx_str().alias("dx_str"),
    )
    return claims.with_columns(
        _age(pl.col("setl_date")).alias("age"),
        _version(policies).alias("version"),
    )


def _control_character() -> pl.Expr:
    """A diagnosis or disease code, as given, holding a control character: the claim-file
    model refuses it (`inputs._no_control_character`), and `SEP` (U+001F) inside a code would
    split it here and match a listed disease the engine does not see. Tested before the
    codes are stripped (which drops a tab the model refuses). A literal search (`contains_any`)
    costs a quarter of a regex class."""

    def holds(code: pl.Expr) -> pl.Expr:
        return code.str.contains_any(CONTROL_CHARACTERS)

    in_dx = pl.col("diagnoses").list.eval(holds(pl.element())).list.any()
    return (in_dx.fill_null(False) | holds(pl.col("disease"))).fill_null(False)


def _dx_str() -> pl.Expr:
    """The diagnoses, each between separators ("|A|B|"); "" for none. Built in one
    `concat_str`: comparing and concatenating the text in steps cost about three times more."""
    dx = pl.col("dx")
    return (
        pl.when(dx.list.len() > 0)
        .then(pl.concat_str(pl.lit(SEP), dx.list.join(SEP), pl.lit(SEP)))
        .otherwise(pl.lit(""))
    )


def _by_run(first: pl.DataFrame, people: pl.DataFrame) -> pl.Series | None:
    """Each claim's row in `people`, for a gather instead of a hash join: claims numbered by
    `_runs` (`lp`, the person's run, 0, 1, ... in order) and people sorted by id, each once,
    so a binary search of the runs' ids finds their rows (checked). Else None."""
    pid, lp = people.get_column("pid"), first.get_column("lp")
    strictly_rising = (pl.col("pid") > pl.col("pid").shift(1)).fill_null(True).all()
    if first.is_empty() or people.is_empty() or pid.null_count():
        return None
    if not people.select(strictly_rising).item():
        return None
    heads = first.get_column("person_id").filter(lp.ne_missing(lp.shift(1)).fill_null(True))
    at = pid.search_sorted(heads).clip(0, pid.len() - 1)
    if not pid.gather(at).equals(heads, check_names=False) or lp.max() != heads.len() - 1:
        return None
    return at.gather(lp)


def _age(day: pl.Expr) -> pl.Expr:
    """`Person.age_on`: whole years, the birthday not yet reached this year taking one off.
    The birth year and month-day come from `_persons`, taken apart once per person (a third
    of the cost of taking both dates apart on every claim); `year` is the day's year."""
    earlier = _month_day(day) < pl.col("birth_md")
    return pl.col("year").cast(pl.Int32) - pl.col("birth_year") - earlier.cast(pl.Int32)


def _month_day(day: pl.Expr) -> pl.Expr:
    return day.dt.month().cast(pl.Int32) * 100 + day.dt.day().cast(pl.Int32)


def _version(policies: Mapping[str, RegionPolicy]) -> pl.Expr:
    """`RegionPolicy.version_on` + the scheme check: the version id, or null if none."""
    chain = None
    day = pl.col("setl_date")
    for region, policy in policies.items():
        for version in policy.versions:
            hit = (pl.col("region") == region) & (day >= version.valid_from)
            if version.valid_to is not None:
                hit = hit & (day <= version.valid_to)
            hit = hit & pl.col("scheme").is_in(list(version.schemes))
            vid = pl.lit(policy.version_id(version))
            chain = pl.when(hit).then(vid) if chain is None else chain.when(hit).then(vid)
    if chain is None:
        return pl.lit(None, dtype=pl.String)
    return chain.otherwise(pl.lit(None, dtype=pl.String))


def _item_ratios(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.Expr]:
    """Item `selfpay_ratio` text → scaled integer (`item_ratio`); a text the claim-file model
    refuses, or one with more than six decimals, leaves it null and marks the line (the
    returned expression) for the per-claim engine."""
    texts = lines.get_column("selfpay_ratio").drop_nulls().unique().to_list()
    mapping: dict[str, int | None] = {}
    for text in texts:
        try:
            ratio = Decimal(text.strip())
            ok = ratio.is_finite() and Decimal(0) <= ratio <= Decimal(1)
            mapping[text] = scaled(ratio) if ok else None
        except (InvalidOperation, NotScalable):
            mapping[text] = None
    ratio = pl.col("selfpay_ratio").replace_strict(mapping, default=None, return_dtype=pl.Int64)
    lines = lines.with_columns(ratio.alias("item_ratio"))
    unusable = pl.col("selfpay_ratio").is_not_null() & pl.col("item_ratio").is_null()
    return lines, unusable


def _bad_persons(people: pl.DataFrame) -> pl.Series:
    bad = (
        pl.col("pid").is_null()
        | (pl.col("pid") == "")
        | ~pl.col("scheme").is_in(["employee", "resident"]).fill_null(False)
        | ~(
            pl.col("employment").is_null()
            | pl.col("employment").is_in(["in_service", "retired", "flexible"])
        )
        # the claim file's rule: employees name their employment, residents have none
        | (pl.col("employment").is_null() == (pl.col("scheme") == "employee")).fill_null(False)
        | ~(pl.col("sex").is_null() | pl.col("sex").is_in(["M", "F"]))
        | ~pl.col("categories")
        .list.eval(pl.element().is_in(list(CATEGORIES)).fill_null(False))
        .list.all()
        | pl.col("flags").list.eval(pl.element().is_null()).list.any()
        | pl.col("products").list.eval(pl.element().is_null()).list.any()
        | (pl.col("balance") < 0)
        # only an employee has an own account (`ClaimFile._resident_balance` refuses one)
        | ((pl.col("scheme") == "resident") & (pl.col("balance") > 0)).fill_null(False)
    )
    return people.filter(bad).get_column("pid")


def _bad_claim() -> pl.Expr:
    return (
        pl.col("cid").is_null()
        | (pl.col("cid") == "")
        | pl.col("date").is_null()
        | ~pl.col("med_type").is_in(list(MED_TYPES)).fill_null(False)
        | ~(pl.col("hospital_level").is_null() | pl.col("hospital_level").is_in([1, 2, 3]))
        | pl.col("oor").is_null()
        | pl.col("referral").is_null()
        | pl.col("dx_missing")
        | pl.col("dx_control")
        | pl.col("dx").list.eval(pl.element().is_null()).list.any()
        | (pl.col("discharge_date") < pl.col("admit_date")).fill_null(False)
        # a visit or admission before the person's birth
        | (_age(pl.col("date")) < 0).fill_null(False)
        | (_age(pl.col("admit_date")) < 0).fill_null(False)
    )


def _bad_line() -> pl.Expr:
    price = pl.col("price")
    # price × quantity above the bound, tested without forming a product that may not fit
    too_many = pl.col("quantity") > MAX_CLAIM_FEN // pl.max_horizontal(price, 1)
    return (
        pl.col("code").is_null()
        | pl.col("name").is_null()
        | price.is_null()
        | (price < 0)
        | (price > MAX_CLAIM_FEN).fill_null(False)
        | pl.col("quantity").is_null()
        | (pl.col("quantity") <= 0)
        | too_many.fill_null(False)
        | ~(pl.col("category").is_null() | pl.col("category").is_in(["A", "B", "C"]))
        | (pl.col("category").is_in(["A", "C"]) & pl.col("selfpay_ratio").is_not_null())
        | (pl.col("price_limit") < 0).fill_null(False)
        | (pl.col("price_limit") > MAX_CLAIM_FEN).fill_null(False)
    )
