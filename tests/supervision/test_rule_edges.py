"""Edges of the rules a supervision officer found: exact over-limit money with fractional
quantities, the age on the line's date, undated inpatient lines, unknown institutions."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.supervision.cases import claim_file, flags, item, stay, visit
from yibao.engine.inputs import ClaimFile
from yibao.supervision.engine import claim_files_frames, flag_dicts, supervise_parquet_files

# ---------------------------------------------------------------- over_price_limit, exact fen


def _half_beds() -> dict:
    # S002 (三级床位) limit 60.00, S003 (二级床位) limit 40.00, fractional quantities
    return claim_file(
        [
            stay(
                "C1",
                "2023-06-01",
                "2023-06-05",
                items=[
                    item("S002", "60.01", "2023-06-02", qty="0.5"),
                    item("S003", "40.03", "2023-06-03", qty="1.5"),
                    item("S003", "40.05", "2023-06-04", qty="0.5"),
                ],
            )
        ]
    )


# at risk = line amount − half-up(limit × quantity), each half-up as billed:
#   6001 × 0.5 = 3000.5 → 3001;  6000 × 0.5 = 3000        → 1 fen
#   4003 × 1.5 = 6004.5 → 6005;  4000 × 1.5 = 6000        → 5 fen
#   4005 × 0.5 = 2002.5 → 2003;  4000 × 0.5 = 2000        → 3 fen
# (a float rounded half-to-even gave 0, 4, 2)
HALF_BEDS_AT_RISK = {1: 1, 2: 5, 3: 3}


def _at_risk_by_line(found: list[dict]) -> dict[int, int]:
    return {f["lines"][0]["line_no"]: f["amount_at_risk_fen"] for f in found}


def test_over_limit_at_risk_is_exact_half_up_fen() -> None:
    found = flags(_half_beds(), rule="over_price_limit")
    assert _at_risk_by_line(found) == HALF_BEDS_AT_RISK


def test_over_limit_from_a_table_without_amounts(tmp_path: Path) -> None:
    # a table with a float quantity and no amount_fen: the amounts are half-up fen too
    persons, lines = claim_files_frames([ClaimFile.model_validate(_half_beds())])
    persons.write_parquet(tmp_path / "persons.parquet")
    lines.drop("amount_fen", "quantity_text").write_parquet(tmp_path / "lines.parquet")
    found = supervise_parquet_files(tmp_path / "persons.parquet", tmp_path / "lines.parquet")
    found = [f for f in flag_dicts(found.flags) if f["rule"] == "over_price_limit"]
    assert _at_risk_by_line(found) == HALF_BEDS_AT_RISK
    amounts = {f["lines"][0]["line_no"]: f["lines"][0]["amount_fen"] for f in found}
    assert amounts == {1: 3001, 2: 6005, 3: 2003}


def test_an_excess_that_rounds_to_no_fen_is_not_flagged() -> None:
    # 6001 × 0.1 = 600.1 → 600; 6000 × 0.1 = 600: the 0.1 fen over is no money
    s = stay("C1", "2023-06-01", "2023-06-03", items=[item("S002", "60.01", "2023-06-02", "0.1")])
    assert flags(claim_file([s]), rule="over_price_limit") == []


# ---------------------------------------------------------------- sex_age_mismatch, age's day


def _girls_stay(**line_date: str) -> dict:
    # born 10 March 2008: 14 until 9 March 2023, 15 from 10 March; ZB02BBA0002 is for ≤ 14
    line = item("ZB02BBA0002", "10", line_date.get("day"))
    s = stay("C1", "2023-03-05", "2023-03-15", items=[line]) | {"date": "2023-03-05"}
    return claim_file([s], born="2008-03-10")


def test_age_is_taken_on_the_line_date() -> None:
    (f,) = flags(_girls_stay(day="2023-03-12"), rule="sex_age_mismatch")
    assert f["evidence"]["age"] == 15 and f["amount_at_risk_fen"] == 1000


def test_age_of_an_undated_inpatient_line_is_taken_on_discharge() -> None:
    # claim date 5 March (14), discharge 15 March (15): the discharge counts
    (f,) = flags(_girls_stay(), rule="sex_age_mismatch")
    assert f["evidence"]["age"] == 15


def test_age_of_an_outpatient_line_is_taken_on_the_claim_date() -> None:
    v = visit("C1", "2023-03-09", [item("ZB02BBA0002", "10")])  # the day before she is 15
    assert flags(claim_file([v], born="2008-03-10"), rule="sex_age_mismatch") == []


# ---------------------------------------------------------------- duplicate_charge, undated stay


def test_undated_orders_of_a_stay_are_not_duplicates() -> None:
    # S008 × 5 and S008 × 6 over a 10-day stay, no line dates: two orders, not a copy on
    # the discharge day (once flagged at 90.00)
    lines = [item("S008", "15", qty=5), item("S008", "15", qty=6)]
    s = stay("C1", "2023-03-01", "2023-03-11", items=lines)
    assert flags(claim_file([s]), rule="duplicate_charge") == []


def test_dated_copies_in_a_stay_and_undated_ones_in_a_visit_still_are() -> None:
    dated = [item("S008", "15", "2023-03-04"), item("S008", "15", "2023-03-04")]
    s = stay("C1", "2023-03-01", "2023-03-11", items=dated)
    v = visit("C2", "2023-05-01", [item("S008", "15"), item("S008", "15")])
    found = flags(claim_file([s, v]), rule="duplicate_charge")
    assert [(f["claim_ids"], f["amount_at_risk_fen"]) for f in found] == [
        (["C1"], 1500),
        (["C2"], 1500),
    ]


# ---------------------------------------------------------------- unknown institutions


def test_two_stays_at_unknown_institutions_are_not_a_split() -> None:
    first = stay("C1", "2023-03-01", "2023-03-10", inst=None)
    second = stay("C2", "2023-03-20", "2023-03-25", inst=None)
    assert flags(claim_file([first, second]), rule="split_hospitalization") == []
    # one known and one unknown neither
    first = stay("C1", "2023-03-01", "2023-03-10")
    assert flags(claim_file([first, second]), rule="split_hospitalization") == []
    # a blank institution, as exports write a missing one, is unknown too (QA: paired as "")
    spans = (("C1", "2023-03-01", "2023-03-10"), ("C2", "2023-03-20", "2023-03-25"))
    blank = [stay(c, a, d, inst=" ") for c, a, d in spans]
    assert flags(claim_file(blank), rule="split_hospitalization") == []


def test_stays_of_an_unknown_institution_are_not_scored() -> None:
    from yibao.supervision.engine import prepare
    from yibao.supervision.institutions import indicators
    from yibao.supervision.params import rules_for

    file = claim_file([stay("C1", "2023-03-01", "2023-03-10", inst=None)])
    prepared = prepare(*claim_files_frames([ClaimFile.model_validate(file)]))
    table = indicators(prepared, rules_for("qingdao")["institution_outlier"])
    assert table.filter(pl.col("institution").is_null()).height == 0
