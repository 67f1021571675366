"""Planted fraud: per-rule precision and recall ≥ 0.9; tables and claim files give equal flags."""

from __future__ import annotations

import polars as pl
import pytest

from yibao.batch.tables import frames_to_claim_files
from yibao.supervision import supervise_claim_files, supervise_institutions, supervise_tables
from yibao.supervision.evaluate import (
    PLANTED_RULES,
    evaluate,
    institution_ranking,
    render,
    render_ranking,
)
from yibao.synth.generate import Generator, Options, generate

OPTIONS = Options("qingdao", 20_000, 2023, 7, 0.05)
# identity rules read persons.death_date / enrolled_until, which claim files do not carry
TABLE_ONLY = ("deceased_person", "unenrolled_person")


@pytest.fixture(scope="module")
def planted() -> tuple[pl.DataFrame, pl.DataFrame]:
    return generate(OPTIONS)


def test_precision_and_recall_on_planted_fraud(planted) -> None:
    table = evaluate(*planted)
    text = render(table)
    print("\n" + text)
    rows = {r["rule"]: r for r in table.iter_rows(named=True)}
    # over_frequency is planted too (`fraud.plant_over_frequency`), whether or not
    # evaluate.PLANTED_RULES lists it yet
    for rule in sorted({*PLANTED_RULES, "over_frequency"}):
        r = rows[rule]
        assert r["planted"] >= 20, f"{rule}: too few planted cases\n{text}"
        assert r["precision"] >= 0.9, f"{rule}: precision\n{text}"
        assert r["recall"] >= 0.9, f"{rule}: recall\n{text}"
        assert r["found_fen"] >= 0.9 * r["planted_fen"], f"{rule}: amount found\n{text}"
    # every rule the engine flagged on this data is a planted one: no rule fires on clean data
    assert set(table.filter(pl.col("flagged") > 0)["rule"]) <= {*PLANTED_RULES, "over_frequency"}


def test_planted_institutions_rank_in_the_top_decile(planted) -> None:
    fraudulent = Generator(OPTIONS).fraudulent
    ranking = institution_ranking(*planted, fraudulent)
    print("\n" + render_ranking(ranking, fraudulent))
    assert len(fraudulent) >= 1
    hits = ranking.filter("planted")
    assert hits.height == len(fraudulent)  # every planted institution is scored …
    assert hits["top_decile"].all()  # … and in the top decile of the score
    flagged = supervise_institutions(*planted)
    assert set(flagged["rule"]) == {"institution_outlier"}
    assert set(fraudulent) <= set(flagged["institution"])
    # the person-level table has no institution flags (the cases workflow needs a person)
    assert "institution_outlier" not in supervise_tables(*planted)["rule"].to_list()


def test_tables_and_claim_files_give_the_same_flags() -> None:
    persons, lines = generate(Options("erenhot", 1500, 2023, 3, 0.08))
    from_tables = supervise_tables(persons, lines)
    from_files = supervise_claim_files(frames_to_claim_files(persons, lines))
    assert from_tables.height > 30
    assert from_tables.filter(pl.col("rule").is_in(TABLE_ONLY)).height > 0
    assert from_tables.filter(~pl.col("rule").is_in(TABLE_ONLY)).equals(from_files)


# the newest planted patterns, checked in every region
COMPANION_RULES = ("two_places_one_day", "overlapping_stays", "over_frequency")


@pytest.mark.parametrize("region", ["tongliao", "qingdao", "fuxin", "erenhot", "liaoyang"])
def test_newest_patterns_in_every_region(region) -> None:
    persons, lines = generate(Options(region, 8_000, 2023, 7, 0.05))
    table = evaluate(persons, lines)
    text = render(table)
    rows = {r["rule"]: r for r in table.iter_rows(named=True)}
    for rule in COMPANION_RULES:
        assert rows[rule]["planted"] >= 10, f"{region} {rule}: too few planted\n{text}"
        assert rows[rule]["precision"] >= 0.9, f"{region} {rule}: precision\n{text}"
        assert rows[rule]["recall"] >= 0.9, f"{region} {rule}: recall\n{text}"


def test_two_places_overlaps_and_frequency_are_quiet_on_clean_data() -> None:
    # no fraud planted: before the 双通道 / referral exclusions Qingdao's clean data raised
    # about one two-places flag per 2,500 persons; now a handful at most remain (three clinics
    # on one day, which the synthetic visits' independent dates sometimes produce)
    persons, lines = generate(Options("tongliao", 20_000, 2023, 7, 0.0))
    flags = supervise_tables(persons, lines)
    assert flags.filter(pl.col("rule") == "two_places_one_day").height <= 4
    assert flags.filter(pl.col("rule") == "overlapping_stays").height == 0
    # nobody visits more than 12 times in a month unless planted (0 flags in all five regions
    # at 20,000 persons, rate 0.05, before over_frequency was planted)
    assert flags.filter(pl.col("rule") == "over_frequency").height == 0
