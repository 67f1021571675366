"""The flag table and the small frame helpers every supervision rule shares."""

from __future__ import annotations

import polars as pl

LINE = pl.Struct(
    {"claim_id": pl.String, "line_no": pl.Int32, "code": pl.String, "amount_fen": pl.Int64}
)
FLAG_SCHEMA: dict[str, pl.DataType] = {
    "rule": pl.String(),
    "name_zh": pl.String(),
    "name_en": pl.String(),
    "severity": pl.String(),
    "region": pl.String(),
    "person_id": pl.String(),  # null for an institution-level flag (`institution_outlier`)
    "institution": pl.String(),
    "claim_ids": pl.List(pl.String()),
    "lines": pl.List(LINE),
    "evidence": pl.String(),  # JSON object: measure, value, threshold and details
    "amount_at_risk_fen": pl.Int64(),
    "basis": pl.String(),
}
# what each rule function returns, before names, severity, region and basis are added
CORE = ("person_id", "institution", "claim_ids", "lines", "evidence", "amount_at_risk_fen")
STAY_KEYS = ("person_id", "claim_id")


def evidence(**fields: pl.Expr) -> pl.Expr:
    """The evidence JSON object of a flag (measure, value, threshold, comparison, details)."""
    return pl.struct(**fields).struct.json_encode()


def days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_days()


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema={k: FLAG_SCHEMA[k] for k in CORE})


def core(frame: pl.DataFrame) -> pl.DataFrame:
    """A rule's result with exactly the `CORE` columns and types."""
    if frame.height == 0:
        return empty()
    return frame.select([pl.col(k).cast(FLAG_SCHEMA[k]) for k in CORE])


def stays(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per inpatient stay: dates, institution, diagnoses, amount and its lines."""
    return (
        lines.filter("is_stay")
        .group_by(STAY_KEYS, maintain_order=True)
        .agg(
            admit=pl.col("admit_date").first(),
            discharge=pl.col("discharge_date").first(),
            institution=pl.col("institution").first(),
            diagnoses=pl.col("diagnoses").first(),
            amount=pl.col("amount_fen").sum(),
            lines=pl.col("line").sort_by("line_no"),
        )
        .sort(["person_id", "admit", "discharge", "claim_id"])
    )


def with_previous_stay(stays: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """`stays` (in `stays` order) with `prev_<column>` of the person's stay before each one:
    null for a person's first stay."""
    return stays.with_columns(
        pl.col(c).shift(1).over("person_id").alias(f"prev_{c}") for c in columns
    )


def days_since_previous_discharge() -> pl.Expr:
    """Days from the previous stay's discharge to this admission (`with_previous_stay`)."""
    return days(pl.col("admit") - pl.col("prev_discharge"))


def readmitted(window: int) -> pl.Expr:
    """Admitted at the institution of the person's previous stay, 0 to `window` days after
    its discharge (null for a first stay, or when either institution is unknown: two unknown
    places are not one place)."""
    same_place = pl.col("institution") == pl.col("prev_institution")
    return same_place & days_since_previous_discharge().is_between(0, window)


def visits(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per claim: its date, type, institution, amount and lines, in (person, date)
    order."""
    return (
        lines.group_by(STAY_KEYS, maintain_order=True)
        .agg(
            date=pl.col("date").first(),
            med_type=pl.col("med_type").first(),
            institution=pl.col("institution").first(),
            amount=pl.col("amount_fen").sum(),
            lines=pl.col("line").sort_by("line_no"),
        )
        .sort(["person_id", "date", "claim_id"])
    )
