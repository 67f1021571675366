"""Golden cases for drug / disease substitution, low-standard admission and identity anomalies:
for each rule one case that must fire and near misses that must not. Thresholds are the G-ALL-6
assumptions of rules.yaml (max 3 days and 1,500 yuan for a low-standard stay, grace 0 days)."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.supervision.cases import claim_file, flags, item, stay, visit
from yibao.engine.inputs import ClaimFile
from yibao.supervision import supervise_tables
from yibao.supervision.engine import claim_files_frames, flag_dicts


# ---------------------------------------------------------------- drug substitution
def test_drug_outside_its_class_diagnoses_fires() -> None:
    # metformin (XA10, antidiabetics → E10–E14, O24) on a cold (J06.9): 2 × 15.00 yuan
    cold = visit("C1", "2023-05-01", [item("S001", "25"), item("XA10BAA001", "15", qty=2)])
    found = flags(claim_file([cold]), rule="drug_substitution")
    assert len(found) == 1
    f = found[0]
    assert f["claim_ids"] == ["C1"] and [x["line_no"] for x in f["lines"]] == [2]
    assert f["amount_at_risk_fen"] == 3000
    assert f["evidence"]["value"] == 1 and f["evidence"]["diagnoses"] == ["J06.9"]
    assert f["evidence"]["drugs"][0].startswith("XA10BAA001 (class XA10")


def test_drug_near_misses_do_not_fire() -> None:
    diabetic = visit("C1", "2023-05-01", [item("XA10BAA001", "15")], diagnoses=["E11.9"])
    # paracetamol: a class no diagnosis is required for
    analgesic = visit("C2", "2023-05-02", [item("XN02BEA001", "6")])
    # a pharmacy bill carries no diagnosis: nothing to compare with
    pharmacy = visit("C3", "2023-05-03", [item("XA10BAA001", "15")], med_type="41", diagnoses=[])
    # statin (XC) for a diabetic: the cardiovascular class includes E10–E14
    statin = visit("C4", "2023-05-04", [item("XC10AAA005", "28")], diagnoses=["E11.9"])
    file = claim_file([diabetic, analgesic, pharmacy, statin])
    assert flags(file, rule="drug_substitution") == []


# ---------------------------------------------------------------- disease substitution
def _chronic(cid: str, disease: str, dx: list[str]) -> dict:
    return visit(cid, "2023-05-01", [item("S001", "25"), item("XC08CAA001", "12.5", qty=4)],
                 med_type="14", disease=disease, diagnoses=dx)  # fmt: skip


def test_special_disease_without_its_diagnosis_fires() -> None:
    # Qingdao's renal_failure_dialysis lists end-stage and dialysis codes; a hypertension
    # visit (I10) settled under it
    found = flags(claim_file([_chronic("C1", "renal_failure_dialysis", ["I10"])]))
    found = [f for f in found if f["rule"] == "disease_substitution"]
    assert len(found) == 1
    # the whole claim is at risk: 25.00 + 4 × 12.50 = 75.00 yuan
    assert found[0]["amount_at_risk_fen"] == 7500
    assert found[0]["evidence"]["disease"] == "renal_failure_dialysis"
    assert found[0]["evidence"]["disease_icd"] == ["N18.0", "N18.5", "N18.6", "Z49", "Z99.2"]


def test_a_tb_claimed_as_multidrug_resistant_is_no_substitution() -> None:
    # ICD-10 has no MDR code: Erenhot's 耐多药结核 is selected by U84 or by name, and a
    # pulmonary TB (A15) claimed as it is borne out by `named_with` (QA: flagged, high)
    mdr = _chronic("C1", "mdr_tuberculosis", ["A15.0"])
    pneumonia = _chronic("C2", "mdr_tuberculosis", ["J18.9"])
    file = {**claim_file([mdr, pneumonia]), "region": "erenhot"}
    found = flags(file, rule="disease_substitution")
    assert [f["claim_ids"] for f in found] == [["C2"]]


def test_special_disease_near_misses_do_not_fire() -> None:
    right = _chronic("C1", "hypertension", ["I10"])  # hypertension lists I10
    cancer = _chronic("C2", "cancer_outpatient", ["Z51.1", "C50.9"])  # C matches C50.9
    unknown = _chronic("C3", "not_in_the_policy", ["I10"])  # cannot be judged
    undiagnosed = _chronic("C5", "renal_failure_dialysis", [])  # nothing to compare with
    general = visit("C4", "2023-05-02", [item("S001", "25")], disease="renal_failure_dialysis")
    file = claim_file([right, cancer, unknown, general, undiagnosed])
    found = flags(file, rule="disease_substitution")
    assert found == []


# ---------------------------------------------------------------- low-standard admission
def _cold_stay(cid: str, admit: str, discharge: str, dx: str = "J06.9", extra=()) -> dict:
    a, d = dt.date.fromisoformat(admit), dt.date.fromisoformat(discharge)
    beds = [item("S003", "40", str(a + dt.timedelta(days=i))) for i in range((d - a).days)]
    items = [*beds, item("XJ01CAA040", "9.5", admit, 10), *extra]
    return stay(cid, admit, discharge, dx=dx, items=items)


def test_short_cheap_stay_for_a_cold_fires() -> None:
    # 2 days: beds 2 × 40.00 + amoxicillin 10 × 9.50 = 175.00 yuan ≤ 1,500, J06 is outpatient
    found = flags(claim_file([_cold_stay("C1", "2023-03-01", "2023-03-03")]))
    found = [f for f in found if f["rule"] == "low_standard_admission"]
    assert len(found) == 1
    assert found[0]["amount_at_risk_fen"] == 17500
    assert found[0]["evidence"]["value"] == 2 and found[0]["evidence"]["threshold"] == 3


def test_low_standard_edges() -> None:
    # exactly 3 days and exactly 1,500.00 yuan still fire (≤): beds 120 + 95 + 1,285 = 1,500
    edge = _cold_stay("C1", "2023-03-01", "2023-03-04", extra=[item("S011", "1285", "2023-03-02")])
    assert len(flags(claim_file([edge]), rule="low_standard_admission")) == 1
    # one fen more is not low-cost any more
    over = _cold_stay(
        "C1", "2023-03-01", "2023-03-04", extra=[item("S011", "1285.01", "2023-03-02")]
    )
    assert flags(claim_file([over]), rule="low_standard_admission") == []


def test_low_standard_near_misses_do_not_fire() -> None:
    stays = [
        _cold_stay("C1", "2023-01-01", "2023-01-05"),  # 4 days
        _cold_stay("C2", "2023-03-01", "2023-03-03", dx="J18.9"),  # pneumonia needs a bed
        _cold_stay("C3", "2023-05-01", "2023-05-03", extra=[item("S007", "620", "2023-05-01")]),
    ]
    assert flags(claim_file(stays), rule="low_standard_admission") == []


# ---------------------------------------------------------------- identity anomalies
def _tables(file: dict, **person) -> list[dict]:
    persons, lines = claim_files_frames([ClaimFile.model_validate(file)])
    persons = persons.with_columns(**{k: pl.lit(v, pl.Date) for k, v in person.items()})
    return flag_dicts(supervise_tables(persons, lines))


def test_care_after_death_fires_for_the_lines_after_it() -> None:
    died = dt.date(2023, 5, 1)
    file = claim_file(
        [
            visit("C1", "2023-05-01", [item("S001", "25")]),  # on the day of death: allowed
            visit("C2", "2023-05-02", [item("S001", "25")]),
            # beds 28 Apr … 2 May: only the bed of 2 May (60.00) is after the death
            stay("C3", "2023-04-28", "2023-05-03", inst="H9"),
        ]
    )
    found = [f for f in _tables(file, death_date=died) if f["rule"] == "deceased_person"]
    assert [f["claim_ids"] for f in found] == [["C2"], ["C3"]]
    assert [f["amount_at_risk_fen"] for f in found] == [2500, 6000]
    assert found[0]["evidence"]["value"] == 1 and found[0]["evidence"]["death_date"] == "2023-05-01"
    # without a death date nothing fires
    assert [f for f in _tables(file) if f["rule"] == "deceased_person"] == []


def test_care_after_enrolment_ended_fires() -> None:
    file = claim_file(
        [
            visit("C1", "2023-06-30", [item("S001", "25")]),  # last enrolled day
            visit("C2", "2023-07-01", [item("S001", "25")]),
        ]
    )
    found = _tables(file, enrolled_until=dt.date(2023, 6, 30))
    found = [f for f in found if f["rule"] == "unenrolled_person"]
    assert [f["claim_ids"] for f in found] == [["C2"]]
    assert json.dumps(found[0]["evidence"]).count("2023-06-30") == 1


def test_parquet_tables_without_the_optional_person_columns(tmp_path) -> None:
    # persons written before death_date / enrolled_until existed still supervise
    from yibao.supervision.engine import supervise_parquet

    file = claim_file([_cold_stay("C1", "2023-03-01", "2023-03-03")])
    persons, lines = claim_files_frames([ClaimFile.model_validate(file)])
    persons.drop("death_date", "enrolled_until").write_parquet(tmp_path / "persons.parquet")
    lines.write_parquet(tmp_path / "lines.parquet")
    out = tmp_path / "flags.parquet"
    count = supervise_parquet(tmp_path / "persons.parquet", tmp_path / "lines.parquet", str(out))
    assert count == 1 and pl.read_parquet(out)["rule"].to_list() == ["low_standard_admission"]


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(-3, 40), prices=st.lists(st.integers(1, 50_000), min_size=1, max_size=8))
def test_after_death_amount_is_exactly_the_lines_after_it(cut, prices) -> None:
    # conservation: whatever the death date, the flags' amount at risk is the sum of the lines
    # dated after it, and every such line is in exactly one flag
    start = dt.date(2023, 3, 1)
    claims = [
        visit(f"C{i}", str(start + dt.timedelta(days=5 * i)), [item("S001", f"{p / 100:.2f}")])
        for i, p in enumerate(prices)
    ]
    died = start + dt.timedelta(days=cut)
    found = [
        f for f in _tables(claim_file(claims), death_date=died) if f["rule"] == "deceased_person"
    ]
    late = [p for i, p in enumerate(prices) if start + dt.timedelta(days=5 * i) > died]
    assert sum(f["amount_at_risk_fen"] for f in found) == sum(late)
    assert sum(len(f["lines"]) for f in found) == len(late)
