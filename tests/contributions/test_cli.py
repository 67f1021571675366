"""`yibao contributions` and `yibao accounts` as a user runs them, errors included."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.service import persons
from yibao.service.principal import SYSTEM
from yibao.store.db import Database
from yibao.store.migrate import upgrade

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contributions"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"YIBAO_DATABASE_URL": ""})


def one_line_error(done, starts: str) -> None:
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {starts}"), done.stderr


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_computes(example):
    raw = json.loads((EXAMPLES / example).read_text("utf-8"))
    kind = "unit" if "unit" in raw else "person"
    period = {"qingdao": "2021-06", "liaoyang": "2006-03", "erenhot": "2023-01"}.get(raw["region"])
    if kind == "person" and raw["person"]["kind"] == "resident":
        period = {"tongliao": "2017", "fuxin": "2019", "qingdao": "2021"}[raw["region"]]
    done = run("contributions", kind, str(EXAMPLES / example), "--period", period)
    assert done.exit_code == 0, done.output
    bill = json.loads(done.stdout, parse_float=Decimal)
    assert bill["total_fen"] == sum(line["amount_fen"] for line in bill["lines"])


def test_text_bill_shows_each_line_with_its_source():
    done = run(
        "contributions", "unit", str(EXAMPLES / "qingdao_unit.json"), "--period", "2021-06",
        "--format", "text",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert (
        "employer_contribution QD001 [单位 employer] base 6,000.00 × 7.00%: 420.00" in done.stdout
    )
    assert "source: QD-08 001_0e8956db19925efd.txt: 自今年5月起至年12月" in done.stdout
    assert done.stdout.rstrip().endswith("total: 951.11")


def test_person_text_bill_of_a_fuxin_dibao_resident():
    done = run(
        "contributions", "person", str(EXAMPLES / "fuxin_dibao_resident.json"), "--period",
        "2019", "--format", "text",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "category_subsidy FX001 [医疗救助 assistance]: 250.00" in done.stdout
    assert "source: FX-06" in done.stdout


def test_bad_field_is_one_line_with_its_path(tmp_path):
    raw = json.loads((EXAMPLES / "qingdao_unit.json").read_text("utf-8"))
    raw["members"][1]["status"] = "on_leave"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw), "utf-8")
    one_line_error(
        run("contributions", "unit", str(path), "--period", "2021-06"), "members[1].status: "
    )


def test_a_member_listed_twice_is_refused(tmp_path):
    # QA: billed twice (and counted twice for the levy), or a 500 when issued
    raw = json.loads((EXAMPLES / "qingdao_unit.json").read_text("utf-8"))
    raw["members"].append(raw["members"][0])
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(raw), "utf-8")
    last = len(raw["members"]) - 1
    one_line_error(
        run("contributions", "unit", str(path), "--period", "2021-06"),
        f"members: {raw['members'][0]['psn_no']} is listed twice ([0] and [{last}])",
    )


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["unit", "{ex}/qingdao_unit.json", "--period", "2021-6"], "period: '2021-6' is not"),
        (
            ["unit", "{ex}/qingdao_unit.json", "--period", "2021"],
            "period: a unit bill is for one month",
        ),
        (
            ["unit", "{ex}/qingdao_unit.json", "--period", "2019-06"],
            "period: employee.employer_rate: no value",
        ),
        (["unit", "{ex}/nope.json", "--period", "2021-06"], ""),
        (["person", "{ex}/qingdao_resident.json", "--period", "2021-02"], "period: a resident"),
        (["unit", "{ex}/qingdao_unit.json"], "Missing option '--period'"),
    ],
)
def test_error_paths(args, starts):
    argv = [a.replace("{ex}", str(EXAMPLES)) for a in args]
    one_line_error(run("contributions", *argv), starts)


def test_invalid_json_is_one_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{", "utf-8")
    one_line_error(
        run("contributions", "person", str(path), "--period", "2017"), f"{path}: not valid JSON"
    )


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    upgrade(url)
    db = Database(url)
    for pid, employment in [("EH001", "in_service"), ("EH002", "retired")]:
        raw = {"id": pid, "scheme": "employee", "employment": employment}
        persons.enroll(db, SYSTEM, "erenhot", persons.parse_person(raw))
    raw = {
        "id": "EH009",
        "scheme": "resident",
        "family": [{"holder": "EH001", "relation": "child"}],
    }
    persons.enroll(db, SYSTEM, "erenhot", persons.parse_person(raw))
    db.dispose()
    return url


def test_issue_then_credit_then_pay(url):
    ex = str(EXAMPLES / "erenhot_unit.json")
    issued = run("contributions", "issue", ex, "--period", "2023-01", "--database-url", url)
    assert issued.exit_code == 0, issued.output
    assert json.loads(issued.stdout)["created"] is True
    # EH001: 2% × 5,000.00 = 100.00; EH002 retired: 2% × 3,000.00 = 60.00.
    done = run("accounts", "credit", "erenhot", "--month", "2023-01", "--database-url", url)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["total_fen"] == 16_000
    again = run("accounts", "credit", "erenhot", "--month", "2023-01", "--database-url", url)
    assert json.loads(again.stdout)["credited_now"] == 0
    paid = run(
        "accounts", "pay-contribution", "EH001", "--for", "EH009", "--year", "2023",
        "--amount", "80.00", "--database-url", url,
    )  # fmt: skip
    assert paid.exit_code == 0, paid.output
    assert json.loads(paid.stdout)["balance_fen"] == 2_000


def test_accounts_errors_are_one_line(url):
    one_line_error(
        run("accounts", "credit", "erenhot", "--month", "2022-09", "--database-url", url),
        "month: accounts.",
    )
    one_line_error(
        run(
            "accounts", "pay-contribution", "EH001", "--for", "EH009", "--year", "2023",
            "--purpose", "fitness", "--amount", "1.00", "--database-url", url,
        ),
        "purpose: purpose 'fitness' is a forbidden use",
    )  # fmt: skip
    one_line_error(
        run(
            "accounts", "pay-contribution", "EH001", "--for", "EH009", "--year", "2023",
            "--amount", "1.001", "--database-url", url,
        ),
        "--amount: ",
    )  # fmt: skip
    for typed in ("1e1", "+5", "\uff15"):  # read as the API reads amounts (QA)
        one_line_error(
            run(
                "accounts", "pay-contribution", "EH001", "--for", "EH009", "--year", "2023",
                "--amount", typed, "--database-url", url,
            ),
            f"--amount: {typed!r} must be yuan like 100.00",
        )  # fmt: skip


def test_a_purpose_other_than_the_resident_contribution_needs_its_amount(url):
    # its amount is in no rate table; the message spoke of the resident contribution (QA)
    one_line_error(
        run(
            "accounts", "pay-contribution", "EH001", "--for", "EH009", "--year", "2023",
            "--purpose", "ltc_contribution", "--database-url", url,
        ),
        "amount: required for ltc_contribution",
    )  # fmt: skip
