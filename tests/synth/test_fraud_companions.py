"""The patterns planted with companion claims: two places on one day (the card used at two
more clinics on the day of a visit) and overlapping stays (a second stay inside a real one).
Each label marks what it says, and the older patterns stay on the claims they were on."""

from __future__ import annotations

import polars as pl

from tests.synth.conftest import population


def _claims(lines: pl.DataFrame, label: str) -> pl.DataFrame:
    return (
        lines.filter(pl.col("fraud_label") == label)
        .group_by("person_id", "claim_id")
        .agg(pl.col("date", "med_type", "institution", "admit_date", "discharge_date").first())
    )


def _all_lines_labelled(lines: pl.DataFrame, label: str) -> bool:
    claims = lines.filter(pl.col("fraud_label") == label).select("person_id", "claim_id")
    whole = lines.join(claims.unique(), on=["person_id", "claim_id"])
    return bool((whole["fraud_label"] == label).all())


def test_two_places_are_three_local_clinic_visits_on_one_day(qingdao_fraud):
    _, lines = qingdao_fraud
    claims = _claims(lines, "two_places_one_day")
    days = claims.group_by("person_id", "date").agg(
        n=pl.len(),
        places=pl.col("institution").n_unique(),
        types=pl.col("med_type").unique(),
        clinics=pl.col("institution").str.starts_with("H370200").sum(),
    )
    assert days.height >= 20
    # the visit and its two companions: three general visits at three institutions, and at
    # least the two companions at local (行政区划 370200) clinics
    assert (days["n"] == 3).all() and (days["places"] == 3).all()
    assert days["types"].to_list() == [["11"]] * days.height
    assert (days["clinics"] >= 2).all()
    assert _all_lines_labelled(lines, "two_places_one_day")


def test_overlapping_stay_lies_inside_a_real_stay_elsewhere(qingdao_fraud):
    _, lines = qingdao_fraud
    stays = _claims(lines, "overlapping_stays").sort("person_id", "admit_date", "discharge_date")
    pairs = stays.group_by("person_id", maintain_order=True).agg(
        pl.col("admit_date", "discharge_date", "institution", "med_type")
    )
    assert pairs.height >= 3
    for row in pairs.iter_rows(named=True):
        assert row["med_type"] == ["21", "21"]
        first_in, second_in = row["admit_date"]
        first_out, second_out = row["discharge_date"]
        # one stay inside the other (the companion is sorted second unless it starts the
        # same day and ends earlier) and at another hospital; at least one night in both
        outer, inner = (0, 1) if second_out <= first_out else (1, 0)
        assert row["admit_date"][outer] <= row["admit_date"][inner]
        assert row["discharge_date"][inner] <= row["discharge_date"][outer]
        assert (row["discharge_date"][inner] - row["admit_date"][inner]).days >= 1
        assert second_in >= first_in and row["institution"][0] != row["institution"][1]
    assert _all_lines_labelled(lines, "overlapping_stays")


def test_no_visit_inside_a_companion_stay(qingdao_fraud):
    _, lines = qingdao_fraud
    companions = _claims(lines, "overlapping_stays")
    visits = (
        lines.filter(~pl.col("med_type").is_in(["21"]))
        .group_by("person_id", "claim_id")
        .agg(pl.col("date").first())
    )
    inside = visits.join(companions, on="person_id").filter(
        pl.col("date").is_between(pl.col("admit_date"), pl.col("discharge_date"))
    )
    assert inside.height == 0  # the bed-hanging rule would (rightly) see such a visit


def test_no_companions_without_a_fraud_rate():
    _, lines = population("qingdao", 2023, 1500, 17)
    assert lines["fraud_label"].null_count() == lines.height
