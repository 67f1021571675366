"""`yibao payment ...` as an operator runs it: a whole year on a SQLite file, and errors as
one line on stderr with exit 2 and nothing on stdout."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.payment.world import CENTRAL, central_year
from yibao.cli.main import app
from yibao.store.db import Database

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "payment"


def run(*args: str):
    return runner.invoke(app, list(args), env={"YIBAO_DATABASE_URL": ""})


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'payment.db'}"
    done = run(
        "institution", "add", CENTRAL, "--name", "辽阳市中心医院", "--level", "3",
        "--kind", "hospital", "--region", "liaoyang", "--database-url", url,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return url


def enroll_p1(url: str) -> None:
    from tests.service.world import enroll

    db = Database(url)
    try:
        enroll(db, "P1")
        central_year(db)
    finally:
        db.dispose()


def test_a_whole_year_from_the_command_line(url):
    steps = [
        ("payment", "agreement", "add", CENTRAL, "--kind", "hospital", "--ownership", "public",
         "--from", "2023-01-01", "--to", "2023-12-31", "--method", "drg"),
        ("payment", "budget", "set", CENTRAL, "--year", "2023", "--budget", "500000.00",
         "--vbp-budget", "50000", "--vbp-paid", "30000"),
        ("payment", "assess", CENTRAL, "--year", "2023", "--score", "90"),
    ]  # fmt: skip
    for step in steps:
        done = run(*step, "--database-url", url)
        assert done.exit_code == 0, done.output
    enroll_p1(url)
    done = run("payment", "year-end", "liaoyang", "--year", "2023", "--database-url", url)
    assert json.loads(done.stdout)["written"] == [CENTRAL]
    again = run("payment", "year-end", "liaoyang", "--year", "2023", "--database-url", url)
    assert json.loads(again.stdout)["skipped"] == [CENTRAL]
    shown = run("payment", "statement", CENTRAL, "--year", "2023", "--database-url", url)
    statement = json.loads(shown.stdout, parse_float=Decimal)
    assert statement["totals"]["balance"] == Decimal("9224.00")  # the golden year
    text = run(
        "payment", "statement", CENTRAL, "--year", "2023", "--format", "text", "--database-url", url
    )
    assert text.exit_code == 0
    assert "9,224.00" in text.stdout and "flag drg_ungroupable: 1 stays" in text.stdout


def test_drg_prices_the_example_stay():
    done = run("payment", "drg", str(EXAMPLES / "stay_pci.json"))
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout, parse_float=Decimal)
    assert (out["group"], out["payment"], out["fund"]) == (
        "FM19",
        Decimal("28000.00"),
        Decimal("21600.00"),
    )


ASSESS = ("payment", "assess", CENTRAL, "--year", "2023", "--score")
BUDGET = ("payment", "budget", "set", CENTRAL, "--year", "2023", "--budget")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((*ASSESS, "abc"), "--score: not a number"),
        ((*ASSESS, "90"), "no agreement in force"),
        (("payment", "assess", "NOPE", "--year", "2023", "--score", "90"), "NOPE not found"),
        ((*BUDGET, "1.001"), "--budget: 1.001"),
        ((*BUDGET, "-5"), "--budget: must be"),
        (("payment", "statement", CENTRAL, "--year", "2023"), "no 2023 statement"),
        (("payment", "year-end", "atlantis", "--year", "2023"), "region: no payment terms"),
        (("payment", "agreement", "add", CENTRAL, "--kind", "hospital", "--ownership", "public",
          "--from", "2023-13-01", "--to", "2023-12-31"), "--from: must be a date"),
        (("payment", "agreement", "add", CENTRAL, "--kind", "hospital", "--ownership", "public",
          "--from", "2023-01-01", "--to", "2022-12-31"), "valid_to: must not be before"),
        (("payment", "assess", CENTRAL, "--score", "90"), "--year"),
    ],
)  # fmt: skip
def test_errors_are_one_line_on_stderr(url, args, message):
    done = run(*args, "--database-url", url)
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "stay.json: not valid JSON"),
        ('{"region": "liaoyang", "level": 3, "diagnoses": [], "total": 1}', "stay.json.diagnoses"),
        ('{"region": "liaoyang", "level": 3, "diagnoses": ["I21"], "total": "1.001"}',
         "stay.json.total: 1.001 has more than two decimals"),
        ('{"region": "mars", "level": 3, "diagnoses": ["I21"], "total": 1}', "stay.json.region"),
        ('{"region": "liaoyang", "level": 3, "diagnoses": ["I21"], "total": 1, "patient_paid": 2}',
         "stay.json: need 0 <= patient paid <= total cost"),
    ],
)  # fmt: skip
def test_drg_file_errors_name_the_place(tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    Path("stay.json").write_text(content, "utf-8")
    done = run("payment", "drg", "stay.json")
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.strip() == f"error: {message}" or message in done.stderr, done.stderr


def test_drg_missing_file():
    done = run("payment", "drg", "/nonexistent/stay.json")
    assert done.exit_code == 2 and "cannot read" in done.stderr
