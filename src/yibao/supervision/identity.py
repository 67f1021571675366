"""Identity anomalies beyond two places on one day: care billed after the person's death
(`persons.death_date`) or after their enrolment ended (`persons.enrolled_until`) — someone
else is using the card (冒名就医, 人证不符, EH-37). Both columns are optional and null for
almost everybody; without them the rules find nothing.
"""

from __future__ import annotations

import polars as pl

from yibao.supervision.common import STAY_KEYS, core, days, empty, evidence
from yibao.supervision.params import Rule


def _after(lines: pl.DataFrame, rule: Rule, column: str, measure: str) -> pl.DataFrame:
    """The lines of each claim dated more than `grace_days` after the person's `column`."""
    grace = rule.p("grace_days")
    late = days(pl.col("day") - pl.col(column))
    found = lines.filter(pl.col(column).is_not_null()).filter(late > grace)
    if found.height == 0:
        return empty()
    per_claim = (
        found.sort([*STAY_KEYS, "line_no"])
        .group_by(STAY_KEYS, maintain_order=True)
        .agg(
            institution=pl.col("institution").first(),
            cutoff=pl.col(column).first(),
            first_day=pl.col("day").min(),
            late=late.max(),
            lines=pl.col("line"),
            amount=pl.col("amount_fen").sum(),
        )
    )
    return core(
        per_claim.select(
            "person_id",
            "institution",
            claim_ids=pl.concat_list("claim_id"),
            lines="lines",
            evidence=evidence(
                measure=pl.lit(measure),
                value=pl.col("late"),
                threshold=pl.lit(grace),
                comparison=pl.lit(">"),
                **{column: pl.col("cutoff").cast(pl.String)},
                first_line_date=pl.col("first_day").cast(pl.String),
            ),
            amount_at_risk_fen="amount",
        )
    )


def deceased_person(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """Lines dated after the person's death."""
    return _after(lines, rule, "death_date", "days_after_death")


def unenrolled_person(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """Lines dated after the person's enrolment ended."""
    return _after(lines, rule, "enrolled_until", "days_after_enrolment_ended")
