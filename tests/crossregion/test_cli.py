"""`yibao cross-region` as an operator runs it: pure settle, filing, clearing, stats, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.crossregion.world import build, inpatient, settle_at
from yibao.cli.main import app
from yibao.store.db import Database
from yibao.store.migrate import upgrade

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cross-region"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["cross-region", *args], env={"YIBAO_DATABASE_URL": ""})


def test_settle_the_example_with_and_without_a_filing():
    file = str(EXAMPLE / "tongliao_resident_in_qingdao.json")
    filed = run("settle", file, "--treating-region", "qingdao", "--filing", "referral")
    assert filed.exit_code == 0, filed.output
    info = json.loads(filed.stdout)["settlements"][0]["setlinfo"]
    # in scope 60 × 7 + 4580 = 5000 (the 100 massage is 丙类); (5000 − 1000) × 60% = 2400
    assert (info["inscp_scp_amt"], info["hifp_pay"]) == (5000, 2400)
    unfiled = json.loads(run("settle", file, "--treating-region", "qingdao").stdout)
    # (5000 − 1000) × 40% = 1600
    assert unfiled["settlements"][0]["setlinfo"]["hifp_pay"] == 1600
    assert unfiled["settlements"][0]["cross_region"]["flags"] == ["unfiled"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["settle", "missing.json", "--treating-region", "qingdao"], "missing.json: cannot read"),
        (["settle", "EXAMPLE", "--treating-region", "atlantis"], "treating_region: unknown region"),
        (["settle", "EXAMPLE", "--treating-region", "tongliao"], "is the insured region"),
        (["settle", "EXAMPLE", "--treating-region", "liaoyang", "--filing", "x"], "--filing"),
        (["settle", "EXAMPLE"], "--treating-region"),
        (
            ["clear", "--month", "2023-13", "--database-url", "DB"],
            "month: '2023-13' is not YYYY-MM",
        ),
        (
            [
                "stats",
                "--region",
                "tongliao",
                "--from",
                "2023-05",
                "--to",
                "2023-01",
                "--database-url",
                "DB",
            ],
            "end: is before begin",
        ),
        (
            [
                "file",
                "NOBODY",
                "--kind",
                "referral",
                "--treating-region",
                "qingdao",
                "--from",
                "2023-01-01",
                "--database-url",
                "DB",
            ],
            "person NOBODY is not enrolled",
        ),
        (
            [
                "file",
                "P",
                "--kind",
                "referral",
                "--treating-region",
                "qingdao",
                "--from",
                "soon",
                "--database-url",
                "DB",
            ],
            "filing.valid_from",
        ),
    ],
)
def test_errors_are_one_line_on_stderr_exit_2(args, message, tmp_path):
    example = str(EXAMPLE / "tongliao_resident_in_qingdao.json")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    args = [{"EXAMPLE": example, "DB": url}.get(a, a) for a in args]
    done = run(*args)
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_file_clear_and_stats_on_a_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'cr.db'}"
    upgrade(url)
    db = Database(url)
    world = build(db)
    db.dispose()
    filed = run("file", "TL1", "--kind", "residence", "--treating-region", "qingdao",
                "--from", "2023-01-01", "--database-url", url)  # fmt: skip
    assert filed.exit_code == 0, filed.output
    assert json.loads(filed.stdout)["kind_name"] == "异地安置"
    # 异地安置 counts as referred (TL-31): the stay after it is settled at the referred ratio
    settle_at(world, "TL1", "Q3", inpatient("A", "2023-03-01", "2023-03-05", "10000.00"))
    db.dispose()
    cleared = run("clear", "--month", "2023-03", "--database-url", url)
    assert cleared.exit_code == 0, cleared.output
    # (10000 − 1000) × 60% = 5400 owed by tongliao to qingdao
    assert json.loads(cleared.stdout)["positions"] == {"qingdao": 5400, "tongliao": -5400}
    assert (
        json.loads(run("clear", "--month", "2023-03", "--database-url", url).stdout)["written"] == 0
    )
    stats = run("stats", "--region", "qingdao", "--from", "2023-03", "--to", "2023-03",
                "--database-url", url)  # fmt: skip
    rows = json.loads(stats.stdout)["rows"]
    assert [(r["direction"], r["visits"], r["fund_pay_sumamt"]) for r in rows] == [
        ("inbound", 1, 5400)
    ]


def test_a_person_on_two_lines_of_a_jsonl_is_refused(tmp_path):
    # each line would settle as its own history: the annual deductible charged twice (QA)
    one = json.loads((EXAMPLE / "tongliao_resident_in_qingdao.json").read_text("utf-8"))
    two = json.loads(json.dumps(one))
    two["claims"][0]["id"] = "C2"
    file = tmp_path / "twice.jsonl"
    file.write_text(json.dumps(one) + "\n" + json.dumps(two) + "\n", "utf-8")
    result = run("settle", str(file), "--treating-region", "qingdao")
    assert result.exit_code == 2 and result.stdout == ""
    assert f"person {one['person']['id']} is on lines 1 and 2: one line per person" in result.stderr
