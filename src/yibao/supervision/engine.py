"""The supervision rules over the population tables (polars), and over claim files.

`supervise_tables(persons, lines)` takes the `batch.tables` schemas (`person_id`, `region`,
`sex`, `birth_date`; the claim-line columns) and returns one row per flag (`FLAG_SCHEMA`).
The rules run over partitions of the persons (`PARTITION_LINES`), one at a time, so memory is
bounded by a partition; the flags are the same whatever the partition size.
`supervise_claim_files` turns claim files into the same two frames and runs the same code, so
both give the same flags. Each rule is one function below, named like its id; its parameters
come from `rules.yaml` for the person's region (`params.rules_for`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import polars as pl

from yibao.batch.tables import listed_twice
from yibao.catalog.load import load_packaged
from yibao.engine.inputs import Claim, ClaimFile
from yibao.errors import InputError
from yibao.money import round_half_up
from yibao.policy.loader import load_region, packaged_regions
from yibao.supervision.admission import low_standard_admission
from yibao.supervision.common import (
    FLAG_SCHEMA,
    STAY_KEYS,
    days_since_previous_discharge,
    readmitted,
)
from yibao.supervision.common import LINE as LINE  # re-exported: the flag table's line struct
from yibao.supervision.common import core as _core
from yibao.supervision.common import days as _days
from yibao.supervision.common import evidence as _evidence
from yibao.supervision.common import stays as _stays
from yibao.supervision.common import visits as _visits
from yibao.supervision.common import with_previous_stay as _with_previous_stay
from yibao.supervision.identity import deceased_person, unenrolled_person
from yibao.supervision.institutions import (
    Partial,
    combine,
    institution_outlier,
    outlier_flags,
    partial,
)
from yibao.supervision.params import RULE_IDS, Rule, rules_for
from yibao.supervision.substitution import disease_substitution, drug_substitution

# ---------------------------------------------------------------- entry points
# Every person-level rule reads one person's rows only, and the institution indicators are
# sums over persons (`institutions.partial` / `combine`), so the rules run over partitions of
# the persons, about this many lines each: memory is bounded by a partition, not the input.
PARTITION_LINES = 500_000

# (person_id ≥ low, person_id < high); None: unbounded
Bounds = tuple[str | None, str | None]


def supervise_tables(persons: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Every person-level rule over every region's persons: one row per flag, stable order."""
    return _supervise(persons, _frame_loader(lines), lines.height, institutions=False).flags


def supervise_institutions(persons: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The institution-level rules (`INSTITUTION_RULES`): one row per flagged institution, in
    `FLAG_SCHEMA` with `person_id` null and no claims or lines, by institution."""
    found = _supervise(persons, _frame_loader(lines), lines.height, people=False)
    return found.institution_flags


def supervise_all(
    persons: pl.DataFrame, lines: pl.DataFrame, partition_lines: int = PARTITION_LINES
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(person-level flags, institution-level flags), by partitions of about
    `partition_lines` lines (the flags do not depend on it)."""
    found = supervise_pass(persons, lines, partition_lines)
    return found.flags, found.institution_flags


def supervise_pass(
    persons: pl.DataFrame, lines: pl.DataFrame, partition_lines: int = PARTITION_LINES
) -> Supervised:
    """One pass of every rule over in-memory tables: the flags and the institution indicators
    (`partition_lines` 0: all the persons at once)."""
    return _supervise(persons, _frame_loader(lines), lines.height, partition_lines)


class Supervised:
    """What one pass over the partitions found: the person-level flags, and per region the
    institution indicators (`institutions.indicators`) and the institution-level flags."""

    def __init__(self, flags: pl.DataFrame, indicators: dict[str, pl.DataFrame]) -> None:
        self.flags = flags
        self.indicators = indicators
        self.listed_twice: list[str] = []  # person ids of two persons rows (the first is used)

    @property
    def institution_flags(self) -> pl.DataFrame:
        frames = []
        for region, table in self.indicators.items():
            rule = rules_for(region)[INSTITUTION_RULES[0]]
            frames.append(_finish(outlier_flags(table, rule), rule, region))
        if not frames:
            return pl.DataFrame(schema=FLAG_SCHEMA)
        flags = pl.concat(frames, how="vertical")
        return flags.sort(["institution", "rule", "region"], maintain_order=True)


def _supervise(
    persons: pl.DataFrame,
    load: Callable[[pl.Expr | None], pl.DataFrame],
    total_lines: int,
    partition_lines: int = PARTITION_LINES,
    institutions: bool = True,
    people: bool = True,
) -> Supervised:
    """The rules over person partitions: `load(selection)` gives the lines of a partition
    (`selection` a filter on `person_id`, None for all of them); `people` / `institutions`:
    whether to run the person-level rules / sum the institution indicators."""
    flags, partials = [pl.DataFrame(schema=FLAG_SCHEMA)], {}
    for bounds in person_ranges(persons, total_lines, partition_lines):
        chosen = _in_range(bounds)
        part = persons if chosen is None else persons.filter(chosen)
        prepared = prepare(part, load(chosen))
        if people:
            flags.append(_run(prepared))
        if institutions:
            for region, table in _partials(prepared).items():
                partials.setdefault(region, []).append(table)
        del prepared
    person_flags = _sort_person_flags(pl.concat(flags, how="vertical"))
    return Supervised(person_flags, {r: combine(p) for r, p in sorted(partials.items())})


def person_ranges(persons: pl.DataFrame, total_lines: int, partition_lines: int) -> list[Bounds]:
    """Ranges of person ids holding about `partition_lines` lines each (persons evenly split:
    the lines per person average out over many persons); one unbounded range if all fit."""
    if partition_lines <= 0:
        return [(None, None)]
    parts = max(1, -(-total_lines // partition_lines))
    ids = persons.get_column("person_id").drop_nulls().unique().sort()
    parts = min(parts, max(1, ids.len()))
    if parts == 1:
        return [(None, None)]
    cuts = [ids[(ids.len() * i) // parts] for i in range(1, parts)]
    lows: list[str | None] = [None, *cuts]
    highs: list[str | None] = [*cuts, None]
    return list(zip(lows, highs, strict=True))


def _in_range(bounds: Bounds) -> pl.Expr | None:
    low, high = bounds
    person = pl.col("person_id")
    if low is None and high is None:
        return None
    if low is None:
        return person < high
    if high is None:
        return person >= low
    return (person >= low) & (person < high)


def _frame_loader(lines: pl.DataFrame) -> Callable[[pl.Expr | None], pl.DataFrame]:
    def load(chosen: pl.Expr | None) -> pl.DataFrame:
        part = lines if chosen is None else lines.filter(chosen)
        if (twice := line_given_twice(part)) is not None:
            raise InputError(twice)
        return part

    return load


LINE_KEYS = ("person_id", "claim_id", "line_no")


def line_given_twice(lines: pl.DataFrame) -> str | None:
    """The first claim line that comes twice (same person, claim and line number), said in
    words, or None. Two exports of one month would otherwise look like double billing; the
    keys of a person are all in their partition, so each partition is checked alone."""
    twice = lines.select(LINE_KEYS).filter(pl.struct(LINE_KEYS).is_duplicated())
    if twice.height == 0:
        return None
    person, claim, line = twice.sort(LINE_KEYS).row(0)
    return f"line {line} of claim {claim} of person {person} is given twice"


def two_people_one_id(persons: pl.DataFrame) -> str | None:
    """The first person id listed with different `PERSON_FACTS` (two people, one id), said in
    words, or None. Rows that agree on them are one person listed twice (the first is used)."""
    facts = persons.select("person_id", *PERSON_FACTS).unique()
    ids = listed_twice(facts)
    if ids.len() == 0:
        return None
    rows = facts.filter(pl.col("person_id") == ids[0]).sort(PERSON_FACTS, nulls_last=True)
    shown = "; ".join(", ".join(str(v) for v in row[1:]) for row in rows.head(2).rows())
    return (
        f"person_id {ids[0]} is listed as different people ({', '.join(PERSON_FACTS)}: "
        f"{shown}): two people under one id?"
    )


def _partials(prepared: pl.DataFrame) -> dict[str, Partial]:
    """Per region, the institution sums (`institutions.partial`) of a partition."""
    out = {}
    for region in prepared.get_column("region").unique().drop_nulls().sort():
        rule = rules_for(region)[INSTITUTION_RULES[0]]
        out[region] = partial(prepared.filter(pl.col("region") == region), rule)
    return out


def _run(prepared: pl.DataFrame) -> pl.DataFrame:
    """The person-level rules over prepared lines, region by region, in flag order."""
    frames = []
    for region in prepared.get_column("region").unique().drop_nulls().sort():
        part = prepared.filter(pl.col("region") == region)
        for rule_id, rule in rules_for(region).items():
            if rule_id not in INSTITUTION_RULES:
                frames.append(_finish(RULES[rule_id](part, rule), rule, region))
    if not frames:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    return _sort_person_flags(pl.concat(frames, how="vertical"))


def _sort_person_flags(flags: pl.DataFrame) -> pl.DataFrame:
    order = pl.col("claim_ids").list.join(",")
    return flags.sort(["person_id", "rule", order, "evidence"], maintain_order=True)


def supervise_claim_files(files: Iterable[ClaimFile]) -> pl.DataFrame:
    persons, lines = claim_files_frames(files)
    return supervise_tables(persons, lines)


def claim_files_frames(
    files: Iterable[ClaimFile], sources: Sequence[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Claim files → (persons, lines) with exact amounts (quantities may be fractional).

    One person may come in several files (monthly exports), each time with the same region,
    sex and birth date; a claim of a person comes once. InputError otherwise: two people
    under one id would be merged, and a claim given twice would be flagged as billed twice.
    `sources` names each file in the error (default: "claim file N")."""
    persons: dict[str, tuple[dict, str]] = {}
    claims: dict[tuple[str, str], tuple[int, str]] = {}
    lines = []
    for k, cf in enumerate(files):
        where = sources[k] if sources is not None else f"claim file {k + 1}"
        person = _person_row(cf)
        first = persons.setdefault(cf.person.id, (person, where))
        _check_same_person(first, person, where)
        for claim in cf.claims:
            seen, seen_where = claims.setdefault((cf.person.id, claim.id), (k, where))
            if seen != k:
                raise InputError(
                    f"{where}: claim {claim.id} of person {cf.person.id} is given twice "
                    f"(first in {seen_where}); counted twice it would look billed twice"
                )
            lines.extend(_claim_line_rows(cf.person.id, claim))
    return (
        pl.DataFrame([row for row, _ in persons.values()], schema=PERSON_FRAME_SCHEMA),
        pl.DataFrame(lines, schema=LINE_FRAME_SCHEMA),
    )


# what must agree when one person id comes in several claim files
PERSON_FACTS = ("region", "sex", "birth_date")


def _check_same_person(first: tuple[dict, str], person: dict, where: str) -> None:
    """InputError when `person` has the id of `first` but other facts: two people, one id."""
    known, first_where = first
    differ = [f for f in PERSON_FACTS if known[f] != person[f]]
    if differ:
        facts = ", ".join(f"{f} {person[f]} vs {known[f]}" for f in differ)
        raise InputError(
            f"{where}: person {person['person_id']} differs from the one in {first_where} "
            f"({facts}): two people under one id?"
        )


# The columns, in order, of the two frames built from claim files.
PERSON_FRAME_SCHEMA = {
    "person_id": pl.String,
    "region": pl.String,
    "sex": pl.String,
    "birth_date": pl.Date,
    "death_date": pl.Date,
    "enrolled_until": pl.Date,
}
LINE_FRAME_SCHEMA = {
    "person_id": pl.String,
    "claim_id": pl.String,
    "date": pl.Date,
    "med_type": pl.String,
    "hospital_level": pl.Int8,
    "admit_date": pl.Date,
    "discharge_date": pl.Date,
    "diagnoses": pl.List(pl.String),
    "disease": pl.String,
    "institution": pl.String,
    "referral": pl.Boolean,
    "line_no": pl.Int32,
    "code": pl.String,
    "name": pl.String,
    "category": pl.String,
    "price_fen": pl.Int64,
    "quantity": pl.Float64,
    "price_limit_fen": pl.Int64,
    "item_date": pl.Date,
    "amount_fen": pl.Int64,
    "quantity_text": pl.String,
}


def _person_row(cf: ClaimFile) -> dict:
    """A claim file's person; a claim file states neither death nor the end of enrollment."""
    p = cf.person
    return {
        "person_id": p.id,
        "region": cf.region,
        "sex": p.sex,
        "birth_date": p.birth_date,
        "death_date": None,
        "enrolled_until": None,
    }


def _claim_line_rows(person_id: str, claim: Claim) -> list[dict]:
    """One row per item of `claim`, numbered from 1; amount = price × quantity, half-up fen."""
    rows = []
    for n, item in enumerate(claim.items, 1):
        amount = round_half_up(Decimal(item.price) * item.quantity)
        rows.append(
            {
                "person_id": person_id,
                "claim_id": claim.id,
                "date": claim.date,
                "med_type": claim.med_type,
                "hospital_level": claim.hospital_level,
                "admit_date": claim.admit_date,
                "discharge_date": claim.discharge_date,
                "diagnoses": list(claim.diagnoses),
                "disease": claim.disease,
                "institution": claim.institution,
                "referral": claim.referral,
                "line_no": n,
                "code": item.code,
                "name": item.name,
                "category": item.category,
                "price_fen": item.price,
                "quantity": float(item.quantity),  # float-ok: a count; money is amount_fen
                "quantity_text": str(item.quantity),  # exact, for the over-limit amount
                "price_limit_fen": item.price_limit,
                "item_date": item.date,
                "amount_fen": amount,
            }
        )
    return rows


def catalog_frame(regions: Iterable[str]) -> pl.DataFrame:
    """Kind, price limit and sex/age restriction of each code in each region's catalogue."""
    rows = []
    for region in regions:
        if region not in packaged_regions():
            continue
        files: list[str] = []
        for version in load_region(region).versions:
            files += [f for f in version.catalog.files if f not in files]
        for entry in load_packaged(tuple(files)).entries.values():
            r = entry.restriction
            rows.append(
                {
                    "region": region,
                    "code": entry.code,
                    "kind": entry.kind,
                    "catalog_category": entry.category,
                    "catalog_limit_fen": entry.price_limit_fen,
                    "r_sex": r.sex,
                    "r_min_age": r.min_age,
                    "r_max_age": r.max_age,
                }
            )
    schema = {
        "region": pl.String,
        "code": pl.String,
        "kind": pl.String,
        "catalog_category": pl.String,
        "catalog_limit_fen": pl.Int64,
        "r_sex": pl.String,
        "r_min_age": pl.Int64,
        "r_max_age": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


# optional columns: absent ones are added as nulls (the rules that need them find nothing)
OPTIONAL_PERSON_COLUMNS = {"death_date": pl.Date, "enrolled_until": pl.Date}
OPTIONAL_LINE_COLUMNS = {
    "hospital_level": pl.Int8,
    "disease": pl.String,
    "category": pl.String,
    "referral": pl.Boolean,
}


def _with_optional(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    missing = {name: pl.lit(None, dtype) for name, dtype in columns.items() if name not in frame}
    return frame.with_columns(**missing) if missing else frame


def prepare(persons: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Lines with the person, the catalogue entry, the amount, the day and the age added."""
    lines = _with_amounts(_with_optional(lines, OPTIONAL_LINE_COLUMNS))
    persons = _with_optional(persons, OPTIONAL_PERSON_COLUMNS)
    who = persons.select("person_id", "region", "sex", "birth_date", *OPTIONAL_PERSON_COLUMNS)
    # a person listed twice would double their lines in the join, and look like double billing
    who = who.unique("person_id", keep="first", maintain_order=True)
    catalog = catalog_frame(who.get_column("region").unique().drop_nulls().to_list())
    is_stay = (
        (pl.col("med_type") == "21")
        & pl.col("admit_date").is_not_null()
        & pl.col("discharge_date").is_not_null()
    )
    out = (
        lines.join(who, on="person_id", how="left")
        .join(catalog, on=["region", "code"], how="left")
        .with_columns(
            # a blank institution (common in exports) is as unknown as a missing one: nobody
            institution=pl.when(pl.col("institution").str.strip_chars() != "").then("institution"),
            day=pl.coalesce("item_date", "date"),
            limit_fen=pl.coalesce("price_limit_fen", "catalog_limit_fen").cast(pl.Int64),
            item_class=pl.coalesce("category", "catalog_category"),
            is_stay=is_stay,
            line=pl.struct(
                pl.col("claim_id"),
                pl.col("line_no").cast(pl.Int32),
                pl.col("code"),
                pl.col("amount_fen").cast(pl.Int64),
            ),
        )
        .with_columns(age=_age_on(_line_age_date()))
    )
    return out


def _line_age_date() -> pl.Expr:
    """The day a line's age is taken on: the line's own date, else an inpatient claim's
    discharge (the day it settles), else the claim date."""
    inpatient = pl.col("med_type") == "21"
    return pl.coalesce("item_date", pl.when(inpatient).then("discharge_date"), "date")


def _age_on(on: pl.Expr) -> pl.Expr:
    """Whole years from `birth_date` to `on` (the birthday itself counts)."""
    born = pl.col("birth_date")
    birthday_ahead = (on.dt.month() < born.dt.month()) | (
        (on.dt.month() == born.dt.month()) & (on.dt.day() < born.dt.day())
    )
    years = on.dt.year().cast(pl.Int64) - born.dt.year().cast(pl.Int64)
    return years - birthday_ahead.cast(pl.Int64)


def _with_amounts(lines: pl.DataFrame) -> pl.DataFrame:
    """The money columns as Int64, `quantity_text` where the Float64 count would not print the
    quantity given (a decimal or Float32 column; claim files bring their own), `amount_fen`
    when the table has none
    (price × quantity, half-up fen), and `quantity` as a float (a count for the rules; money
    never uses it: `exact_times_quantity`)."""
    quantity = lines.schema["quantity"]
    money = [pl.col(c).cast(pl.Int64) for c in ("price_fen", "price_limit_fen", "amount_fen")]
    lines = lines.with_columns(*[m for m in money if m.meta.output_name() in lines.columns])
    if "quantity_text" not in lines.columns:
        # an integer or Float64 count prints as itself after the cast (`exact_times_quantity`
        # prints it when needed): only other columns are written down, not every line as text
        printed = quantity.is_integer() or quantity == pl.Float64
        text = pl.lit(None, pl.String) if printed else pl.col("quantity").cast(pl.String)
        lines = lines.with_columns(text.alias("quantity_text"))
    if "amount_fen" not in lines.columns:
        if quantity.is_integer():
            amount = pl.col("price_fen") * pl.col("quantity").cast(pl.Int64)
        else:
            amount = exact_times_quantity(pl.col("price_fen"))
        lines = lines.with_columns(amount_fen=amount)
    return lines.with_columns(pl.col("quantity").cast(pl.Float64))


def exact_times_quantity(fen: pl.Expr) -> pl.Expr:
    """`fen` × the line's quantity (`quantity_text`, else the count printed: a float prints as
    its shortest decimal), rounded half-up once to whole fen, in exact decimal arithmetic: a
    float product rounds 3000.5 to even (3000) or to a hair below. Row by row, so kept to
    lines without a whole quantity or to the few flagged lines."""
    text = pl.coalesce("quantity_text", pl.col("quantity").cast(pl.String))
    return pl.struct(fen.alias("fen"), text.alias("quantity_text")).map_elements(
        _half_up_product, return_dtype=pl.Int64, skip_nulls=False
    )


def _half_up_product(row: dict) -> int | None:
    if row["fen"] is None or row["quantity_text"] is None:
        return None
    product = Decimal(row["fen"]) * Decimal(row["quantity_text"])
    return round_half_up(product) if product.is_finite() else None  # a NaN float quantity


# ---------------------------------------------------------------- helpers
def _number_text(expr: pl.Expr) -> pl.Expr:
    """A quantity as text: whole numbers without a decimal point ("2", "0.5")."""
    whole = expr == expr.floor()
    return pl.when(whole).then(expr.cast(pl.Int64).cast(pl.String)).otherwise(expr.cast(pl.String))


def _finish(found: pl.DataFrame, rule: Rule, region: str) -> pl.DataFrame:
    found = _core(found)
    return found.with_columns(
        rule=pl.lit(rule.id),
        name_zh=pl.lit(rule.name_zh),
        name_en=pl.lit(rule.name_en),
        severity=pl.lit(rule.severity),
        region=pl.lit(region),
        basis=pl.lit(rule.basis_text()),
    ).select([pl.col(k).cast(v) for k, v in FLAG_SCHEMA.items()])


# ---------------------------------------------------------------- the rules
def split_hospitalization(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """Re-admission at the same institution within N days of discharge, related diagnosis."""
    window, chars = rule.p("window_days"), rule.p("icd_chars")
    ignore = rule.p("ignore_icd_prefixes")
    stays = _stays(lines)
    related = pl.col("diagnoses").list.eval(pl.element().str.slice(0, chars))
    if ignore:
        keep = ~pl.element().str.starts_with(ignore[0])
        for prefix in ignore[1:]:
            keep = keep & ~pl.element().str.starts_with(prefix)
        related = related.list.eval(pl.element().filter(keep))
    stays = stays.with_columns(icd=related.list.unique())
    pairs = _with_previous_stay(
        stays, "claim_id", "discharge", "institution", "icd", "lines"
    ).filter(pl.col("prev_claim_id").is_not_null())
    shared = pl.col("icd").list.set_intersection(pl.col("prev_icd"))
    pairs = pairs.with_columns(gap=days_since_previous_discharge(), shared=shared).filter(
        readmitted(window) & (pl.col("shared").list.len() > 0)
    )
    return pairs.select(
        "person_id",
        "institution",
        claim_ids=pl.concat_list("prev_claim_id", "claim_id"),
        lines=pl.concat_list("prev_lines", "lines"),
        evidence=_evidence(
            measure=pl.lit("days_from_discharge_to_readmission"),
            value=pl.col("gap"),
            threshold=pl.lit(window),
            comparison=pl.lit("<="),
            discharge_date=pl.col("prev_discharge").cast(pl.String),
            readmit_date=pl.col("admit").cast(pl.String),
            shared_icd=pl.col("shared"),
        ),
        amount_at_risk_fen=pl.col("amount"),
    )


def bed_hanging(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """A stay billed for bed/nursing only for days on end, or a settlement dated inside a stay."""
    return pl.concat([_idle_stays(lines, rule), _inside_stay(lines, rule)], how="vertical")


def _idle_stays(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    min_stay, min_run = rule.p("min_stay_days"), rule.p("min_idle_days")
    min_share, kinds = rule.p("min_idle_share"), rule.p("idle_kinds")
    stay_lines = lines.filter(
        "is_stay",
        pl.col("day") >= pl.col("admit_date"),
        pl.col("day") <= pl.col("discharge_date"),
    )
    days = (
        stay_lines.group_by([*STAY_KEYS, "day"])
        .agg(idle=pl.col("kind").is_in(kinds).fill_null(False).all())
        .sort([*STAY_KEYS, "day"])
    )
    idle = days.filter("idle").with_columns(
        run=(_days(pl.col("day") - pl.col("day").shift(1)) != 1)
        .fill_null(True)
        .cum_sum()
        .over(STAY_KEYS)
    )
    runs = (
        idle.group_by([*STAY_KEYS, "run"])
        .agg(n=pl.len())
        .group_by(STAY_KEYS)
        .agg(longest=pl.col("n").max())
    )
    shares = days.group_by(STAY_KEYS).agg(share=pl.col("idle").mean(), charged=pl.len())
    stays = _stays(lines).join(runs, on=STAY_KEYS).join(shares, on=STAY_KEYS)
    length = _days(pl.col("discharge") - pl.col("admit"))
    found = stays.with_columns(length=length).filter(
        (pl.col("length") >= min_stay)
        & (pl.col("longest") >= min_run)
        & (pl.col("share") >= min_share - 1e-9)
    )
    return _core(
        found.select(
            "person_id",
            "institution",
            claim_ids=pl.concat_list("claim_id"),
            lines="lines",
            evidence=_evidence(
                measure=pl.lit("consecutive_days_with_only_bed_or_nursing"),
                value=pl.col("longest"),
                threshold=pl.lit(min_run),
                comparison=pl.lit(">="),
                stay_days=pl.col("length"),
                min_stay_days=pl.lit(min_stay),
                idle_share=pl.col("share").round(4),
                min_idle_share=pl.lit(min_share),
            ),
            amount_at_risk_fen="amount",
        )
    )


def _inside_stay(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    med_types = rule.p("inside_stay_med_types")
    in_stay = lines.filter("is_stay").select("person_id").unique()
    visits = _visits(
        lines.filter(pl.col("med_type").is_in(med_types)).join(
            in_stay, on="person_id", how="semi", maintain_order="left"
        )
    )
    stays = _stays(lines).select(
        "person_id",
        stay_claim="claim_id",
        admit="admit",
        discharge="discharge",
        stay_institution="institution",
    )
    found = visits.join(stays, on="person_id").filter(
        (pl.col("date") > pl.col("admit")) & (pl.col("date") < pl.col("discharge"))
    )
    inside = pl.min_horizontal(
        _days(pl.col("date") - pl.col("admit")), _days(pl.col("discharge") - pl.col("date"))
    )
    return _core(
        found.select(
            "person_id",
            institution=pl.col("stay_institution"),
            claim_ids=pl.concat_list("stay_claim", "claim_id"),
            lines="lines",
            evidence=_evidence(
                measure=pl.lit("days_inside_stay"),
                value=inside,
                threshold=pl.lit(1),
                comparison=pl.lit(">="),
                settlement_date=pl.col("date").cast(pl.String),
                settlement_med_type=pl.col("med_type"),
                settlement_institution=pl.col("institution"),
                admit_date=pl.col("admit").cast(pl.String),
                discharge_date=pl.col("discharge").cast(pl.String),
            ),
            amount_at_risk_fen="amount",
        )
    )


def overlapping_stays(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """Two stays of one person overlapping by at least N nights."""
    min_overlap = rule.p("min_overlap_days")
    pairs = _with_previous_stay(
        _stays(lines), "claim_id", "discharge", "institution", "lines"
    ).filter(pl.col("prev_claim_id").is_not_null())
    overlap = _days(pl.min_horizontal("discharge", "prev_discharge") - pl.col("admit"))
    pairs = pairs.with_columns(overlap=overlap).filter(pl.col("overlap") >= min_overlap)
    return pairs.select(
        "person_id",
        "institution",
        claim_ids=pl.concat_list("prev_claim_id", "claim_id"),
        lines=pl.concat_list("prev_lines", "lines"),
        evidence=_evidence(
            measure=pl.lit("overlapping_days"),
            value=pl.col("overlap"),
            threshold=pl.lit(min_overlap),
            comparison=pl.lit(">="),
            first_institution=pl.col("prev_institution"),
            second_institution=pl.col("institution"),
        ),
        amount_at_risk_fen=pl.col("amount"),
    )


def over_price_limit(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """A unit price above its price limit, for items whose limit is a price ceiling. At risk:
    the line's amount less what it comes to at the limit (both half-up fen, as billed); a
    line whose excess rounds to no fen is not flagged."""
    tolerance, exempt = rule.p("tolerance_fen"), rule.p("payment_standard_kinds")
    found = lines.filter(
        pl.col("limit_fen").is_not_null(),
        pl.col("price_fen") > pl.col("limit_fen") + tolerance,
        ~pl.col("kind").is_in(exempt).fill_null(False),
    )
    at_limit = exact_times_quantity(pl.col("limit_fen"))
    found = found.with_columns(excess=pl.col("amount_fen") - at_limit).filter(pl.col("excess") > 0)
    return found.select(
        "person_id",
        "institution",
        claim_ids=pl.concat_list("claim_id"),
        lines=pl.concat_list("line"),
        evidence=_evidence(
            measure=pl.lit("unit_price_fen"),
            value=pl.col("price_fen"),
            threshold=pl.col("limit_fen") + tolerance,
            comparison=pl.lit(">"),
            code=pl.col("code"),
            kind=pl.col("kind"),
            quantity=_number_text(pl.col("quantity")),
        ),
        amount_at_risk_fen="excess",
    )


def charge_outside_stay(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """An inpatient line dated before admission or after discharge."""
    grace = rule.p("grace_days")
    outside = pl.max_horizontal(
        _days(pl.col("admit_date") - pl.col("item_date")),
        _days(pl.col("item_date") - pl.col("discharge_date")),
    )
    found = lines.filter("is_stay", pl.col("item_date").is_not_null()).with_columns(outside=outside)
    found = found.filter(pl.col("outside") > grace)
    return found.select(
        "person_id",
        "institution",
        claim_ids=pl.concat_list("claim_id"),
        lines=pl.concat_list("line"),
        evidence=_evidence(
            measure=pl.lit("days_outside_stay"),
            value=pl.col("outside"),
            threshold=pl.lit(grace),
            comparison=pl.lit(">"),
            item_date=pl.col("item_date").cast(pl.String),
            admit_date=pl.col("admit_date").cast(pl.String),
            discharge_date=pl.col("discharge_date").cast(pl.String),
        ),
        amount_at_risk_fen="amount_fen",
    )


def pharmacy_non_medical(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """Daily goods or health products on a pharmacy (定点药店) bill."""
    kinds, words = rule.p("goods_kinds"), rule.p("name_keywords")
    named = pl.lit(False)
    for word in words:
        named = named | pl.col("name").fill_null("").str.contains(word, literal=True)
    pharmacy = (pl.col("med_type") == "41") | pl.col("institution").fill_null("").str.starts_with(
        "P"
    )
    goods = lines.filter(pharmacy & (pl.col("kind").is_in(kinds).fill_null(False) | named))
    found = goods.group_by(STAY_KEYS, maintain_order=True).agg(
        institution=pl.col("institution").first(),
        lines=pl.col("line").sort_by("line_no"),
        codes=pl.col("code").sort_by("line_no"),
        n=pl.len(),
        amount=pl.col("amount_fen").sum(),
    )
    return found.select(
        "person_id",
        "institution",
        claim_ids=pl.concat_list("claim_id"),
        lines="lines",
        evidence=_evidence(
            measure=pl.lit("non_medical_lines"),
            value=pl.col("n"),
            threshold=pl.lit(0),
            comparison=pl.lit(">"),
            codes=pl.col("codes"),
        ),
        amount_at_risk_fen="amount",
    )


def sex_age_mismatch(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """Items outside their sex/age restriction, or a female-only diagnosis for a man."""
    prefixes = rule.p("female_only_icd_prefixes")
    marked = lines.with_columns(why=_restriction_violation())
    suspect = pl.col("why").is_not_null()
    if prefixes:
        female_dx = _diagnosis_starts_with_any(prefixes).fill_null(False)
        suspect = suspect | ((pl.col("sex") == "M") & female_dx)
    # Aggregate only the claims with a suspect line: the others cannot be flagged.
    claims = marked.filter(suspect).select(STAY_KEYS).unique()
    marked = marked.join(claims, on=STAY_KEYS, how="semi", maintain_order="left")
    marked = marked.with_columns(female_dx=_female_only_diagnoses(prefixes))
    per_claim = _restriction_claims(marked)
    dx_wrong = (pl.col("sex") == "M") & (pl.col("female_dx").list.len() > 0)
    per_claim = per_claim.with_columns(dx_wrong=dx_wrong.fill_null(False))
    found = per_claim.filter((pl.col("reasons").list.len() > 0) | pl.col("dx_wrong"))
    return _restriction_flags(found)


def _restriction_violation() -> pl.Expr:
    """Why a line breaks its item's sex or age restriction (null: it does not)."""
    wrong_sex = pl.col("r_sex").is_not_null() & pl.col("sex").is_not_null()
    wrong_sex = wrong_sex & (pl.col("r_sex") != pl.col("sex"))
    too_young = pl.col("r_min_age").is_not_null() & (pl.col("age") < pl.col("r_min_age"))
    too_old = pl.col("r_max_age").is_not_null() & (pl.col("age") > pl.col("r_max_age"))
    return (
        pl.when(wrong_sex)
        .then(pl.format("{}: sex {} (item for {})", "code", "sex", "r_sex"))
        .when(too_young)
        .then(pl.format("{}: age {} (item from {})", "code", "age", "r_min_age"))
        .when(too_old)
        .then(pl.format("{}: age {} (item up to {})", "code", "age", "r_max_age"))
    )


def _diagnosis_starts_with_any(prefixes: Sequence[str]) -> pl.Expr:
    """Whether any diagnosis of the line starts with one of `prefixes`."""
    return pl.any_horizontal(
        pl.col("diagnoses").list.eval(pl.element().str.starts_with(p)).list.any() for p in prefixes
    )


def _female_only_diagnoses(prefixes: Sequence[str]) -> pl.Expr:
    """The line's diagnoses that start with a female-only prefix (empty without prefixes)."""
    return pl.col("diagnoses").list.eval(
        pl.element().filter(pl.any_horizontal(pl.element().str.starts_with(p) for p in prefixes))
        if prefixes
        else pl.element().filter(pl.lit(False))
    )


def _restriction_claims(marked: pl.DataFrame) -> pl.DataFrame:
    """One row per claim: its violations, the violating lines and their amount, and all its
    lines and amount (for a claim flagged by its diagnosis alone)."""
    bad = pl.col("why").is_not_null()
    return marked.group_by(STAY_KEYS, maintain_order=True).agg(
        institution=pl.col("institution").first(),
        sex=pl.col("sex").first(),
        # lines may be dated on different days: the age at the first offending line
        age=pl.coalesce(
            pl.col("age").filter(bad).sort_by(pl.col("line_no").filter(bad)).first(),
            pl.col("age").sort_by("line_no").first(),
        ),
        female_dx=pl.col("female_dx").first(),
        reasons=pl.col("why").drop_nulls(),
        bad_lines=pl.col("line").filter(bad).sort_by(pl.col("line_no").filter(bad)),
        bad_amount=pl.col("amount_fen").filter(bad).sum(),
        all_lines=pl.col("line").sort_by("line_no"),
        amount=pl.col("amount_fen").sum(),
    )


def _restriction_flags(found: pl.DataFrame) -> pl.DataFrame:
    """The flags: item violations, then the female-only diagnoses of a man; a claim flagged
    by its diagnosis alone puts all its lines and amount at risk."""
    dx_reasons = pl.when(pl.col("dx_wrong")).then(
        pl.col("female_dx").list.eval(pl.format("diagnosis {} for sex M", pl.element()))
    )
    reasons = pl.concat_list("reasons", dx_reasons.fill_null(pl.lit([], pl.List(pl.String))))
    only_dx = pl.col("reasons").list.len() == 0
    return found.select(
        "person_id",
        "institution",
        claim_ids=pl.concat_list("claim_id"),
        lines=pl.when(only_dx).then("all_lines").otherwise("bad_lines"),
        evidence=_evidence(
            measure=pl.lit("restriction_violations"),
            value=reasons.list.len(),
            threshold=pl.lit(0),
            comparison=pl.lit(">"),
            sex=pl.col("sex"),
            age=pl.col("age"),
            violations=reasons,
        ),
        amount_at_risk_fen=pl.when(only_dx).then("amount").otherwise("bad_amount"),
    )


def duplicate_charge(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """One item billed more often on one day of one claim than plausible. An inpatient line
    without a date of its own is not judged: its day is unknown, and a stay orders one item
    on many days (two such lines are as likely Monday's and Friday's as a copy)."""
    most = rule.p("max_lines_per_day")
    keys = [*STAY_KEYS, "code", "day"]
    undated_stay_line = (pl.col("med_type") == "21") & pl.col("item_date").is_null()
    lines = lines.filter(~undated_stay_line).filter(pl.len().over(keys) > most)
    groups = lines.sort([*keys, "line_no"]).group_by(keys, maintain_order=True)
    found = groups.agg(
        institution=pl.col("institution").first(),
        n=pl.len(),
        lines=pl.col("line"),
        extra=pl.col("amount_fen").slice(most).sum(),
    ).filter(pl.col("n") > most)
    return found.select(
        "person_id",
        "institution",
        claim_ids=pl.concat_list("claim_id"),
        lines="lines",
        evidence=_evidence(
            measure=pl.lit("lines_of_item_on_day"),
            value=pl.col("n"),
            threshold=pl.lit(most),
            comparison=pl.lit(">"),
            code=pl.col("code"),
            day=pl.col("day").cast(pl.String),
        ),
        amount_at_risk_fen="extra",
    )


def over_frequency(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """More outpatient visits in one calendar month than the threshold."""
    most, med_types = rule.p("max_visits_per_month"), rule.p("med_types")
    month = pl.col("date").dt.strftime("%Y-%m")
    lines = lines.filter(pl.col("med_type").is_in(med_types))
    busy = (
        lines.select("person_id", "claim_id", month=month)
        .unique()
        .group_by("person_id", "month")
        .agg(n=pl.len())
        .filter(pl.col("n") > most)
        .select("person_id")
        .unique()
    )
    visits = _visits(lines.join(busy, on="person_id", how="semi", maintain_order="left"))
    visits = visits.with_columns(month=month)
    found = (
        visits.group_by(["person_id", "month"], maintain_order=True)
        .agg(
            institution=pl.col("institution").mode().sort().first(),
            claim_ids=pl.col("claim_id"),
            lines=pl.col("lines").list.explode(keep_nulls=False, empty_as_null=False),
            n=pl.len(),
            amount=pl.col("amount").slice(most).sum(),
        )
        .filter(pl.col("n") > most)
    )
    return found.select(
        "person_id",
        "institution",
        "claim_ids",
        "lines",
        evidence=_evidence(
            measure=pl.lit("visits_in_month"),
            value=pl.col("n"),
            threshold=pl.lit(most),
            comparison=pl.lit(">"),
            month=pl.col("month"),
        ),
        amount_at_risk_fen="amount",
    )


def two_places_one_day(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """One person settled at more places on one day than a person can visit (冒名就医,
    人证不符: someone else using the card). A referral claim (转诊) is not a place of its own;
    a pharmacy purchase (双通道, an external prescription) fills the prescription of one
    institution visited that day, so the places are max(institutions visited, pharmacies)."""
    most, med_types = rule.p("max_institutions_per_day"), rule.p("med_types")
    fills, exempt = rule.p("prescription_med_types"), rule.p("exempt_claim_flags")
    counted = pl.col("med_type").is_in(med_types) & pl.col("institution").is_not_null()
    for flag in exempt:
        counted = counted & ~pl.col(flag).fill_null(False)
    day = ["person_id", "date"]
    claims = lines.filter(counted)
    # a day needs more claims than `most` to have more places: a cheap first cut
    claims = claims.filter(pl.col("claim_id").n_unique().over(day) > most)
    visits = _visits(claims)
    is_fill = pl.col("med_type").is_in(fills)
    place = pl.col("institution")
    visits = visits.with_columns(
        seen=place.filter(~is_fill).n_unique().over(day),
        filled=place.filter(is_fill).n_unique().over(day),
    ).with_columns(n=pl.max_horizontal("seen", "filled"))
    # the purchases are listed only when they are places of their own (more than visits)
    listed = ~is_fill | (pl.col("filled") > pl.col("seen"))
    found = (
        visits.filter(pl.col("n") > most)
        .group_by(day, maintain_order=True)
        .agg(
            institution=place.filter(listed).sort().first(),
            visited=place.filter(~is_fill).unique().sort(),
            pharmacies=place.filter(is_fill).unique().sort(),
            n=pl.col("n").first(),
            claim_ids=pl.col("claim_id").filter(listed),
            lines=pl.col("lines")
            .filter(listed)
            .list.explode(keep_nulls=False, empty_as_null=False),
            amount=pl.col("amount").filter(listed).sum(),
        )
    )
    return found.select(
        "person_id",
        "institution",
        "claim_ids",
        "lines",
        evidence=_evidence(
            measure=pl.lit("places_on_day"),
            value=pl.col("n"),
            threshold=pl.lit(most),
            comparison=pl.lit(">"),
            day=pl.col("date").dt.strftime("%Y-%m-%d"),
            institutions=pl.col("visited"),
            pharmacies=pl.col("pharmacies"),
        ),
        amount_at_risk_fen="amount",
    )


RULES: dict[str, Callable[[pl.DataFrame, Rule], pl.DataFrame]] = {
    "split_hospitalization": split_hospitalization,
    "bed_hanging": bed_hanging,
    "overlapping_stays": overlapping_stays,
    "over_price_limit": over_price_limit,
    "charge_outside_stay": charge_outside_stay,
    "pharmacy_non_medical": pharmacy_non_medical,
    "sex_age_mismatch": sex_age_mismatch,
    "duplicate_charge": duplicate_charge,
    "over_frequency": over_frequency,
    "two_places_one_day": two_places_one_day,
    "drug_substitution": drug_substitution,
    "disease_substitution": disease_substitution,
    "low_standard_admission": low_standard_admission,
    "deceased_person": deceased_person,
    "unenrolled_person": unenrolled_person,
    "institution_outlier": institution_outlier,
}
assert tuple(RULES) == RULE_IDS
# rules whose flags are about an institution, not a person: a second flag table
INSTITUTION_RULES = ("institution_outlier",)


def flag_dicts(flags: pl.DataFrame) -> list[dict]:
    """Flags as the JSON objects `yibao supervise` prints."""
    out = []
    for row in flags.iter_rows(named=True):
        row["evidence"] = json.loads(row["evidence"])
        out.append(
            {
                "rule": row["rule"],
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "region": row["region"],
                "person_id": row["person_id"],
                "institution": row["institution"],
                "claim_ids": row["claim_ids"],
                "lines": row["lines"],
                "evidence": row["evidence"],
                "basis": row["basis"],
                "severity": row["severity"],
                "amount_at_risk_fen": row["amount_at_risk_fen"],
            }
        )
    return out


# the columns a Parquet table must have; the others of the frame schemas are optional
REQUIRED_PERSON_COLUMNS = ("person_id", "region", "sex", "birth_date")
REQUIRED_LINE_COLUMNS = tuple(
    c
    for c in LINE_FRAME_SCHEMA
    if c not in OPTIONAL_LINE_COLUMNS and c not in ("amount_fen", "quantity_text")
)


def person_columns(persons_path) -> list[str]:
    """The columns of a persons Parquet file the rules read (the optional ones if present)."""
    present = table_columns(persons_path, REQUIRED_PERSON_COLUMNS)
    wanted = [*REQUIRED_PERSON_COLUMNS, *OPTIONAL_PERSON_COLUMNS]
    return [c for c in wanted if c in present]


def table_columns(path, required: Iterable[str]) -> list[str]:
    """The column names of the Parquet file `path`; InputError naming the file when it is not
    a readable Parquet file, lacks one of the `required` columns or holds a column the rules
    read with another type than `TABLE_TYPES` (price_fen as text would fail deep in a rule)."""
    try:
        schema = pl.read_parquet_schema(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path}: {_read_failure(exc)}") from None
    missing = [c for c in required if c not in schema]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    for column, dtype in schema.items():
        expected = TABLE_TYPES.get(column)
        if expected is not None and not _fits(dtype, expected):
            raise InputError(f"{path}: column {column} is {dtype}, expected {_kind(expected)}")
    return list(schema)


# the type each column the rules read must have in a table (the frame schemas' types; any
# integer width, a quantity whole or not)
TABLE_TYPES: dict[str, pl.DataType] = {**PERSON_FRAME_SCHEMA, **LINE_FRAME_SCHEMA}


def _fits(actual: pl.DataType, expected: pl.DataType) -> bool:
    if actual == pl.Null:  # a column with no value at all
        return True
    if expected.is_integer():
        return actual.is_integer()
    if expected.is_float():
        return actual.is_integer() or actual.is_float() or actual.is_decimal()
    if isinstance(expected, pl.List):
        return isinstance(actual, pl.List) and _fits(actual.inner, expected.inner)
    return actual == expected


def _kind(expected: pl.DataType) -> str:
    """A column type as the error names it."""
    if expected.is_integer():
        return "an integer"
    if expected.is_float():
        return "a number"
    if isinstance(expected, pl.List):
        return f"a list of {_kind(expected.inner)}"
    return {pl.String: "text (String)", pl.Date: "a date (Date)", pl.Boolean: "Boolean"}.get(
        expected, str(expected)
    )


def _read_failure(exc: Exception) -> str:
    """Why a Parquet file could not be read, in one line."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot read ({exc.strerror})"
    lines = str(exc).strip().splitlines()
    return f"not a readable Parquet file ({lines[0] if lines else type(exc).__name__})"


def institution_flags_path(out_path: str) -> str:
    """Where the institution-level flags go beside `out_path`: flags.parquet →
    flags.institutions.parquet."""
    stem = out_path[: -len(".parquet")] if out_path.endswith(".parquet") else out_path
    return stem + ".institutions.parquet"


def supervise_parquet_files(
    persons_path: str, lines_path: str, partition_lines: int = PARTITION_LINES
) -> Supervised:
    """The rules over Parquet tables (`yibao synth`), reading one person partition of the
    lines at a time (a filter on `person_id` pushed into the scan: files sorted by person, as
    synth writes them, are read one row group range per partition)."""
    table_columns(lines_path, REQUIRED_LINE_COLUMNS)
    try:
        persons = pl.read_parquet(persons_path, columns=person_columns(persons_path))
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{persons_path}: {_read_failure(exc)}") from None
    if (two := two_people_one_id(persons)) is not None:
        raise InputError(f"{persons_path}: {two}")
    scan = pl.scan_parquet(lines_path)

    def read(query: pl.LazyFrame) -> pl.DataFrame:
        try:
            return query.collect()
        except (OSError, pl.exceptions.PolarsError) as exc:  # a damaged page, a wrong type
            raise InputError(f"{lines_path}: {_read_failure(exc)}") from None

    total = read(scan.select(pl.len())).item()
    if total == 0:  # a truncated export is not a clean month
        raise InputError(f"{lines_path}: holds no claim line")

    def load(chosen: pl.Expr | None) -> pl.DataFrame:
        lines = read(scan if chosen is None else scan.filter(chosen))
        if (twice := line_given_twice(lines)) is not None:
            raise InputError(f"{lines_path}: {twice}")
        return lines

    found = _supervise(persons, load, total, partition_lines)
    found.listed_twice = listed_twice(persons).to_list()
    return found


def supervise_parquet(
    persons_path: str, lines_path: str, out_path: str, partition_lines: int = PARTITION_LINES
) -> int:
    """Parquet in (`yibao synth` tables), Parquet out (`FLAG_SCHEMA`): the person-level flags
    to `out_path`, the institution-level ones to `institution_flags_path(out_path)`; returns
    the number of person-level flags."""
    found = supervise_parquet_files(persons_path, lines_path, partition_lines)
    found.flags.write_parquet(out_path)
    found.institution_flags.write_parquet(institution_flags_path(out_path))
    return found.flags.height
