"""`yibao batch` as a user runs it: its help, and a run stopped by SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import typer
from typer.testing import CliRunner

from tests.batch.population import population
from yibao.cli.batch_cmd import batch_command
from yibao.cli.common import OneLineErrors

# the process settles partitions until the second, which sends it SIGTERM and waits
STOPPED_BY_SIGTERM = """
import os, signal, sys, time
from yibao.batch.settle import Settler
from yibao.cli.batch_cmd import run_batch_cmd

settle, calls = Settler.settle, []

def terminated_at_the_second(self, persons, lines):
    calls.append(1)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(2)
    return settle(self, persons, lines)

Settler.settle = terminated_at_the_second
run_batch_cmd(sys.argv[1], sys.argv[2], partitions=4)
"""


def _help() -> str:
    app = typer.Typer()
    app.command("batch", cls=OneLineErrors)(batch_command)
    app.command("other")(lambda: None)  # two commands: `batch` is a subcommand, as in yibao
    result = CliRunner().invoke(app, ["batch", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.replace("│", " ").split())


def test_help_names_jsonl_repeated_policies_no_progress_and_the_exit_codes():
    text = _help()
    assert "or with claims.jsonl" in text
    assert "Reform overlay YAML; may be repeated" in text
    assert "--progress --no-progress" in text and "(default: if a terminal)" in text
    assert "Exit 0: every claim settled. Exit 1: a person or claim not settled" in text


def test_sigterm_removes_the_partial_output_and_keeps_the_previous(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    persons, lines = population(["tongliao"], 40, seed=7)
    persons.write_parquet(tables / "persons.parquet")
    lines.write_parquet(tables / "claim_lines.parquet")
    out = tmp_path / "out.parquet"
    out.write_bytes(b"the previous complete result")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(STOPPED_BY_SIGTERM), str(tables), str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
        timeout=120,
    )
    assert done.returncode == 143, done.stderr
    assert out.read_bytes() == b"the previous complete result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet", "tables"]  # no partial
