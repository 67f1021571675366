"""The patterns planted for the newer supervision rules: each label marks what it says, and
without a fraud rate the output is byte for byte what it was before they existed."""

from __future__ import annotations

import hashlib

import polars as pl

from tests.synth.conftest import population
from yibao.supervision.params import rules_for
from yibao.supervision.substitution import disease_icd
from yibao.synth import Generator, Options
from yibao.synth.generate import generate

OLD_PERSON_COLUMNS = [
    "person_id", "region", "scheme", "employment", "categories", "birth_date", "sex",
    "account_balance_fen", "flags", "products",
]  # fmt: skip
# sha256 of the CSV of `yibao synth` output (400 persons, seed 3, no fraud), computed with the
# code before these patterns, persons' new columns left out: they must not move a byte
BEFORE = {
    ("qingdao", 2023): (
        "35278e1bc773010fbc4d40d9445720efa912fc956154ab8b70fef65d74984c89",
        "82e6d3c95a0cd422c6fc23badc800cb964c79a8ed61a209c015a02a77ebecdbe",
    ),
    ("erenhot", 2023): (
        "6773d61f6aaca203bda9957e6e43de436c79af37f068d18a2bb215240665c336",
        "187a6777c4a90f0f7e396f343713aca0f1cb9c389a6599b5887d53acc0f3897f",
    ),
}


def _digest(frame: pl.DataFrame) -> str:
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    flat = frame.with_columns(pl.col(n).list.join("|") for n in lists)
    return hashlib.sha256(flat.write_csv().encode()).hexdigest()


def test_output_without_fraud_is_unchanged():
    for (region, year), (persons_sha, lines_sha) in BEFORE.items():
        persons, lines = generate(Options(region, 400, year, 3, 0.0))
        assert _digest(persons.select(OLD_PERSON_COLUMNS)) == persons_sha, region
        assert _digest(lines) == lines_sha, region
        assert persons["death_date"].null_count() == persons["enrolled_until"].null_count() == 400
        assert Generator(Options(region, 400, year, 3, 0.0)).fraudulent == ()


def _labelled(lines: pl.DataFrame, label: str) -> pl.DataFrame:
    return lines.filter(pl.col("fraud_label") == label)


def test_substituted_drugs_do_not_fit_the_diagnoses(qingdao_fraud):
    _, lines = qingdao_fraud
    classes = rules_for("qingdao")["drug_substitution"].p("drug_classes")
    planted = _labelled(lines, "drug_substitution")
    assert planted.height > 50
    for row in planted.iter_rows(named=True):
        chapters = next(v for k, v in classes.items() if row["code"].startswith(k))
        assert row["diagnoses"], row
        assert not any(dx.startswith(tuple(chapters)) for dx in row["diagnoses"]), row


def test_substituted_diseases_do_not_fit_the_diagnoses(qingdao_fraud):
    _, lines = qingdao_fraud
    icd = disease_icd("qingdao", ("14",))
    table = dict(icd.group_by("disease").agg(pl.col("icd")).iter_rows())
    chronic = lines.filter(pl.col("med_type") == "14").unique(["person_id", "claim_id"])
    swapped = chronic.filter(pl.col("fraud_label") == "disease_substitution")
    assert swapped.height > 20
    for row in chronic.iter_rows(named=True):
        fits = any(dx.startswith(tuple(table[row["disease"]])) for dx in row["diagnoses"])
        assert fits != (row["fraud_label"] == "disease_substitution"), row
    # the whole claim is labelled
    whole = lines.join(swapped.select("person_id", "claim_id"), on=["person_id", "claim_id"])
    assert (whole["fraud_label"] == "disease_substitution").all()


def test_low_standard_admissions_are_short_cheap_stays_for_minor_illness(qingdao_fraud):
    _, lines = qingdao_fraud
    stays = (
        _labelled(lines, "low_standard_admission")
        .group_by("person_id", "claim_id")
        .agg(
            pl.col("admit_date", "discharge_date", "diagnoses", "med_type").first(),
            total=(pl.col("price_fen") * pl.col("quantity")).sum(),
        )
    )
    assert stays.height >= 3  # 0.6% of about 1,100 stays
    assert (stays["med_type"] == "21").all()
    length = (stays["discharge_date"] - stays["admit_date"]).dt.total_days()
    assert length.is_between(1, 3).all()
    assert (stays["total"] <= 150_000).all()  # the rule's 1,500 yuan
    assert set(stays["diagnoses"].list.first()) <= {"J06.9", "K29.7"}


def test_identity_dates_and_labels_agree(qingdao_fraud):
    persons, lines = qingdao_fraud
    day = pl.coalesce("item_date", "date")
    for column, label in (
        ("death_date", "deceased_person"),
        ("enrolled_until", "unenrolled_person"),
    ):
        who = persons.filter(pl.col(column).is_not_null()).select("person_id", column)
        assert 5 <= who.height <= 60  # 0.3% of 6,000 persons, those with planted claims skipped
        theirs = lines.join(who, on="person_id")
        after = day > pl.col(column)
        # every line after the date carries the label, no line on or before it does
        assert (theirs.filter(after)["fraud_label"] == label).all()
        assert theirs.filter(~after)["fraud_label"].is_null().all()
        assert set(_labelled(lines, label)["person_id"]) == set(who["person_id"])
    both = persons.filter(
        pl.col("death_date").is_not_null() & pl.col("enrolled_until").is_not_null()
    )
    assert both.height == 0


def test_fraudulent_institutions_cost_more_and_bill_more_b_c():
    options = Options("qingdao", 40_000, 2023, 11, 0.03)
    fraudulent = Generator(options).fraudulent
    assert len(fraudulent) == 1  # 5% of 13 level-1 hospitals, at least one
    _, lines = population("qingdao", 2023, 40_000, 11, 0.03)
    level1 = lines.filter(
        pl.col("hospital_level") == 1, pl.col("institution").str.starts_with("H370200")
    )
    amount = pl.col("price_fen") * pl.col("quantity")
    per = (
        level1.group_by("institution")
        .agg(
            stay_fen=amount.filter(pl.col("med_type") == "21").sum(),
            stays=pl.struct("person_id", "claim_id").filter(pl.col("med_type") == "21").n_unique(),
            bc=amount.filter(pl.col("category").is_in(["B", "C"])).sum() / amount.sum(),
        )
        .with_columns(
            avg=pl.col("stay_fen") / pl.col("stays"), bad=pl.col("institution").is_in(fraudulent)
        )
    )
    bad, good = per.filter("bad"), per.filter(~pl.col("bad"))
    assert bad["avg"].min() > 1.2 * good["avg"].median()
    assert bad["bc"].min() > good["bc"].max()
