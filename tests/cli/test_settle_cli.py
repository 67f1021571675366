"""`yibao settle` as a user runs it: output format, exit codes, errors on one line."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.contract_example import CONTRACT_EXAMPLE


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "yibao.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def example(tmp_path: Path) -> Path:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(CONTRACT_EXAMPLE, ensure_ascii=False), "utf-8")
    return path


def test_contract_example_settles_as_the_contract_says(example):
    done = run("settle", str(example), "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout, parse_float=Decimal)
    info = out["settlements"][0]["setlinfo"]
    assert out["region"] == "erenhot" and out["person_id"] == "P001"
    assert out["settlements"][0]["policy_version"] == "erenhot/2023-01-01"
    expected = {
        "medfee_sumamt": "805.00",
        "fulamt_ownpay_amt": "80.00",
        "overlmt_selfpay": "200.00",
        "preselfpay_amt": "10.00",
        "inscp_scp_amt": "515.00",
        "act_pay_dedc": "515.00",
        "hifp_pay": "0.00",
        "pool_prop_selfpay": "0.6500",
        "fund_pay_sumamt": "0.00",
        "psn_part_amt": "805.00",
        "psn_cash_pay": "805.00",
    }
    assert {k: str(info[k]) for k in expected} == expected
    assert '"pool_prop_selfpay": 0.6500' in done.stdout  # exact JSON numbers, not floats
    assert out["settlements"][0]["setldetail"][0]["fund_pay_type"] == "310100"
    assert out["year_to_date"]["amounts"]["deductible:general_outpatient"] == Decimal("515.00")


def test_explain_prints_a_bill_with_sources(example):
    done = run("settle", str(example), "--explain")
    assert done.returncode == 0
    assert "医疗费总额" in done.stdout and "805.00" in done.stdout
    assert "EH-10 003_4bef5791700317d1.txt: 政策范围内医疗费用年度累计起付线为1000元" in done.stdout


def test_bad_input_exits_2_with_the_field_path_and_nothing_on_stdout(tmp_path):
    bad = json.loads(json.dumps(CONTRACT_EXAMPLE))
    bad["claims"][0]["items"][0]["price"] = "-1"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), "utf-8")
    done = run("settle", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "error: claims[0].items[0].price: must be >= 0"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda raw: raw.update(region="atlantis"), "region: unknown region 'atlantis'"),
        (lambda raw: raw["claims"][0].update(med_type="99"), "claims[0].med_type: Input should be"),
        (lambda raw: raw["claims"][0].update(date="2023-02-30"), "claims[0].date:"),
        (
            lambda raw: raw["claims"][0]["items"][1].update(price="1.005"),
            "claims[0].items[1].price: 1.005 has more than two decimals",
        ),
        (
            lambda raw: raw["claims"][0].update(date="2001-01-01"),
            f"claims[0].date: claim {CONTRACT_EXAMPLE['claims'][0]['id']}: erenhot has no policy",
        ),
        (
            lambda raw: raw["person"].update(scheme="resident", employment=None),
            "person.scheme: erenhot runs no resident scheme",
        ),
        (
            lambda raw: raw["person"].update(scheme="resident"),
            "person.employment: a resident has none (omit it)",
        ),
        (
            lambda raw: raw["person"].pop("employment"),
            "person.employment: required for an employee",
        ),
    ],
)
def test_each_bad_field_is_named(tmp_path, edit, message):
    raw = json.loads(json.dumps(CONTRACT_EXAMPLE))
    edit(raw)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw), "utf-8")
    done = run("settle", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_stdin_may_be_json_lines_as_a_jsonl_file_is():
    second = json.loads(json.dumps(CONTRACT_EXAMPLE))
    second["person"]["id"] = "P002"
    done = run("settle", "-", stdin=json.dumps(CONTRACT_EXAMPLE) + "\n" + json.dumps(second))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["person_id"] for line in done.stdout.splitlines()] == ["P001", "P002"]
    broken = run("settle", "-", stdin=json.dumps(CONTRACT_EXAMPLE) + "\n{")
    assert (broken.returncode, broken.stdout) == (2, "")
    assert broken.stderr.startswith("error: line 2: not valid JSON")


def test_a_byte_order_mark_is_read_past(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(CONTRACT_EXAMPLE).encode())
    done = run("settle", str(path))
    assert done.returncode == 0 and json.loads(done.stdout)["person_id"] == "P001"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5000 + "]" * 5000, "not valid input: JSON nested too deeply"),
        ("", "holds no claim file"),
    ],
)
def test_odd_jsonl_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "odd.jsonl"
    path.write_text(text if text else "\n", "utf-8")
    done = run("settle", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_lone_surrogate_on_a_later_line_leaves_stdout_empty(tmp_path):
    # the first person settles; the second's item name cannot be printed as UTF-8
    bad = json.dumps(CONTRACT_EXAMPLE).replace('"name": "', '"name": "\\ud800', 1)
    path = tmp_path / "two.jsonl"
    path.write_text(json.dumps(CONTRACT_EXAMPLE) + "\n" + bad + "\n", "utf-8")
    done = run("settle", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert "line 2: claims[0].items[0].name: not valid Unicode text" in done.stderr


def test_missing_file_is_a_clear_error():
    done = run("settle", "/nonexistent/claims.json")
    assert (done.returncode, done.stdout) == (2, "")
    assert "cannot read" in done.stderr


def test_jsonl_file(tmp_path):
    second = json.loads(json.dumps(CONTRACT_EXAMPLE))
    second["person"]["id"] = "P002"
    path = tmp_path / "many.jsonl"
    path.write_text(json.dumps(CONTRACT_EXAMPLE) + "\n" + json.dumps(second) + "\n", "utf-8")
    done = run("settle", str(path))
    assert done.returncode == 0
    lines = done.stdout.strip().splitlines()
    assert [json.loads(line)["person_id"] for line in lines] == ["P001", "P002"]


def test_jsonl_error_names_the_line_and_prints_nothing(tmp_path):
    bad = json.loads(json.dumps(CONTRACT_EXAMPLE))
    bad["claims"][0]["items"][0]["quantity"] = 0
    path = tmp_path / "many.jsonl"
    path.write_text(json.dumps(CONTRACT_EXAMPLE) + "\n" + json.dumps(bad) + "\n", "utf-8")
    done = run("settle", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert "line 2: claims[0].items[0].quantity: must be > 0" in done.stderr


def test_stdin_json(example):
    done = run("settle", "-", stdin=example.read_text("utf-8"))
    assert done.returncode == 0
    assert json.loads(done.stdout)["person_id"] == "P001"


def test_a_region_overlay_applies_to_its_region_in_a_mixed_jsonl(tmp_path):
    # as in `yibao batch`: each person takes the overlays of their region
    examples = Path(__file__).parents[2] / "examples"
    tongliao = json.loads((examples / "tongliao_poor.json").read_text("utf-8"))
    fuxin = json.loads((examples / "fuxin_poor.json").read_text("utf-8"))
    mixed = tmp_path / "two.jsonl"
    mixed.write_text(json.dumps(tongliao) + "\n" + json.dumps(fuxin) + "\n", "utf-8")
    overlay = examples / "reforms" / "tongliao_poor_plus5.yaml"
    plain = [json.loads(line) for line in run("settle", str(mixed)).stdout.splitlines()]
    done = run("settle", str(mixed), "--policy", str(overlay))
    assert done.returncode == 0, done.stderr
    reformed = [json.loads(line) for line in done.stdout.splitlines()]
    assert reformed[1] == plain[1]  # Fuxin untouched
    assert reformed[0] != plain[0]  # Tongliao's poor person gains
    only_fuxin = tmp_path / "fuxin.jsonl"
    only_fuxin.write_text(json.dumps(fuxin) + "\n", "utf-8")
    refused = run("settle", str(only_fuxin), "--policy", str(overlay))
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "the overlay is for 'tongliao', which no person in the data is in" in refused.stderr


def test_a_byte_order_mark_on_stdin_and_empty_stdin():
    done = run("settle", "-", stdin="\ufeff" + json.dumps(CONTRACT_EXAMPLE))
    assert done.returncode == 0 and json.loads(done.stdout)["person_id"] == "P001"
    empty = run("settle", "-", stdin="")
    assert (empty.returncode, empty.stdout, empty.stderr) == (
        2,
        "",
        "error: -: holds no claim file\n",
    )


def test_a_person_on_two_lines_of_a_jsonl_is_refused_naming_the_lines(tmp_path):
    # each line settled as a history of its own: two fresh years, two annual caps (QA: 350.00
    # of pooling against Tongliao's 300); the claims belong on one line
    first = json.loads(json.dumps(CONTRACT_EXAMPLE))
    later = json.loads(json.dumps(CONTRACT_EXAMPLE))
    other = json.loads(json.dumps(CONTRACT_EXAMPLE))
    other["person"]["id"] = "P002"
    later["claims"] = [{**c, "id": c["id"] + "-B"} for c in later["claims"]]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps(f) for f in (first, other, later)) + "\n", "utf-8")
    done = run("settle", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip() == (
        "error: person P001 is on lines 1 and 3: one line per person, their claims settle as "
        "one history"
    )


def test_an_account_on_two_lines_of_a_jsonl_is_refused(tmp_path):
    # QA: two relatives each listing SH0's 300.00 account, and SH0 on a line of its own, were
    # paid 900.00 from it: each line is a history of its own, with the balance it was given
    def employee(pid: str, **person) -> dict:
        claim = {"id": "O1", "date": "2023-03-01", "med_type": "11", "hospital_level": 1}
        claim["items"] = [{"code": "A1", "name": "甲类", "category": "A", "price": "300.00"}]
        base = {"id": pid, "scheme": "employee", "employment": "in_service"}
        return {"region": "erenhot", "person": {**base, **person}, "claims": [claim]}

    relative = {"family_accounts": [{"holder": "SH0", "relation": "parent", "balance": "300.00"}]}
    for lines in (
        [employee("SH1", **relative), employee("SH2", **relative)],
        [employee("SH1", **relative), employee("SH0", account_balance="300.00")],
    ):
        path = tmp_path / "family.jsonl"
        path.write_text("\n".join(json.dumps(f) for f in lines) + "\n", "utf-8")
        done = run("settle", str(path))
        assert (done.returncode, done.stdout) == (2, ""), done.stdout
        assert done.stderr.startswith("error: the personal account of SH0 is on lines 1 and 2")


def test_a_file_that_is_not_json_is_named(tmp_path):
    # QA: "error: not valid JSON: …" did not say which file
    notes = tmp_path / "README.md"
    notes.write_text("# not a claim file\n", "utf-8")
    done = run("settle", str(notes))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {notes}: not valid JSON: Expecting value at line 1\n"


def test_a_bad_line_of_a_jsonl_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "claims.jsonl"
    path.write_text(json.dumps(CONTRACT_EXAMPLE) + "\n{\n", "utf-8")
    done = run("settle", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: {path}: line 2: not valid JSON")
