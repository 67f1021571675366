"""`synth_command` as the CLI runs it: files written, or one line on stderr and exit code 2."""

from __future__ import annotations

import polars as pl
import typer
from typer.testing import CliRunner

from yibao.cli.synth_cmd import synth_command

app = typer.Typer()
app.command("synth")(synth_command)
app.command("other")(lambda: None)  # two commands: `synth` stays a sub-command as in yibao


def _run(*args: str):
    return CliRunner().invoke(app, ["synth", *args])


def test_writes_parquet_tables(tmp_path):
    out = tmp_path / "city"
    result = _run("fuxin", "--persons", "50", "--year", "2020", "--seed", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["claim_lines.parquet", "persons.parquet"]
    assert pl.read_parquet(out / "persons.parquet").height == 50
    assert "wrote 50 persons" in result.stderr


def test_writes_jsonl_with_labels(tmp_path):
    args = ["qingdao", "--persons", "200", "--year", "2023", "--seed", "1", "--out", str(tmp_path)]
    result = _run(*args, "--format", "jsonl", "--fraud-rate", "0.05", "--chunk-size", "64")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.jsonl", "fraud_labels.csv"]


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    out = tmp_path / "never"
    result = _run("erenhot", "--persons", "5", "--year", "2021", "--seed", "1", "--out", str(out))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: year: erenhot has no policy in force in 2021")
    assert not out.exists()
