"""`yibao batch`: partitions, Parquet output, --verify, overlays and the command's exits."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import typer

from tests.batch.population import claim_files, population
from yibao.batch.output import RESULT_SCHEMA
from yibao.batch.run import Tables, run_batch, verify_sample
from yibao.batch.settle import Settler
from yibao.cli.batch_cmd import run_batch_cmd

REFORM = """
region: tongliao
name: deductible 800 at city level
changes:
  schemes:
    resident:
      pooling:
        benefits:
          - id: inpatient
            deductible:
              amount:
                by_level: {3: 800}
"""


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    persons, lines = population(["tongliao", "qingdao", "liaoyang"], 60, seed=5)
    persons.write_parquet(folder / "persons.parquet")
    lines.write_parquet(folder / "claim_lines.parquet")
    return folder


def test_partitions_write_one_row_per_claim_and_verify(tables, tmp_path):
    out = tmp_path / "out.parquet"
    summary = run_batch(tables, out, verify=40, partitions=3, progress=None)
    result = pl.read_parquet(out)
    assert result.schema == pl.Schema(RESULT_SCHEMA)
    lines = pl.read_parquet(tables / "claim_lines.parquet")
    assert result.height == lines.select("person_id", "claim_id").n_unique() == summary.claims
    assert summary.verified == 40 and summary.differences == []
    assert summary.columnar_claims == summary.claims
    single = tmp_path / "single.parquet"
    run_batch(tables, single, partitions=1, progress=None)
    key = ["person_id", "setl_date", "claim_id"]
    assert pl.read_parquet(single).sort(key).equals(result.sort(key))


def test_verify_finds_a_single_fen(tables, tmp_path):
    out = tmp_path / "out.parquet"
    run_batch(tables, out, progress=None)
    result = pl.read_parquet(out)
    first = result.row(0, named=True)
    tampered = result.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.col("hifp_pay_fen") + 1)
        .otherwise(pl.col("hifp_pay_fen"))
        .alias("hifp_pay_fen")
    )
    tampered.write_parquet(out)
    persons = pl.read_parquet(tables / "persons.parquet").height
    verified, differences = verify_sample(Tables(tables), out, persons, 0, ())
    assert verified == persons
    assert [(d.person_id, d.claim_id, d.field) for d in differences] == [
        (first["person_id"], first["claim_id"], "hifp_pay_fen")
    ]
    assert differences[0].batch == differences[0].engine + 1


def test_the_command_exits_1_on_a_difference(tables, tmp_path, monkeypatch, capsys):
    settle = Settler.settle

    def off_by_one_fen(self, persons, lines):
        result = settle(self, persons, lines)
        result.rows = result.rows.with_columns(pl.col("balc_fen") + 1)
        return result

    monkeypatch.setattr(Settler, "settle", off_by_one_fen)
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(str(tables), str(tmp_path / "out.parquet"), verify=3)
    assert exit_info.value.exit_code == 1
    assert "balc_fen: batch" in capsys.readouterr().err


def test_the_command_reports_the_plan(tables, tmp_path, capsys):
    run_batch_cmd(str(tables), str(tmp_path / "out.parquet"), verify=5, explain_plan=True)
    err = capsys.readouterr().err
    assert "tongliao/2017-01-01 resident: columnar — buckets, basic_pooling" in err
    assert "equal to the fen" in err and "claims/s" in err


def test_overlay_settles_like_settle_with_the_overlay(tables, tmp_path):
    overlay = tmp_path / "reform.yaml"
    overlay.write_text(REFORM, "utf-8")
    base, reformed = tmp_path / "base.parquet", tmp_path / "reformed.parquet"
    run_batch(tables, base, progress=None)
    summary = run_batch(tables, reformed, (overlay,), verify=60, progress=None)
    assert summary.differences == []
    changed = (
        pl.read_parquet(base)["act_pay_dedc_fen"] != pl.read_parquet(reformed)["act_pay_dedc_fen"]
    )
    assert changed.any()


def test_claims_jsonl_directory(tmp_path):
    folder = tmp_path / "jsonl"
    folder.mkdir()
    files = claim_files("fuxin", 10, seed=2)
    text = "\n".join(json.dumps(f.model_dump(mode="json", exclude_none=True)) for f in files)
    (folder / "claims.jsonl").write_text(text, "utf-8")
    summary = run_batch(folder, tmp_path / "out.parquet", verify=10, progress=None)
    assert summary.differences == [] and summary.claims == sum(len(f.claims) for f in files)


def test_bad_engine_and_missing_tables_exit_2(tmp_path, capsys):
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(str(tmp_path), str(tmp_path / "o.parquet"), engine="spark")
    assert exit_info.value.exit_code == 2
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(str(tmp_path), str(tmp_path / "o.parquet"))
    assert exit_info.value.exit_code == 2
    assert "needs persons.parquet" in capsys.readouterr().err


def test_a_bad_overlay_exits_2(tables, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(REFORM.replace("by_level: {3: 800}", "by_level: {3: -1}"), "utf-8")
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(str(tables), str(tmp_path / "o.parquet"), overlays=(bad,))
    assert exit_info.value.exit_code == 2
    assert "must be >= 0" in capsys.readouterr().err
