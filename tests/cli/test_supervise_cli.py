"""`yibao supervise` over claim files and over a folder of Parquet tables gives the same flags."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from tests.cli.test_settle_cli import run
from yibao.batch.tables import claim_files_to_frames
from yibao.claimfile import parse_claim_files

EXAMPLES = ["examples/erenhot_retired.json", "examples/tongliao_poor.json"]


def test_tables_folder_and_claim_files_agree(tmp_path):
    files = [cf for path in EXAMPLES for cf in parse_claim_files(path)]
    persons, lines = claim_files_to_frames(files)
    persons.write_parquet(tmp_path / "persons.parquet")
    lines.write_parquet(tmp_path / "claim_lines.parquet")
    jsonl = tmp_path / "claims.jsonl"
    raw = [json.loads(Path(path).read_text("utf-8")) for path in EXAMPLES]
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in raw), "utf-8")

    from_files = run("supervise", str(jsonl))
    from_tables = run("supervise", str(tmp_path))
    assert from_files.returncode == from_tables.returncode == 0
    assert json.loads(from_files.stdout) == json.loads(from_tables.stdout)
    assert json.loads(from_tables.stdout)["flags"], "the Erenhot example carries flagged lines"

    out = tmp_path / "flags.parquet"
    written = run("supervise", str(tmp_path), "--out", str(out))
    assert written.returncode == 0 and written.stdout == ""
    assert pl.read_parquet(out).height == len(json.loads(from_tables.stdout)["flags"])


def test_a_folder_without_tables_is_a_one_line_error(tmp_path):
    done = run("supervise", str(tmp_path))
    assert (done.returncode, done.stdout) == (2, "")
    assert "missing persons.parquet, claim_lines.parquet" in done.stderr


def test_a_person_listed_twice_in_the_tables_is_noted(tmp_path):
    # which row's facts the rules saw depends on the order: the user is told
    files = [cf for path in EXAMPLES for cf in parse_claim_files(path)]
    persons, lines = claim_files_to_frames(files)
    pl.concat([persons, persons.head(1)]).write_parquet(tmp_path / "persons.parquet")
    lines.write_parquet(tmp_path / "claim_lines.parquet")
    done = run("supervise", str(tmp_path))
    assert done.returncode == 0
    first = persons.get_column("person_id")[0]
    assert done.stderr == (
        f"note: 1 person_id(s) listed more than once in persons.parquet; the first row of "
        f"each is used, e.g. {first}\n"
    )
