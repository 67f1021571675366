"""Planted fraud is off by default, and each label marks a pattern that is really in the data."""

from __future__ import annotations

import polars as pl
import pytest

from tests.synth.conftest import population
from yibao.catalog.load import load_packaged

LABELS = {
    "split_hospitalization",
    "bed_hanging",
    "duplicate_charge",
    "charge_outside_stay",
    "over_price_limit",
    "sex_age_mismatch",
    "pharmacy_non_medical",
}
# planted on their own draw streams after the ones above (which stay on the same claims)
EXTRA_LABELS = {
    "drug_substitution",
    "disease_substitution",
    "low_standard_admission",
    "deceased_person",
    "unenrolled_person",
    "two_places_one_day",
    "overlapping_stays",
    "over_frequency",
}
CATALOG = load_packaged(("sample_common.csv",)).entries


def _claims(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.group_by("person_id", "claim_id").agg(
        pl.col(
            "med_type", "date", "admit_date", "discharge_date", "diagnoses", "institution"
        ).first(),
        labels=pl.col("fraud_label").drop_nulls().unique(),
        codes=pl.col("code").unique(),
    )


def test_no_labels_unless_asked():
    _, lines = population("qingdao", 2023, 2000, 8)
    assert lines["fraud_label"].null_count() == lines.height


def test_every_pattern_is_planted_at_about_the_rate(qingdao_fraud):
    _, lines = qingdao_fraud
    claims = _claims(lines)
    assert set(lines["fraud_label"].drop_nulls().unique()) == LABELS | EXTRA_LABELS
    first = claims["labels"].list.eval(pl.element().is_in(list(LABELS))).list.any()
    assert 0.02 < first.mean() < 0.04  # asked for 3% of claims
    # the extra patterns add about 3%: two places on one day labels three claims each time
    assert (claims["labels"].list.len() > 0).mean() < 0.07
    assert (claims["labels"].list.len() <= 1).all()  # one pattern per claim at most


def test_split_hospitalization_is_a_readmission_within_15_days(qingdao_fraud):
    _, lines = qingdao_fraud
    stays = _claims(lines).filter(pl.col("med_type") == "21").sort("person_id", "admit_date")
    stays = stays.with_columns(
        gap=(
            pl.col("admit_date") - pl.col("discharge_date").shift().over("person_id")
        ).dt.total_days(),
        same=(pl.col("diagnoses") == pl.col("diagnoses").shift().over("person_id"))
        & (pl.col("institution") == pl.col("institution").shift().over("person_id")),
        split=pl.col("labels").list.contains("split_hospitalization"),
    )
    # a person's labelled stays come in pairs: admission, then the re-admission
    nth = pl.col("split").cast(pl.Int32).cum_sum().over("person_id")
    stays = stays.with_columns(readmission=pl.col("split") & (nth % 2 == 0))
    readmissions = stays.filter("readmission")
    assert readmissions.height > 0
    assert (stays["split"].sum()) == 2 * readmissions.height
    assert readmissions["gap"].is_between(1, 14).all() and readmissions["same"].all()
    # legitimate stays of one person are never that close, nor overlapping (a planted
    # overlapping stay and the stay it lies in are)
    overlap = pl.col("labels").list.contains("overlapping_stays")
    legitimate = stays.filter(~pl.col("readmission") & ~overlap)
    assert (legitimate["gap"].drop_nulls() >= 16).all()


def test_bed_hanging_stays_have_only_bed_and_nursing(qingdao_fraud):
    _, lines = qingdao_fraud
    claims = _claims(lines)
    hanging = claims.filter(pl.col("labels").list.contains("bed_hanging"))
    assert hanging.height > 0
    assert hanging["codes"].list.eval(pl.element().is_in(["S002", "S003", "S004"])).list.all().all()
    others = claims.filter((pl.col("med_type") == "21") & (pl.col("labels").list.len() == 0))
    treated = others["codes"].list.eval(~pl.element().is_in(["S002", "S003", "S004"])).list.any()
    assert treated.all()  # every other stay bills more than bed and nursing


def test_duplicates_copy_a_line_of_the_same_claim(qingdao_fraud):
    _, lines = qingdao_fraud
    same = ["person_id", "claim_id", "code", "item_date", "price_fen", "quantity"]
    groups = lines.group_by(same).agg(n=pl.len(), labels=pl.col("fraud_label").drop_nulls())
    duplicated = groups.filter(pl.col("n") > 1)
    assert duplicated.height > 0
    assert (duplicated["n"] == 2).all()
    assert (duplicated["labels"].list.len() == 1).all()
    assert (duplicated["labels"].list.first() == "duplicate_charge").all()
    # no code twice on a day of a claim otherwise
    per_day = lines.filter(pl.col("fraud_label").is_null()).group_by(
        "person_id", "claim_id", "code", "item_date"
    )
    assert (per_day.len()["len"] == 1).all()


def test_charges_outside_the_stay(qingdao_fraud):
    _, lines = qingdao_fraud
    outside = ~pl.col("item_date").is_between(pl.col("admit_date"), pl.col("discharge_date"))
    stays = lines.filter(pl.col("med_type") == "21")
    labelled = stays.filter(pl.col("fraud_label") == "charge_outside_stay")
    assert labelled.height > 0 and labelled.select(outside.all()).item()
    assert stays.filter(outside)["fraud_label"].eq("charge_outside_stay").all()


def test_prices_above_the_limit(qingdao_fraud):
    _, lines = qingdao_fraud
    over = lines.filter(pl.col("price_fen") > pl.col("price_limit_fen"))
    labelled = over.filter(pl.col("fraud_label") == "over_price_limit")
    assert labelled.height > 0 and set(labelled["code"]) <= {"S002", "S003", "M001"}
    # the only legitimate excess is a premium lens above its payment standard (支付标准)
    assert set(over.filter(pl.col("fraud_label").is_null())["code"]) <= {"M002"}


def test_sex_and_age_restricted_items_go_to_the_wrong_person(qingdao_fraud):
    persons, lines = qingdao_fraud
    who = persons.select("person_id", "sex", "birth_date")
    labelled = lines.filter(pl.col("fraud_label") == "sex_age_mismatch").join(who, on="person_id")
    assert labelled.height > 0
    for row in labelled.iter_rows(named=True):
        rule = CATALOG[row["code"]].restriction
        day, born = row["date"], row["birth_date"]
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        wrong_sex = rule.sex is not None and rule.sex != row["sex"]
        too_old = rule.max_age is not None and age > rule.max_age
        assert wrong_sex or too_old, row
        if wrong_sex:
            assert any(dx.startswith("O") for dx in row["diagnoses"])  # an obstetric diagnosis


def test_daily_goods_only_on_labelled_pharmacy_bills(qingdao_fraud):
    _, lines = qingdao_fraud
    goods = lines.filter(pl.col("code").is_in(["G001", "G002"]))
    assert goods.height > 0
    assert (goods["med_type"] == "41").all()
    assert (goods["fraud_label"] == "pharmacy_non_medical").all()


def test_no_claim_inside_a_stay(qingdao_fraud):
    _, lines = qingdao_fraud
    claims = _claims(lines)
    stays = claims.filter(pl.col("med_type") == "21").select(
        "person_id", "admit_date", "discharge_date"
    )
    visits = claims.filter(pl.col("med_type") != "21").select("person_id", "date")
    inside = visits.join(stays, on="person_id").filter(
        pl.col("date").is_between(pl.col("admit_date"), pl.col("discharge_date"))
    )
    assert inside.height == 0


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_rate_outside_0_1_is_refused(rate):
    from yibao.errors import InputError
    from yibao.synth import Generator, Options

    with pytest.raises(InputError, match="fraud-rate"):
        Generator(Options("qingdao", 10, 2023, 1, fraud_rate=rate))
