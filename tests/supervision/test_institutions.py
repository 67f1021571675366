"""The institution outlier score: a golden peer group computed by hand, and a near miss."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.supervision import supervise_institutions
from yibao.supervision.engine import flag_dicts, prepare
from yibao.supervision.institutions import indicators, scores
from yibao.supervision.params import rules_for

RULE = rules_for("qingdao")["institution_outlier"]


def _population(costs_yuan: list[int], codes: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Institution i: 30 one-line stays of `costs_yuan[i]` yuan each, billing `codes[i]`, each
    stay a different person (no re-admissions), all level-1 hospitals of one area (H370200)."""
    persons, lines = [], []
    for i, (cost, code) in enumerate(zip(costs_yuan, codes, strict=True)):
        for j in range(30):
            pid = f"P{i}{j:02d}"
            persons.append({"person_id": pid, "region": "qingdao", "sex": "F",
                            "birth_date": dt.date(1960, 1, 1)})  # fmt: skip
            admit = dt.date(2023, 3, 1)
            lines.append({
                "person_id": pid, "claim_id": "C1", "date": admit + dt.timedelta(days=5),
                "med_type": "21", "hospital_level": 1, "admit_date": admit,
                "discharge_date": admit + dt.timedelta(days=5), "diagnoses": ["J18.9"],
                "institution": f"H37020010{i:03d}", "line_no": 1, "code": code, "name": code,
                "price_fen": cost * 100, "quantity": 1, "price_limit_fen": None,
                "item_date": admit,
            })  # fmt: skip
    return pl.DataFrame(persons), pl.DataFrame(lines).with_columns(
        pl.col("hospital_level").cast(pl.Int8), pl.col("line_no").cast(pl.Int32)
    )


def test_indicators_and_robust_z_by_hand() -> None:
    # average costs 1,000 … 1,400 and 3,000 yuan; the last bills CT (S006, class B), the others
    # a blood test (S011, class A).
    # cost: median (1,200 + 1,300) / 2 = 1,250; |deviations| 250 150 50 50 150 1,750 → MAD 150;
    #   spread 1.4826 × 150 = 222.39 (> floor 5% × 1,250 = 62.5); z = 1,750 / 222.39 = 7.869
    # B/C share: 0 0 0 0 0 1 → median 0, MAD 0 → floor 0.01; z = 1 / 0.01 = 100
    # readmissions: none → z 0.   score = 7.869 + 100 + 0 = 107.87 ≥ 6
    persons, lines = _population([1000, 1100, 1200, 1300, 1400, 3000], ["S011"] * 5 + ["S006"])
    table = indicators(prepare(persons, lines), RULE)
    assert table["admissions"].to_list() == [30] * 6
    assert table["avg_cost_fen"].to_list() == [100000, 110000, 120000, 130000, 140000, 300000]
    scored = scores(table, RULE)
    top = scored.row(0, named=True)
    assert top["institution"] == "H37020010005" and top["peers"] == 6
    assert top["peer_avg_cost_fen"] == 125000
    assert top["z_avg_cost_fen"] == pytest.approx(1750 / (1.4826 * 150))
    assert top["z_bc_share"] == pytest.approx(100)
    assert top["score"] == pytest.approx(1750 / (1.4826 * 150) + 100)

    found = flag_dicts(supervise_institutions(persons, lines))
    assert len(found) == 1 and found[0]["rule"] == "institution_outlier"
    f = found[0]
    assert f["person_id"] is None and f["claim_ids"] == [] and f["lines"] == []
    assert f["institution"] == "H37020010005"
    assert f["evidence"]["peer_medians"]["avg_cost_per_admission_fen"] == 125000
    assert f["evidence"]["indicators"]["bc_share"] == 1.0
    # at risk: (3,000 − 1,250) yuan × 30 stays = 52,500 yuan
    assert f["amount_at_risk_fen"] == 5_250_000


def test_near_miss_and_too_few_peers() -> None:
    # 2,000 yuan, class A: z = 750 / 222.39 = 3.37 < 6, no flag
    persons, lines = _population([1000, 1100, 1200, 1300, 1400, 2000], ["S011"] * 6)
    assert supervise_institutions(persons, lines).height == 0
    # four peers (< min_peers 5): not scored at all, however far off
    persons, lines = _population([1000, 1100, 1200, 9000], ["S011"] * 3 + ["S006"])
    assert supervise_institutions(persons, lines).height == 0
    assert scores(indicators(prepare(persons, lines), RULE), RULE).height == 0


def _table(costs: list[int], readmit: list[int], bc: list[int]) -> pl.DataFrame:
    """An `indicators` table by hand: 40 stays each, costs in fen, B/C per mille."""
    n = len(costs)
    return pl.DataFrame(
        {
            "institution": [f"H37020010{i:03d}" for i in range(n)],
            "level": [1] * n,
            "admissions": [40] * n,
            "stay_fen": [c * 40 for c in costs],
            "avg_cost_fen": costs,
            "readmission_rate": [r / 40 for r in readmit],
            "bc_share": [b / 1000 for b in bc],
        }
    )


@settings(max_examples=40, deadline=None)
@given(
    costs=st.lists(st.integers(10_000, 2_000_000), min_size=5, max_size=12),
    factor=st.integers(2, 50),
    data=st.data(),
)
def test_scores_do_not_depend_on_the_currency_unit(costs, factor, data) -> None:
    # the cost z is (x − median) / max(1.4826 MAD, 5% median): scaling every cost by the same
    # factor scales numerator and denominator alike, so z, the score and the order stay put
    n = len(costs)
    readmit = data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    bc = data.draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    base = scores(_table(costs, readmit, bc), RULE)
    scaled = scores(_table([c * factor for c in costs], readmit, bc), RULE)
    assert base["institution"].to_list() == scaled["institution"].to_list()
    for a, b in zip(base["score"], scaled["score"], strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
    # and the score is never negative: only "above the peers" counts
    assert (base["score"] >= 0).all()
