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
    # the operator holds the database: "not found" would send them after the wrong problem
    assert refused(url, "appeal", "1", "--reason", "x", "--institution", "H002") == (
        "error: --institution: case 1 names institution H001, not H002\n"
    )
    assert refused(url, "appeal", "99", "--reason", "x", "--institution", "H002") == (
        "error: case 99 not found\n"
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
    assert refused(url, "recover", "1", "--amount", "0", "--actor", "c") == (
        "error: --amount: '0' must be > 0\n"
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


def monthly_visits(n: int) -> dict:
    """n outpatient visits in April 2023 at C1, the d-th costing 10 + d yuan (as QA ran it)."""
    claims = [
        visit(f"G{d:02d}", f"2023-04-{d:02d}", [item("S001", f"{10 + d}.00")])
        for d in range(1, n + 1)
    ]
    return claim_file([{**c, "institution": "C1"} for c in claims], pid="F1")


def supervised(tmp_path, name: str, claims: dict) -> str:
    (tmp_path / f"{name}.claims.json").write_text(json.dumps(claims), "utf-8")
    done = runner.invoke(app, ["supervise", str(tmp_path / f"{name}.claims.json")])
    assert done.exit_code == 0, done.output
    (tmp_path / f"{name}.json").write_text(done.stdout, "utf-8")
    return str(tmp_path / f"{name}.json")


def test_monitoring_again_over_grown_data_counts_each_visit_once(url, tmp_path):
    # more than 12 visits in a month: the visits beyond the 12th are at risk. 13 visits: the
    # 13th, 23.00; 14 visits: 23.00 + 24.00 = 47.00 in all, however the runs are imported
    march, april = (
        supervised(tmp_path, "march", monthly_visits(13)),
        supervised(tmp_path, "april", monthly_visits(14)),
    )
    ok(url, "import", march, "--actor", "clerk")
    assert "updated 1 open case(s) (#1)" in ok(url, "import", april, "--actor", "clerk")
    assert ok(url, "list").count("\n") == 1 and "at risk 47.00" in ok(url, "list")
    assert "1 flag(s) already had a case" in ok(url, "import", april, "--actor", "clerk")
    shown = ok(url, "show", "1")
    assert "update → open by clerk (bureau) added claims G14, at risk 23.00 → 47.00 yuan" in shown
    # once reviewed, the case's evidence stays as the reviewer saw it: a 15th visit (25.00)
    # opens a case of its own for what is new: 23 + 24 + 25 = 72.00 - 47.00 held = 25.00
    ok(url, "review", "1", "--note", "n", "--recommendation", "confirm", "--actor", "li")
    may = supervised(tmp_path, "may", monthly_visits(15))
    assert "opened 1 case(s) (#2…#2)" in ok(url, "import", may, "--actor", "clerk")
    second = json.loads(ok(url, "show", "2", "--format", "json"), parse_float=Decimal)
    assert (second["claim_ids"], second["amount_at_risk"]) == (["G15"], Decimal("25.00"))
    assert second["steps"][0]["detail"]["extends"] == [1]
    first = json.loads(ok(url, "show", "1", "--format", "json"), parse_float=Decimal)
    assert first["amount_at_risk"] == Decimal("47.00")


def confirmed(url: str, tmp_path, amount_fen: int = 6_990, **extra) -> None:
    """Case 1, re-reviewed by two auditors, appealed and confirmed by the bureau."""
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"flags": [flag(amount_fen=amount_fen, **extra)]}), "utf-8")
    ok(url, "import", str(path), "--actor", "clerk")
    review = ("--note", "n", "--recommendation", "confirm")
    ok(url, "review", "1", *review, "--actor", "li")
    ok(url, "re-review", "1", *review, "--actor", "zhao")
    ok(url, "appeal", "1", "--reason", "r", "--institution", "H001")
    ok(url, "decide", "1", "--outcome", "confirmed", "--reason", "r", "--actor", "sun")


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("99999999999999999", "must be below 1,000,000,000,000"),
        ("1000000000000.00", "must be below 1,000,000,000,000"),
        ("1.001", "has more than two decimals"),
        ("-5", "must be > 0"),
        *[(text, "must be yuan like 100.00") for text in ("1e1", "+5", "１", " 5", "5.", "NaN")],
    ],
)
def test_a_recovery_amount_is_yuan_as_the_api_reads_it(url, tmp_path, amount, reason):
    confirmed(url, tmp_path)
    assert refused(url, "recover", "1", "--amount", amount, "--actor", "sun") == (
        f"error: --amount: {amount!r} {reason}\n"
    )
    # the API's limit: 10^12 yuan, given as at most 12 digits and two decimals
    out = ok(url, "recover", "1", "--amount", "999999999999.99", "--actor", "sun",
             "--justification", "penalty")  # fmt: skip
    assert "recovered 999,999,999,999.99 of 69.90 yuan at risk" in out


def test_a_recovery_above_the_amount_at_risk_is_refused_in_yuan(url, tmp_path):
    confirmed(url, tmp_path, amount_fen=5_500)
    assert refused(url, "recover", "1", "--amount", "55.01", "--actor", "sun") == (
        "error: case 1: recovery: 55.01 in all would exceed the amount at risk 55.00; "
        "give a justification\n"
    )


def test_the_actor_is_a_user_name_and_one_person_is_one_name(url, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"flags": [flag()]}), "utf-8")
    ok(url, "import", str(path), "--actor", "clerk")
    review = ("--note", "n", "--recommendation", "confirm")
    ok(url, "review", "1", *review, "--actor", "inspector-li")
    assert refused(url, "re-review", "1", *review, "--actor", "inspector-li ") == (
        "error: --actor: 'inspector-li ' must be 1–60 characters without spaces\n"
    )
    assert "inspector-li reviewed this case" in refused(
        url, "re-review", "1", *review, "--actor", "Inspector-Li"
    )
    ok(url, "re-review", "1", *review, "--actor", "inspector-zhao")
    ok(url, "appeal", "1", "--reason", "r", "--institution", "H001")
    decide = ("--outcome", "confirmed", "--reason", "r")
    assert refused(url, "decide", "1", *decide, "--actor", "inspector-zhao") == (
        "error: case 1: decision: inspector-zhao re-reviewed this case and may not decide it\n"
    )
    ok(url, "decide", "1", *decide, "--actor", "chief-sun")


def test_list_refuses_unknown_filters_and_pages_through_many_cases(url, tmp_path):
    path = tmp_path / "three.json"
    path.write_text(json.dumps({"flags": [flag(claims=(f"C{n}",)) for n in range(3)]}), "utf-8")
    ok(url, "import", str(path), "--actor", "clerk")
    status = refused(url, "list", "--status", "opne")
    assert status.startswith("error: status: 'opne' is not a case status (one of: open, ")
    rule = refused(url, "list", "--rule", "split")
    assert rule.startswith("error: rule: 'split' is not a rule (one of: split_hospitalization, ")
    done = run(url, "list", "--limit", "2")
    assert (done.exit_code, done.stdout.count("\n")) == (0, 2)
    assert done.stderr == "showing 1–2 of 3; --offset 2 for more\n"
    done = run(url, "list", "--limit", "2", "--offset", "2")
    assert done.stdout.startswith("#3 ") and done.stderr == "showing 3–3 of 3\n"
    assert run(url, "list").stderr == ""  # everything shown: no hint
    assert refused(url, "list", "--offset", "-1").startswith("error: Invalid value for '--offset'")


def test_another_place_on_a_flagged_day_adds_only_its_own_visit(url, tmp_path):
    # three places on 2023-04-03 (20.00 each) flag the day: 60.00; a later run finds a fourth
    # (20.00 more, 80.00 in all), then a fifth at A0, which sorts first and so is the place
    # the flag names: 100.00 in all, counted once across the cases
    def day(*places: str) -> dict:
        claims = [
            {**visit(f"T{i}", "2023-04-03", [item("S001", "20.00")]), "institution": p}
            for i, p in enumerate(places)
        ]
        return claim_file(claims, pid="F1")

    runs = [("C1", "C2", "C3"), ("C1", "C2", "C3", "C4"), ("C1", "C2", "C3", "C4", "A0")]
    ok(url, "import", supervised(tmp_path, "run1", day(*runs[0])), "--actor", "clerk")
    ok(url, "import", supervised(tmp_path, "run2", day(*runs[1])), "--actor", "clerk")
    ok(url, "review", "1", "--note", "n", "--recommendation", "confirm", "--actor", "li")
    ok(url, "import", supervised(tmp_path, "run3", day(*runs[2])), "--actor", "clerk")
    cases = json.loads(ok(url, "list", "--format", "json"), parse_float=Decimal)
    assert [(c["institution"], c["claim_ids"], c["amount_at_risk"]) for c in cases] == [
        ("C1", ["T0", "T1", "T2", "T3"], Decimal("80.00")),
        ("A0", ["T4"], Decimal("20.00")),
    ]


def test_an_appeal_for_a_case_without_institution_says_so(monkeypatch):
    from yibao.cases import service
    from yibao.cli import cases_cmd
    from yibao.service.errors import ServiceError

    monkeypatch.setattr(service, "case_view", lambda *_a: {"institution": None})
    with pytest.raises(ServiceError, match="case 7 names no institution, not H002"):
        cases_cmd._check_institution(None, 7, "H002")
