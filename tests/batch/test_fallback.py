"""What the columnar rules cannot hold exactly goes to the per-claim engine — a scheme
(from the policy) or a single person (from the data) — and bad input is refused as the
per-claim engine refuses it. The result stays equal to the per-claim engine."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.batch.equality import assert_same, frames
from tests.batch.population import population
from tests.helpers import claim, item, person
from yibao.batch.context import Fallbacks
from yibao.batch.fallback import table_path
from yibao.batch.settle import Settler
from yibao.money import MAX_CLAIM_FEN

SEVEN_DECIMALS = """
region: tongliao
name: a ratio the columnar engine cannot scale
changes:
  schemes:
    resident:
      medical_assistance:
        programs:
          - id: tekun
            ratio: 0.9999999
"""

DEDUCTIBLE_BY_LEVEL = """
region: erenhot
name: general-outpatient deductible by level
changes:
  schemes:
    employee:
      pooling:
        benefits:
          - id: general_outpatient
            deductible:
              amount:
                by_level: {1: 800, 2: 1000, 3: 1200}
"""


def _overlay(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(text, "utf-8")
    return path


def test_a_scheme_with_an_unscalable_ratio_runs_through_the_engine(tmp_path):
    overlay = _overlay(tmp_path, SEVEN_DECIMALS)
    persons, lines = population(["tongliao"], 30, seed=3)
    result = assert_same(persons, lines, (overlay,))
    assert result.columnar_claims == 0 and result.fallback_claims == result.rows.height
    (reason,) = result.fallback_persons
    assert reason.startswith("scheme not vectorized") and "six decimals" in reason


def test_a_deductible_changing_within_a_year_sends_only_that_person(tmp_path):
    overlay = _overlay(tmp_path, DEDUCTIBLE_BY_LEVEL)
    who = person("employee", employment="in_service", birth_date="1970-01-01")
    mixed = [
        claim("C1", "2023-02-01", "11", 1, items=[item("500")]),
        claim("C2", "2023-03-01", "11", 3, items=[item("900")]),
    ]
    steady = [
        claim("C1", "2023-02-01", "11", 3, items=[item("500")]),
        claim("C2", "2023-03-01", "11", 3, items=[item("900")]),
    ]
    files = [
        {"region": "erenhot", "person": {**who, "id": "MIXED"}, "claims": mixed},
        {"region": "erenhot", "person": {**who, "id": "STEADY"}, "claims": steady},
    ]
    result = assert_same(*frames(files), (overlay,))
    assert result.fallback_persons == {"an annual deductible that changes within the year": 1}
    assert result.columnar_persons == 1 and result.fallback_claims == 2


def test_refused_input_is_reported_per_person_and_the_rest_settles():
    good = {
        "region": "erenhot",
        "person": person("employee", employment="in_service"),
        "claims": [],
    }
    days = {"OK": "2023-05-01", "EARLY": "2022-09-01", "NEG": "2023-05-01"}
    days |= {"STAY": "2023-05-01", "AWAY": "2023-05-01", "NOJOB": "2023-05-01"}
    files = [
        {
            **good,
            "person": {**good["person"], "id": pid},
            "claims": [claim("C1", day, "11", items=[item("100")])],
        }
        for pid, day in days.items()
    ]
    persons, lines = frames(files)
    persons = persons.with_columns(
        pl.when(pl.col("person_id") == "AWAY")
        .then(pl.lit("atlantis"))
        .otherwise("region")
        .alias("region"),
        # an employee must name the employment the claim file requires
        pl.when(pl.col("person_id") == "NOJOB")
        .then(None)
        .otherwise("employment")
        .alias("employment"),
    )
    lines = lines.with_columns(
        pl.when(pl.col("person_id") == "NEG").then(-5).otherwise("price_fen").alias("price_fen"),
        pl.when(pl.col("person_id") == "STAY")
        .then(pl.date(2023, 5, 3))
        .otherwise("admit_date")
        .alias("admit_date"),
        pl.when(pl.col("person_id") == "STAY")
        .then(pl.date(2023, 5, 2))
        .otherwise("discharge_date")
        .alias("discharge_date"),
    )
    result = assert_same(persons, lines)
    errors = dict(result.errors)
    assert set(errors) == {"EARLY", "NEG", "STAY", "AWAY", "NOJOB"}
    assert errors["NOJOB"].startswith("person.employment: required for an employee")
    assert "no policy in force" in errors["EARLY"]
    assert errors["NEG"] == "claim C1 line_no 1: price: must be >= 0"  # in the tables' terms
    assert "unknown region" in errors["AWAY"]
    assert result.rows.get_column("person_id").to_list() == ["OK"]


def test_an_item_ratio_with_seven_decimals_sends_its_person():
    who = person(birth_date="1980-01-01")
    odd = [claim("C1", "2021-03-01", items=[item("5000", "B", selfpay_ratio="0.1234567")])]
    plain = [claim("C1", "2021-03-01", items=[item("5000", "B", selfpay_ratio="0.15")])]
    files = [
        {"region": "tongliao", "person": {**who, "id": "ODD"}, "claims": odd},
        {"region": "tongliao", "person": {**who, "id": "PLAIN"}, "claims": plain},
    ]
    result = assert_same(*frames(files))
    (reason,) = result.fallback_persons
    assert "self-pay ratio" in reason and result.fallback_persons[reason] == 1
    assert result.columnar_persons == 1


def test_amounts_above_the_largest_claim_are_refused_not_overflowed():
    # 64-bit columns would wrap silently on products of such amounts; the per-claim engine
    # refuses them by name (MAX_CLAIM_FEN: 1,000,000,000.00 yuan), and the batch the same
    who = person("employee", employment="in_service")
    two_lines = [item("100"), item("100", code="T2")]
    files = [
        {
            "region": "erenhot",
            "person": {**who, "id": pid},
            "claims": [claim("C1", "2023-05-01", "11", items=two_lines)],
        }
        for pid in ("OK", "PRICE", "MANY", "TOTAL")
    ]
    persons, lines = frames(files)
    big = MAX_CLAIM_FEN // 2 + 1  # two such lines are just over the bound together
    pid, first = pl.col("person_id"), pl.col("line_no") == pl.col("line_no").min().over("person_id")
    lines = lines.with_columns(
        pl.when(pid == "PRICE")
        .then(MAX_CLAIM_FEN + 1)
        .when(pid == "MANY")
        .then(1000)
        .when(pid == "TOTAL")
        .then(big)
        .otherwise("price_fen")
        .alias("price_fen"),
        pl.when((pid == "MANY") & first)
        .then(MAX_CLAIM_FEN // 1000 + 1)
        .otherwise("quantity")
        .cast(pl.Int32)
        .alias("quantity"),
    )
    result = assert_same(persons, lines)
    errors = dict(result.errors)
    assert set(errors) == {"PRICE", "MANY", "TOTAL"}
    assert errors["PRICE"].startswith("claim C1 line_no 1: price: ")
    assert "above 1,000,000,000.00 yuan" in errors["MANY"]
    assert "above 1,000,000,000.00 yuan" in errors["TOTAL"]
    assert result.rows.get_column("person_id").to_list() == ["OK"]


def test_a_person_listed_twice_is_refused_and_everyone_else_is_unchanged():
    # the doubled persons row once misaligned every later claim of the partition with its
    # lines (QA: 670 of 671 other claims wrong); now only the twice-listed person is left out
    persons, lines = population(["tongliao"], 40, seed=3)
    lines = lines.sort("person_id", "claim_id", "line_no")  # as synth writes: numbered runs
    clean = Settler(["tongliao"]).settle(persons, lines).rows
    twice = persons.get_column("person_id")[5]
    doubled = pl.concat([persons, persons.filter(pl.col("person_id") == twice)])
    result = assert_same(doubled, lines)
    assert dict(result.errors) == {twice: "person_id: listed more than once in persons"}
    assert result.rows.equals(clean.filter(pl.col("person_id") != twice))


def test_a_refusal_names_the_claim_and_line_no_of_the_tables():
    # claims and items of the claim file built from tables are in (claim_id, line_no) order
    lines = pl.DataFrame({"claim_id": ["C9", "C2", "C9", "C9"], "line_no": [7, 1, 3, 5]})
    assert table_path("claims[1].items[2].price: must be >= 0", lines) == (
        "claim C9 line_no 7: price: must be >= 0"
    )
    assert table_path("claims[0]: discharge_date is before admit_date", lines) == (
        "claim C2: discharge_date is before admit_date"
    )
    assert table_path("person.sex: Input should be 'M' or 'F'", lines).startswith("person.sex")


def test_a_person_sent_for_two_reasons_is_counted_once_under_the_first():
    fallbacks = Fallbacks()
    fallbacks.add_ids("refused", pl.Series("pid", ["A"]))
    fallbacks.add_ids("no version", pl.Series("pid", ["A", "B"]))
    assert fallbacks.counts() == {"refused": 1, "no version": 1}
