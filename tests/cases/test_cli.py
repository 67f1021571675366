"""`yibao cases ...` as an operator runs it: a case from flags to recovery, and its errors."""

from __future__ import annotations

import json
from decimal import Decimal

import polars as pl
import pytest
from typer.testing import CliRunner

from tests.cases.helpers import flag
from tests.supervision.cases import claim_file, item, stay, visit
from yibao.cli.main import app

runner = CliRunner()


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cases.db'}"


def run(url: str, *args: str):
    return runner.invoke(app, ["cases", *args, "--database-url", url])


def ok(url: str, *args: str) -> str:
    done = run(url, *args)
    assert done.exit_code == 0, done.output
    return done.stdout


def refused(url: str, *args: str) -> str:
    """One line on stderr, nothing on stdout, exit 2."""
    done = run(url, *args)
    assert (done.exit_code, done.stdout) == (2, ""), done.output
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    return done.stderr


def test_a_case_from_flags_to_recovery(url, tmp_path):
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"flags": [flag(amount_fen=12_345)]}), "utf-8")
    assert "opened 1 case(s) (#1…#1)" in ok(url, "import", str(flags), "--actor", "clerk")
    assert "1 flag(s) already had a case" in ok(url, "import", str(flags), "--actor", "clerk")
    review = ("--note", "lines repeat", "--recommendation", "confirm")
    assert "now reviewed" in ok(url, "review", "1", *review, "--actor", "inspector")
    refusal = refused(url, "re-review", "1", *review, "--actor", "inspector")
    assert (
        refusal
        == "error: case 1: re-review: inspector reviewed this case and may not re-review it\n"
    )
    ok(url, "re-review", "1", *review, "--actor", "inspector-2")
    assert refused(url, "appeal", "1", "--reason", "x", "--institution", "H002") == (
        "error: case 1 not found\n"
    )
    assert "now appealed" in ok(
        url, "appeal", "1", "--reason", "given twice", "--institution", "H001"
    )
    decide = ("--outcome", "confirmed", "--reason", "no record", "--actor", "chief")
    assert "now confirmed" in ok(url, "decide", "1", *decide)
    out = ok(url, "recover", "1", "--amount", "100.00", "--actor", "chief")
    assert "recovered 100.00 of 123.45 yuan at risk" in out
    assert "exceed the amount at risk" in refused(
        url, "recover", "1", "--amount", "23.46", "--actor", "chief"
    )
    ok(url, "recover", "1", "--amount", "23.45", "--actor", "chief")

    case = json.loads(ok(url, "show", "1", "--format", "json"), parse_float=Decimal)
    assert (case["status"], case["recovered"], case["amount_at_risk"]) == (
        "recovered", Decimal("123.45"), Decimal("123.45"),
    )  # fmt: skip
    assert [(s["action"], s["actor"], s["role"]) for s in case["steps"]] == [
        ("open", "clerk", "bureau"),
        ("review", "inspector", "auditor"),
        ("re_review", "inspector-2", "auditor"),
        ("appeal", "H001", "institution"),
        ("decision", "chief", "bureau"),
        ("recovery", "chief", "bureau"),
        ("recovery", "chief", "bureau"),
    ]
    assert "6. " in ok(url, "show", "1") and "lines_of_item_on_day = 4" in ok(url, "show", "1")
    assert "#1" in ok(url, "list", "--status", "recovered")
    assert ok(url, "list", "--status", "open") == "no cases\n"
    table = json.loads(ok(url, "precision", "--format", "json"), parse_float=Decimal)
    assert table["rules"][0]["precision"] == Decimal("1.0000")
    assert "duplicate_charge" in ok(url, "precision")


def test_flags_parquet_as_supervise_writes_it(url, tmp_path):
    # the FLAG_SCHEMA columns of `yibao supervise --out`: evidence is a JSON text column
    rows = [flag(claims=("C1",)), flag(claims=("C2",), amount_fen=1)]
    for row in rows:
        row["evidence"] = json.dumps(row["evidence"])
    path = tmp_path / "flags.parquet"
    pl.DataFrame(rows).write_parquet(path)
    assert "opened 2 case(s)" in ok(url, "import", str(path), "--actor", "clerk")
    case = json.loads(ok(url, "show", "2", "--format", "json"), parse_float=Decimal)
    assert case["amount_at_risk"] == Decimal("0.01") and case["flags"][0]["evidence"]["value"] == 4


def test_bad_input_is_one_line(url, tmp_path):
    assert refused(url, "import", str(tmp_path / "none.json"), "--actor", "c").startswith(
        f"error: {tmp_path / 'none.json'}: "
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"flags": [{**flag(), "person_id": ""}]}), "utf-8")
    assert refused(url, "import", str(bad), "--actor", "c").startswith(
        f"error: {bad}: flags[0].person_id: "
    )
    assert refused(url, "decide", "1", "--reason", "r", "--actor", "c").startswith(
        "error: Missing option '--outcome'"
    )
    assert refused(url, "recover", "1", "--amount", "1.001", "--actor", "c") == (
        "error: --amount: 1.001 has more than two decimals\n"
    )
    assert refused(url, "show", "7") == "error: case 7 not found\n"


def test_the_output_of_yibao_supervise_imports_as_it_is(url, tmp_path):
    # two stays 10 days apart with the same J18 diagnosis (split hospitalization) and a
    # pharmacy purchase of a daily good (G001): `yibao supervise` finds two flags
    claims = claim_file(
        [
            stay("C1", "2023-03-01", "2023-03-10"),
            stay("C2", "2023-03-20", "2023-03-25"),
            visit("C3", "2023-05-01", [item("G001", "45")], med_type="41"),
        ]
    )
    (tmp_path / "claims.json").write_text(json.dumps(claims), "utf-8")
    supervised = runner.invoke(app, ["supervise", str(tmp_path / "claims.json")])
    assert supervised.exit_code == 0, supervised.output
    (tmp_path / "flags.json").write_text(supervised.stdout, "utf-8")
    out = ok(url, "import", str(tmp_path / "flags.json"), "--actor", "clerk")
    assert "opened 2 case(s)" in out
    listed = ok(url, "list")
    assert "split_hospitalization" in listed and "pharmacy_non_medical" in listed
