"""Planted fraud: per-rule precision and recall ≥ 0.9; tables and claim files give equal flags."""

from __future__ import annotations

import polars as pl
import pytest

from yibao.batch.tables import frames_to_claim_files
from yibao.supervision import supervise_claim_files, supervise_tables
from yibao.supervision.evaluate import PLANTED_RULES, evaluate, render
from yibao.synth.generate import Options, generate


@pytest.fixture(scope="module")
def planted() -> tuple[pl.DataFrame, pl.DataFrame]:
    return generate(Options("qingdao", 20_000, 2023, 7, 0.05))


def test_precision_and_recall_on_planted_fraud(planted) -> None:
    table = evaluate(*planted)
    text = render(table)
    print("\n" + text)
    rows = {r["rule"]: r for r in table.iter_rows(named=True)}
    for rule in PLANTED_RULES:
        r = rows[rule]
        assert r["planted"] >= 20, f"{rule}: too few planted cases\n{text}"
        assert r["precision"] >= 0.9, f"{rule}: precision\n{text}"
        assert r["recall"] >= 0.9, f"{rule}: recall\n{text}"
        assert r["found_fen"] >= 0.9 * r["planted_fen"], f"{rule}: amount found\n{text}"
    # rules that nothing plants stay quiet on clean synthetic data
    for rule in ("overlapping_stays", "over_frequency"):
        assert rows.get(rule, {"flagged": 0})["flagged"] <= 5, text


def test_tables_and_claim_files_give_the_same_flags() -> None:
    persons, lines = generate(Options("erenhot", 1500, 2023, 3, 0.08))
    from_tables = supervise_tables(persons, lines)
    from_files = supervise_claim_files(frames_to_claim_files(persons, lines))
    assert from_tables.height > 30
    assert from_tables.equals(from_files)
