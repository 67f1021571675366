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
        ((*BUDGET, "1.001"), "--budget: '1.001' has more than two decimals"),
        ((*BUDGET, "-5"), "--budget: '-5' must be >= 0"),
        ((*BUDGET, "99999999999999999999"), "must be below 1,000,000,000,000"),  # not a crash
        ((*BUDGET, "1e5"), "--budget: '1e5' must be yuan like 100.00"),  # read as the API
        ((*BUDGET, "+5"), "--budget: '+5' must be yuan like 100.00"),
        ((*BUDGET, "\uff15"), "must be yuan like 100.00"),  # a full-width 5
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


def test_correcting_the_budget_keeps_the_vbp_figures(url):
    # QA: a second `set` with --budget alone zeroed the VBP budget and paid, and moved the
    # year-end payable by 20,000.00
    first = run(*BUDGET, "500000.00", "--vbp-budget", "50000.00", "--vbp-paid", "30000.00",
                "--database-url", url)  # fmt: skip
    assert first.exit_code == 0, first.output
    fixed = run(*BUDGET, "520000.00", "--database-url", url)
    assert fixed.exit_code == 0, fixed.output
    view = json.loads(fixed.stdout, parse_float=Decimal)
    assert (view["budget"], view["vbp_budget"], view["vbp_paid"]) == (
        Decimal("520000.00"), Decimal("50000.00"), Decimal("30000.00"),
    )  # fmt: skip


def test_the_drg_text_is_in_yuan_without_internals():
    # QA: "flag=None" and "base rate 1000000 fen" in the text `make run` shows
    done = run("payment", "drg", str(EXAMPLES / "stay_outlier.json"), "--format", "text")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[0] == "drg_outlier group=FM19"
    assert "base rate 10,000.00 × weight 2.8" in done.stdout
    assert "cost 90,000.00 > 3 × price = 84,000.00" in done.stdout
    assert "None" not in done.stdout and " fen" not in done.stdout
