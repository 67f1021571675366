"""`synth_command` as the CLI runs it: files written, or one line on stderr and exit code 2."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

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


def test_sigterm_removes_the_temporary_folder(tmp_path):
    out = tmp_path / "pop"
    args = ["qingdao", "--persons", "5000", "--year", "2023", "--seed", "1"]
    command = [sys.executable, "-m", "yibao.cli.main", "synth", *args, "--chunk-size", "50"]
    process = subprocess.Popen([*command, "--out", str(out)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(p.is_file() and p.stat().st_size for p in tmp_path.glob(".pop.synth-*/*")):
            assert process.poll() is None, "synth ended before it was stopped"
            assert time.monotonic() < deadline, "synth did not start writing"
            time.sleep(0.05)
        time.sleep(0.3)  # a few chunks in
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []
