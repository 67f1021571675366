"""Planted over-frequent visits (超频次就诊): a month with more visits than the rule allows, every
visit the rule counts labelled, nothing another rule sees, and the older patterns unmoved."""

from __future__ import annotations

import polars as pl
import pytest

from yibao.supervision import supervise_tables
from yibao.supervision.params import rules_for
from yibao.synth import Options, fraud, generate

LABEL = "over_frequency"
RULE = rules_for("qingdao")[LABEL]
MOST = RULE.p("max_visits_per_month")  # 12 (G-ALL-6)
COUNTED = RULE.p("med_types")  # general and chronic visits: 11, 14


def _visits(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per claim: its first line's fields and its labels."""
    return lines.group_by("person_id", "claim_id").agg(
        pl.col("date", "med_type", "institution").first(),
        labels=pl.col("fraud_label").unique(),
        month=pl.col("date").first().dt.strftime("%Y-%m"),
    )


def _planted_months(claims: pl.DataFrame) -> pl.DataFrame:
    labelled = claims.filter(pl.col("labels").list.contains(LABEL))
    return labelled.select("person_id", "month").unique()


def test_each_planted_month_exceeds_the_threshold_and_all_its_visits_are_labelled(
    qingdao_fraud,
):
    _, lines = qingdao_fraud
    claims = _visits(lines)
    months = _planted_months(claims)
    assert months.height >= 10
    assert months["person_id"].is_unique().all()  # one month per planted person
    in_month = claims.join(months, on=["person_id", "month"])
    counted = in_month.filter(pl.col("med_type").is_in(COUNTED))
    per_month = counted.group_by("person_id", "month").agg(
        n=pl.len(),
        labelled=pl.col("labels").list.contains(LABEL).all(),
        only=(pl.col("labels").list.len() == 1).all(),
    )
    # the threshold + 1 … + 4 (more only if the person's own visits already were)
    assert per_month["n"].is_between(MOST + 1, MOST + 4).all()
    assert per_month["labelled"].all() and per_month["only"].all()
    # pharmacy purchases that month are not what the rule counts: never labelled
    others = in_month.filter(~pl.col("med_type").is_in(COUNTED))
    assert not others["labels"].list.contains(LABEL).any()
    # every line of a labelled claim carries the label
    keys = counted.select("person_id", "claim_id")
    assert (lines.join(keys, on=["person_id", "claim_id"])["fraud_label"] == LABEL).all()


def test_the_added_visits_are_at_one_home_clinic_on_days_of_their_own(qingdao_fraud):
    _, lines = qingdao_fraud
    claims = _visits(lines)
    persons = _planted_months(claims).select("person_id")
    everything = claims.join(persons, on="person_id")
    # the added visits are alone on their day: no day of a planted person has more places
    # than the two-places rule allows (2)
    per_day = everything.group_by("person_id", "date").agg(places=pl.col("institution").n_unique())
    assert per_day["places"].max() <= 2
    # the added visits: labelled, at the level-1 clinic the person visits most that month
    labelled = everything.filter(pl.col("labels").list.contains(LABEL))
    home = labelled.group_by("person_id").agg(pl.col("institution").mode().first())
    assert home["institution"].str.starts_with("H3702001").all()


def test_the_rule_flags_exactly_the_planted_visits_and_no_other_rule_touches_them(
    qingdao_fraud,
):
    persons, lines = qingdao_fraud
    flags = supervise_tables(persons, lines)
    named = flags.select("rule", "person_id", claim_id="claim_ids").explode("claim_id").unique()
    planted = lines.filter(pl.col("fraud_label") == LABEL).select("person_id", "claim_id").unique()
    found = named.filter(pl.col("rule") == LABEL).drop("rule")
    assert found.sort(pl.all()).equals(planted.sort(pl.all()))  # precision = recall = 1 here
    others = named.filter(pl.col("rule") != LABEL).join(planted, on=["person_id", "claim_id"])
    assert others.height == 0, others


def test_older_patterns_stay_on_the_same_claims(monkeypatch):
    options = Options("qingdao", 3000, 2023, 17, fraud_rate=0.05)
    _, with_it = generate(options)
    monkeypatch.setattr(fraud, "OVER_FREQUENCY_SHARE", 0.0)
    _, without = generate(options)
    planted = with_it.filter(pl.col("fraud_label") == LABEL).select("person_id").unique()
    assert planted.height >= 3
    assert without.filter(pl.col("fraud_label") == LABEL).height == 0
    # the planted persons had no other pattern; everybody else's lines are unchanged
    rest = [f.join(planted, on="person_id", how="anti") for f in (with_it, without)]
    assert rest[0].equals(rest[1])
    mine = without.join(planted, on="person_id")
    assert mine["fraud_label"].null_count() == mine.height


@pytest.mark.parametrize("region", ["tongliao", "erenhot"])
def test_the_month_follows_the_regions_rule(region):
    _, lines = generate(Options(region, 3000, 2023, 11, fraud_rate=0.05))
    months = _planted_months(_visits(lines))
    most = rules_for(region)[LABEL].p("max_visits_per_month")
    counted = (
        _visits(lines)
        .join(months, on=["person_id", "month"])
        .filter(pl.col("med_type").is_in(rules_for(region)[LABEL].p("med_types")))
        .group_by("person_id", "month")
        .agg(n=pl.len())
    )
    assert counted.height >= 3 and (counted["n"] > most).all()
