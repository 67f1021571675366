"""`yibao simulate`: baseline vs reform on one seeded synthetic population."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from yibao.batch.run import run_batch
from yibao.cli.main import OneLineErrors
from yibao.cli.simulate_cmd import simulate_command
from yibao.simulate.assumptions import assumptions_for
from yibao.simulate.html import render_html
from yibao.simulate.paired import FUNDS, base_col, reform_col, settle_pair
from yibao.simulate.run import simulate
from yibao.simulate.text import render_text
from yibao.synth.generate import Generator, Options
from yibao.synth.output import write

REGION = "erenhot"  # employees: in service, retired, flexible; categories
PERSONS = 2000

NOTHING = """
region: erenhot
name: changes nothing
changes:
  schemes:
    employee:
      pooling:
        benefits:
          - id: inpatient
            ratio:
              by_level: {1: 0.90, 2: 0.88, 3: 0.85}
"""

RAISE = """
region: erenhot
name: inpatient ratios +5 points, outpatient 80%
changes:
  schemes:
    employee:
      pooling:
        benefits:
          - id: inpatient
            ratio:
              by_level: {1: 0.95, 2: 0.93, 3: 0.90}
          - id: general_outpatient
            ratio:
              by_level: {1: 0.80, 2: 0.80, 3: 0.70}
"""

OTHER_REGION = "region: tongliao\nchanges: {}\n"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("population")
    write(Generator(Options(REGION, PERSONS, 2023, seed=11)), out, "parquet")
    return out


@pytest.fixture(scope="module")
def overlays(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("overlays")
    paths = {}
    for name, text in (("nothing", NOTHING), ("raise", RAISE), ("other", OTHER_REGION)):
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_text(text, "utf-8")
    return paths


@pytest.fixture(scope="module")
def raised(data, overlays) -> dict:
    return simulate(data, REGION, overlays["raise"], assumptions_for(REGION))


def _cli(*args: str):
    app = typer.Typer()
    app.command(cls=OneLineErrors)(simulate_command)
    return CliRunner().invoke(app, list(args))


def test_an_overlay_that_changes_nothing_gives_zero_differences(data, overlays):
    report = simulate(data, REGION, overlays["nothing"], assumptions_for(REGION))
    zero = Decimal("0.00")
    assert all(f["difference"] == zero for f in report["outlay"]["funds"])
    assert report["outlay"]["total"]["difference"] == zero
    assert all(d["per_capita_difference"] == zero for d in report["burden"]["by_decile"])
    wl = report["winners_losers"]
    assert wl["gaining"]["persons"] == wl["losing"]["persons"] == 0
    assert wl["unchanged"] == PERSONS
    # the overlay re-states a value: listed (its citation changed), with the same value
    assert [(c["baseline"] == c["reform"]) for c in report["policy_changes"]] == [True]
    years = report["projection"]["years"]
    assert all(y["balance_baseline"] == y["balance_reform"] for y in years)


def test_raising_a_ratio_never_raises_anyones_burden(data, overlays):
    paired = settle_pair(data, REGION, overlays["raise"])
    assert paired.refused == {} and paired.unpaired_claims == 0
    assert paired.persons["burden_change_fen"].max() <= 0
    assert paired.persons["burden_change_fen"].min() < 0
    burden = paired.total(reform_col("psn_part_amt")) - paired.total(base_col("psn_part_amt"))
    assert burden < 0


@pytest.fixture(scope="module")
def batch_claims(data, overlays, tmp_path_factory) -> pl.DataFrame:
    """Every claim settled by `yibao batch` without and with the overlay, side by side: the
    per-claim truth the simulation's sums are checked against."""
    out = tmp_path_factory.mktemp("batch")
    run_batch(data, out / "base.parquet", progress=None)
    run_batch(data, out / "reform.parquet", (overlays["raise"],), progress=None)
    base = pl.read_parquet(out / "base.parquet")
    reform = pl.read_parquet(out / "reform.parquet")
    return base.join(reform, on=["person_id", "claim_id"], suffix="_reform", validate="1:1")


def test_outlay_rises_by_exactly_the_sum_of_per_claim_differences(raised, batch_claims):
    claims = batch_claims
    per_claim = claims.select(
        (pl.col(reform_col("fund_pay_sumamt")) - pl.col(base_col("fund_pay_sumamt"))).sum()
    ).item()
    total = raised["outlay"]["total"]["difference"]
    assert total > 0
    assert total == Decimal(per_claim) / 100
    assert raised["population"]["claims"] == claims.height
    by_fund = sum(f["difference"] for f in raised["outlay"]["funds"])
    assert by_fund == total
    for fund in FUNDS:
        diff = claims.select((pl.col(reform_col(fund)) - pl.col(base_col(fund))).sum()).item()
        row = next(f for f in raised["outlay"]["funds"] if f["fund"] == fund)
        assert row["difference"] == Decimal(diff) / 100
    for row in raised["outlay"]["pooling_by_med_type"]:
        mine = claims.filter(pl.col("med_type") == row["med_type"])
        diff = mine.select((pl.col(reform_col("hifp")) - pl.col(base_col("hifp"))).sum()).item()
        assert row["difference"] == Decimal(diff) / 100
    pooling = sum(p["difference"] for p in raised["outlay"]["pooling_by_med_type"])
    hifp = next(f for f in raised["outlay"]["funds"] if f["fund"] == "hifp")
    assert pooling == hifp["difference"]
    # the burden falls by what the funds pay more: medical cost is the same in both runs
    assert raised["outlay"]["personal_burden"]["difference"] == -total


def test_decile_category_and_scheme_tables_sum_to_the_totals(raised):
    burden, outlay = raised["burden"], raised["outlay"]
    assert len(burden["by_decile"]) == 10
    for table in ("by_decile", "by_category", "by_scheme"):
        rows = burden[table]
        assert sum(r["persons"] for r in rows) == PERSONS
        for key in ("burden_baseline", "burden_reform", "medical_cost"):
            assert sum(r[key] for r in rows) == burden["total"][key]
        for key in ("catastrophic_baseline", "catastrophic_reform"):
            assert sum(r[key] for r in rows) == burden["total"][key]
    assert burden["total"]["burden_baseline"] == outlay["personal_burden"]["baseline"]
    assert burden["total"]["burden_reform"] == outlay["personal_burden"]["reform"]
    assert burden["total"]["medical_cost"] == outlay["medical_cost"]
    groups = {r["group"] for r in burden["by_scheme"]}
    assert {"employee/in_service", "employee/retired"} <= groups
    wl = raised["winners_losers"]
    gained = wl["gaining"]["amount"] - wl["losing"]["amount"]
    assert gained == -outlay["personal_burden"]["difference"]
    assert sum(b["persons"] for b in wl["histogram"]) == PERSONS - wl["unchanged"]


def test_catastrophic_rate_follows_the_capacity_to_pay(data, overlays):
    low = simulate(data, REGION, overlays["raise"], assumptions_for(REGION, Decimal(500)))
    high = simulate(data, REGION, overlays["raise"], assumptions_for(REGION, Decimal(10**7)))
    assert low["catastrophic"]["threshold"] == Decimal("200.00")
    assert low["catastrophic"]["persons_baseline"] > 0
    assert high["catastrophic"]["persons_baseline"] == 0
    assert low["catastrophic"]["persons_reform"] <= low["catastrophic"]["persons_baseline"]


def test_json_output(data, overlays):
    result = _cli(
        REGION,
        "--reform",
        str(overlays["raise"]),
        "--data",
        str(data),
        "--format",
        "json",
        "--capacity-to-pay",
        "20000",
        "--years",
        "3",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {
        "region",
        "reform",
        "headline",
        "population",
        "outlay",
        "burden",
        "catastrophic",
        "winners_losers",
        "projection",
        "policy_changes",
    }
    assert [f["fund"] for f in report["outlay"]["funds"]] == list(FUNDS)
    assert report["catastrophic"]["capacity_to_pay"] == 20000
    assert report["catastrophic"]["threshold"] == 8000
    assert len(report["projection"]["years"]) == 3
    assert report["population"]["persons"] == PERSONS
    paths = {c["path"] for c in report["policy_changes"]}
    assert "schemes.employee.pooling.benefits[inpatient].ratio.by_level" in paths
    assert all(
        c["reform_provenance"] == "reform overlay raise.yaml" for c in report["policy_changes"]
    )
    # money is printed with exactly two decimals
    assert '"difference": ' in result.stdout
    total = report["outlay"]["total"]
    assert Decimal(str(total["reform"])) - Decimal(str(total["baseline"])) == Decimal(
        str(total["difference"])
    )


def test_html_report_and_text(data, overlays, raised, tmp_path):
    out = tmp_path / "report.html"
    result = _cli(
        REGION, "--reform", str(overlays["raise"]), "--data", str(data), "--report", str(out)
    )
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert raised["headline"].startswith("The reform costs the funds")
    assert raised["headline"].replace("(", "").split(";")[0] in page.replace("(", "")
    assert "plotly" in page.lower() and "<script" in page
    assert "ratio.by_level" in page and "reform overlay raise.yaml" in page
    assert raised["headline"] in result.stdout
    assert "Fund outlay" in render_text(raised)
    assert render_html(raised).count('class="plotly-graph-div"') == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reform", "{other}", "--data", "{data}"], "is for 'tongliao', not 'erenhot'"),
        (["--reform", "{raise}", "--data", "{missing}"], "not a directory"),
        (["--reform", "{raise}", "--data", "{empty}"], "needs persons.parquet"),
        (["--reform", "{raise}", "--data", "{data}", "--capacity-to-pay", "x"], "'x' must be yuan"),
        (  # typed as every amount is read (QA): not 1e5, 1_000 or +5
            ["--reform", "{raise}", "--data", "{data}", "--opening-balance", "1e5"],
            "--opening-balance: '1e5' must be yuan like 100.00",
        ),
        (["--reform", "{raise}", "--data", "{data}", "--capacity-to-pay", "1_000"], "'1_000'"),
        (  # 0.001 yuan per employee once became an income of 0.00, silently
            ["--reform", "{raise}", "--data", "{data}", "--contribution-employee", "0.001"],
            "more than two decimals",
        ),
    ],
)
def test_errors_are_one_line_exit_2(data, overlays, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    names = {
        "other": overlays["other"],
        "raise": overlays["raise"],
        "data": data,
        "missing": tmp_path / "missing",
        "empty": tmp_path / "empty",
    }
    result = _cli(REGION, *(a.format(**names) for a in args))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_claim_files_say_the_persons_without_claims_are_missing(overlays, tmp_path):
    # the same seed as tables and as claim files: the claim files lack the persons without
    # claims, and the report says so rather than quietly counting fewer persons
    write(Generator(Options(REGION, 300, 2023, seed=11)), tmp_path / "tables", "parquet")
    write(Generator(Options(REGION, 300, 2023, seed=11)), tmp_path / "files", "jsonl")
    both = {
        name: simulate(tmp_path / name, REGION, overlays["raise"], assumptions_for(REGION))
        for name in ("tables", "files")
    }
    assert both["tables"]["population"]["notes"] == []
    (note,) = both["files"]["population"]["notes"]
    assert note.startswith("claims.jsonl holds only persons with claims")
    assert both["files"]["population"]["persons"] < both["tables"]["population"]["persons"]
    assert both["files"]["outlay"] == both["tables"]["outlay"]  # the claims are the same
    assert f"note: {note}" in render_text(both["files"])
    assert "note: claims.jsonl" in render_html(both["files"])


def test_a_region_with_no_persons_in_the_data(data, tmp_path):
    overlay = tmp_path / "q.yaml"
    overlay.write_text("region: qingdao\nchanges: {}\n", "utf-8")
    result = _cli("qingdao", "--reform", str(overlay), "--data", str(data))
    assert result.exit_code == 2
    assert "no persons of region 'qingdao'" in result.stderr


EXAMPLES = Path(__file__).parents[2] / "examples" / "reforms"


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_reforms_load_and_change_something(example):
    from yibao.simulate.measures import policy_changes

    region = example.stem.split("_")[0]
    changes = policy_changes(region, example)
    assert changes and all(c["baseline"] != c["reform"] for c in changes)


def test_a_reform_from_mid_year_is_compared_with_the_version_it_splits(tmp_path):
    # `from:` splits the version in force (tongliao/2017-01-01 here): its second part is the
    # reform's own version, compared with the baseline version in force on its first day
    from yibao.simulate.measures import policy_changes

    text = (EXAMPLES / "tongliao_poor_plus5.yaml").read_text("utf-8")
    overlay = tmp_path / "from_july.yaml"
    overlay.write_text(text.replace("region: tongliao", "region: tongliao\nfrom: 2023-07-01"))
    changes = policy_changes("tongliao", overlay)
    assert {c["version"] for c in changes} == {"tongliao/2023-07-01"}
    assert [(c["baseline"], c["reform"]) for c in changes] == [("5%", "10%")]


def test_claims_whose_person_is_missing_are_counted_and_noted(data, overlays, tmp_path):
    persons = pl.read_parquet(data / "persons.parquet")
    lines = pl.read_parquet(data / "claim_lines.parquet")
    gone = persons.get_column("person_id")[:5]
    persons.filter(~pl.col("person_id").is_in(gone.implode())).write_parquet(
        tmp_path / "persons.parquet"
    )
    lines.write_parquet(tmp_path / "claim_lines.parquet")
    lost = lines.filter(pl.col("person_id").is_in(gone.implode())).select(
        pl.struct("person_id", "claim_id").n_unique()
    )
    report = simulate(tmp_path, REGION, overlays["nothing"], assumptions_for(REGION))
    assert report["population"]["claims_without_person"] == lost.item() > 0
    assert any("in no persons.parquet row" in note for note in report["population"]["notes"])


def test_an_unknown_region_or_unwritable_report_fails_before_the_run(data, overlays, tmp_path):
    result = _cli("beijing", "--reform", str(overlays["raise"]), "--data", str(data))
    assert result.exit_code == 2
    assert "region: unknown region 'beijing' (known: erenhot" in result.stderr
    report = tmp_path / "missing" / "r.html"
    args = ("--reform", str(overlays["nothing"]), "--data", str(data), "--report", str(report))
    result = _cli(REGION, *args)
    assert result.exit_code == 2 and "no such directory" in result.stderr
    assert result.stdout == ""  # nothing settled, nothing printed
    table = data / "persons.parquet"
    before = table.read_bytes()
    args = ("--reform", str(overlays["nothing"]), "--data", str(data), "--report", str(table))
    result = _cli(REGION, *args)  # the report would have replaced the population
    assert result.exit_code == 2 and "is the input table" in result.stderr
    assert table.read_bytes() == before
