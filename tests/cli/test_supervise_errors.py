"""`yibao supervise` on bad input, as a user runs it: one line on stderr naming the file and the
reason, exit code 2, no traceback, nothing written; JSON Lines on stdin are read."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.cli.test_settle_cli import run
from yibao.batch.tables import claim_files_to_frames
from yibao.claimfile import parse_claim_files

EXAMPLES = ["examples/erenhot_retired.json", "examples/tongliao_poor.json"]


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    """A folder with the two synth tables of the examples."""
    folder = tmp_path / "tables"
    folder.mkdir()
    persons, lines = claim_files_to_frames([cf for p in EXAMPLES for cf in parse_claim_files(p)])
    persons.write_parquet(folder / "persons.parquet")
    lines.write_parquet(folder / "claim_lines.parquet")
    return folder


def _one_line_error(done, *expected: str) -> str:
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    for text in expected:
        assert text in done.stderr
    return done.stderr


def test_a_truncated_table_names_the_file(tables: Path, tmp_path: Path) -> None:
    path = tables / "claim_lines.parquet"
    path.write_bytes(path.read_bytes()[:200])
    out = tmp_path / "flags.parquet"
    done = run("supervise", str(tables), "--out", str(out))
    _one_line_error(done, f"{path}: not a readable Parquet file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]


def test_a_missing_required_column_names_the_file_and_the_column(tables: Path) -> None:
    path = tables / "claim_lines.parquet"
    pl.read_parquet(path).drop("price_fen").write_parquet(path)
    done = run("supervise", str(tables))
    _one_line_error(done, f"{path}: missing column(s) price_fen")


def test_a_persons_table_without_sex(tables: Path) -> None:
    path = tables / "persons.parquet"
    pl.read_parquet(path).drop("sex").write_parquet(path)
    _one_line_error(run("supervise", str(tables)), f"{path}: missing column(s) sex")


def test_out_in_a_missing_folder(tables: Path) -> None:
    done = run("supervise", str(tables), "--out", "/nonexistent/f.parquet")
    _one_line_error(done, "/nonexistent/f.parquet: cannot write (no folder /nonexistent)")


def test_out_naming_a_directory(tables: Path, tmp_path: Path) -> None:
    target = tmp_path / "flags"
    target.mkdir()
    done = run("supervise", str(tables), "--out", str(target))
    _one_line_error(done, f"{target}: is a directory")
    assert list(target.iterdir()) == []
    assert not (tmp_path / "flags.institutions.parquet").exists()


def test_json_lines_on_stdin_are_read_like_the_file(tmp_path: Path) -> None:
    raw = [json.loads(Path(p).read_text("utf-8")) for p in EXAMPLES]
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in raw) + "\n"
    path = tmp_path / "claims.jsonl"
    path.write_text(text, "utf-8")
    from_stdin, from_file = run("supervise", "-", stdin=text), run("supervise", str(path))
    assert from_stdin.returncode == from_file.returncode == 0, from_stdin.stderr
    assert json.loads(from_stdin.stdout) == json.loads(from_file.stdout)
    assert json.loads(from_stdin.stdout)["flags"]


def test_a_bad_line_on_stdin_is_named(tmp_path: Path) -> None:
    first = Path(EXAMPLES[0]).read_text("utf-8")
    text = json.dumps(json.loads(first)) + "\n" + json.dumps({"region": "qingdao"}) + "\n"
    _one_line_error(run("supervise", "-", stdin=text), "line 2: person: Field required")


def test_one_pretty_printed_claim_file_on_stdin() -> None:
    done = run("supervise", "-", stdin=Path(EXAMPLES[0]).read_text("utf-8"))
    assert done.returncode == 0 and json.loads(done.stdout)["flags"]


def test_a_folder_among_several_arguments(tmp_path: Path) -> None:
    folder = tmp_path / "eh"
    folder.mkdir()
    done = run("supervise", str(folder), "qingdao")
    message = _one_line_error(done, f"{folder}: is a folder", "one folder of Parquet tables alone")
    assert message.count(f"{folder}:") == 1


def test_a_missing_file_among_several_is_named_once(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    done = run("supervise", EXAMPLES[0], str(missing))
    message = _one_line_error(done, f"{missing}: cannot read")
    assert message.count(f"{missing}:") == 1


def _claim_lines(*paths: str) -> str:
    """The claim files of `paths`, one a line."""
    return "".join(json.dumps(json.loads(Path(p).read_text("utf-8"))) + "\n" for p in paths)


def test_a_claim_given_in_two_files_is_refused(tmp_path: Path) -> None:
    # two monthly exports that overlap: once false 重复收费 flags, each line listed twice
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(Path(EXAMPLES[0]).read_text("utf-8"), "utf-8")
    b.write_text(a.read_text("utf-8"), "utf-8")
    first = json.loads(a.read_text("utf-8"))
    person, claim = first["person"]["id"], first["claims"][0]["id"]
    done = run("supervise", str(a), str(b))
    _one_line_error(done, f"{b}: claim {claim} of person {person} is given twice (first in {a})")


def test_a_claim_on_two_lines_of_one_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text(_claim_lines(EXAMPLES[1], EXAMPLES[0], EXAMPLES[0]), "utf-8")
    done = run("supervise", str(path), "--format", "text")
    _one_line_error(done, f"{path}: line 3: claim ", f"given twice (first in {path}: line 2)")


def test_two_people_under_one_id_in_two_files_are_refused(tmp_path: Path) -> None:
    raw = json.loads(Path(EXAMPLES[0]).read_text("utf-8"))
    other = json.loads(Path(EXAMPLES[1]).read_text("utf-8"))
    other["person"]["id"] = raw["person"]["id"]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(raw), "utf-8")
    b.write_text(json.dumps(other), "utf-8")
    done = run("supervise", str(a), str(b))
    _one_line_error(done, f"{b}: person {raw['person']['id']} differs from the one in {a} (region")


def test_an_empty_file_or_stdin_holds_no_claim_file(tmp_path: Path) -> None:
    # a truncated export must not look like a clean month ({"flags": []}, exit 0)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", "utf-8")
    _one_line_error(run("supervise", str(empty)), f"{empty}: holds no claim file")
    _one_line_error(run("supervise", EXAMPLES[0], str(empty)), f"{empty}: holds no claim file")
    _one_line_error(run("supervise", "-", stdin=""), "-: holds no claim file")


def test_an_empty_lines_table_holds_no_claim_line(tables: Path) -> None:
    path = tables / "claim_lines.parquet"
    pl.read_parquet(path).head(0).write_parquet(path)
    _one_line_error(run("supervise", str(tables)), f"{path}: holds no claim line")


def test_an_upper_case_jsonl_is_read_as_json_lines(tmp_path: Path) -> None:
    lower, upper = tmp_path / "claims.jsonl", tmp_path / "claims.JSONL"
    for path in (lower, upper):
        path.write_text(_claim_lines(*EXAMPLES), "utf-8")
    done = run("supervise", str(upper))
    assert done.returncode == 0, done.stderr
    assert done.stdout == run("supervise", str(lower)).stdout


def test_a_table_column_of_the_wrong_type(tables: Path) -> None:
    # once a 56-line polars traceback and exit 1
    path = tables / "claim_lines.parquet"
    pl.read_parquet(path).with_columns(pl.col("price_fen").cast(pl.String)).write_parquet(path)
    done = run("supervise", str(tables))
    _one_line_error(done, f"{path}: column price_fen is String, expected an integer")
