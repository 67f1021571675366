"""Every generated claim file validates and settles in every packaged region."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.synth.conftest import REGION_YEARS, population
from yibao.batch.tables import frames_to_claim_files
from yibao.policy.loader import load_region
from yibao.settling import settle_file


@pytest.mark.parametrize(("region", "year"), REGION_YEARS)
def test_every_claim_file_settles(region, year):
    persons, lines = population(region, year, 400, 21, 0.05)
    files = frames_to_claim_files(persons, lines)
    assert len(files) == lines["person_id"].n_unique() > 0
    labels = {
        (r["person_id"], r["claim_id"], r["line_no"]): r["fraud_label"]
        for r in lines.filter(pl.col("fraud_label").is_not_null()).iter_rows(named=True)
    }
    settled = 0
    for claim_file in files:
        settlements, _ = settle_file(claim_file)
        assert len(settlements) == len(claim_file.claims)
        for s in settlements:
            info = s.setlinfo
            assert info.medfee_sumamt == sum(line.amount for line in s.lines)
            assert info.medfee_sumamt == info.fund_pay_sumamt + info.psn_part_amt
            for n, line in enumerate(s.lines, 1):
                # a catalogue restriction (限定支付范围) is broken only by planted fraud
                key = (claim_file.person.id, s.claim_id, n)
                if line.note.startswith("限定"):
                    assert labels.get(key) == "sex_age_mismatch", (key, line)
        settled += len(settlements)
    assert settled == lines.select(pl.struct("person_id", "claim_id").n_unique()).item()


@pytest.mark.parametrize(("region", "year"), REGION_YEARS)
def test_dates_inside_the_year_and_the_policy(region, year):
    persons, lines = population(region, year, 400, 21, 0.05)
    policy = load_region(region)
    first = max(dt.date(year, 1, 1), policy.versions[0].valid_from)
    last = dt.date(year, 12, 31)
    for column in ("date", "admit_date", "discharge_date", "item_date"):
        days = lines[column].drop_nulls()
        assert days.min() >= first and days.max() <= last, column
    stays = lines.filter(pl.col("med_type") == "21")
    assert stays["admit_date"].null_count() == 0
    assert (stays["date"] == stays["discharge_date"]).all()
    assert (stays["admit_date"] <= stays["discharge_date"]).all()
    others = lines.filter(pl.col("med_type") != "21")
    assert others["admit_date"].null_count() == others.height
    assert (lines["quantity"] >= 1).all() and (lines["price_fen"] > 0).all()
    assert persons["birth_date"].max() <= dt.date(year, 1, 1)


def test_chronic_claims_carry_a_disease_the_region_lists():
    """Med_type 14 claims match a listed disease (they settle under a chronic benefit)."""
    for region, year in REGION_YEARS:
        _, lines = population(region, year, 400, 21, 0.05)
        chronic = lines.filter(pl.col("med_type") == "14")
        if region == "fuxin":  # no chronic-outpatient benefit: chronic visits are general
            assert chronic.height == 0
            continue
        assert chronic.height > 0
        assert chronic["disease"].null_count() == 0
        version = load_region(region).version_on(dt.date(year, 12, 31))
        listed = {
            d.code
            for scheme in version.schemes.values()
            for b in scheme.pooling.benefits
            if b.match and b.match.diseases
            for d in b.match.diseases.items
        }
        assert set(chronic["disease"].unique()) <= listed
