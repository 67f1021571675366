"""`yibao simulate` says what its figures cover: a reform's `from:` day, persons the engine
refused, data that is not one year, an overlay that is not UTF-8, and every histogram bin."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from yibao.cli.main import OneLineErrors
from yibao.cli.simulate_cmd import simulate_command
from yibao.simulate.assumptions import PROJECTED_FUNDS, assumptions_for
from yibao.simulate.html import render_html
from yibao.simulate.measures import winners_losers
from yibao.simulate.run import simulate
from yibao.simulate.text import render_text
from yibao.synth.generate import Generator, Options
from yibao.synth.output import write

REGION = "erenhot"
PERSONS = 600

RAISE = """
region: erenhot
name: inpatient ratios +5 points
{start}changes:
  schemes:
    employee:
      pooling:
        benefits:
          - id: inpatient
            ratio:
              by_level: {{1: 0.95, 2: 0.93, 3: 0.90}}
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("population")
    write(Generator(Options(REGION, PERSONS, 2023, seed=5)), out, "parquet")
    return out


def _overlay(folder: Path, name: str, start: str | None = None) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(RAISE.format(start=f"from: {start}\n" if start else ""), "utf-8")
    return path


@pytest.fixture(scope="module")
def overlays(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("overlays")
    return {
        "all": _overlay(folder, "all"),
        "next_year": _overlay(folder, "next_year", "2024-01-01"),
        "july": _overlay(folder, "july", "2023-07-01"),
    }


def _run(data: Path, overlay: Path) -> dict:
    return simulate(data, REGION, overlay, assumptions_for(REGION))


def _cli(*args: str):
    app = typer.Typer()
    app.command(cls=OneLineErrors)(simulate_command)
    return CliRunner().invoke(app, list(args))


def _projected_outlay(report: dict, run: str) -> Decimal:
    return sum(
        (f[run] for f in report["outlay"]["funds"] if f["fund"] in PROJECTED_FUNDS), Decimal(0)
    )


# 1. a reform with a `from:` day


def test_a_reform_starting_after_the_data_is_said_not_priced(data, overlays):
    full = _run(data, overlays["all"])
    assert full["outlay"]["total"]["difference"] > 0  # the same changes do cost something
    report = _run(data, overlays["next_year"])
    assert report["reform"]["from"] == "2024-01-01"
    assert report["outlay"]["total"]["difference"] == 0
    # no claim was settled under the reform version: its changes were not applied to the data
    assert report["policy_changes"] == []
    assert report["reform"]["reaches"] == "none"
    note = report["population"]["notes"][0]
    assert "starts on 2024-01-01, after the data's last claim (2023-12-31)" in note
    assert "do not price it" in report["headline"]
    assert "unchanged" not in report["headline"]
    text = render_text(report).splitlines()
    assert "in force from 2024-01-01" in text[0]
    assert text[2] == f"note: {note}"  # at the top, right under the data line
    page = render_html(report)
    assert "in force from 2024-01-01" in page
    assert page.index("after the data&#x27;s last claim") < page.index("class='headline'")
    assert "The overlay changes no value." in page
    # nor is its 0 a yearly figure (QA: the card read "+0.00 yuan/yr")
    assert report["outlay"]["difference_over"].startswith("reaching no claim of the data")
    assert "+0.00 yuan/yr" not in page and "+0.00 yuan" in page


def test_a_reform_from_mid_year_records_its_version_and_is_not_called_a_year(data, overlays):
    report = _run(data, overlays["july"])
    pop = report["population"]
    # before: the baseline's versions only (["erenhot/2023-01-01"])
    assert set(pop["policy_versions"]) == {"erenhot/2023-01-01", "erenhot/2023-07-01"}
    assert pop["baseline_policy_versions"] == ["erenhot/2023-01-01"]
    assert pop["reform_policy_versions"] == ["erenhot/2023-01-01", "erenhot/2023-07-01"]
    assert report["reform"]["reaches"] == "part"
    assert {c["version"] for c in report["policy_changes"]} == {"erenhot/2023-07-01"}
    diff = report["outlay"]["total"]["difference"]
    assert 0 < diff < _run(data, overlays["all"])["outlay"]["total"]["difference"]
    assert "yuan/yr" not in report["headline"]
    assert "over the claims from 2023-07-01 on, not a year" in report["headline"]
    assert any("inside the data" in note for note in pop["notes"])
    text = render_text(report)
    assert "reform run erenhot/2023-01-01, erenhot/2023-07-01" in text.splitlines()[1]
    assert "in force from 2023-07-01" in render_html(report)
    card = render_html(report).split("change in fund outlay")[1].split("</div>")[0]
    assert "yuan/yr" not in card and "from 2023-07-01 on" in card


def test_a_reform_without_from_reaches_all_and_is_a_year(data, overlays):
    report = _run(data, overlays["all"])
    assert report["reform"]["from"] is None and report["reform"]["reaches"] == "all"
    assert report["population"]["notes"] == []
    assert report["population"]["period"] == {
        "first_claim": report["population"]["period"]["first_claim"],
        "last_claim": "2023-12-31",
        "days": report["population"]["period"]["days"],
        "months": 12,
        "one_year": True,
    }
    assert "yuan/yr more" in report["headline"]
    assert report["projection"]["outlay_scale"] is None
    year1 = report["projection"]["years"][0]
    assert year1["outlay_reform"] == _projected_outlay(report, "reform")


# 2. persons the engine refused


@pytest.fixture(scope="module")
def refused_data(data, tmp_path_factory) -> tuple[Path, set[str]]:
    """The population with the first claim of every tenth person moved to 2016 (before any
    Erenhot policy: the engine refuses that person) and one person listed twice."""
    out = tmp_path_factory.mktemp("refused")
    persons = pl.read_parquet(data / "persons.parquet")
    lines = pl.read_parquet(data / "claim_lines.parquet")
    with_claims = lines.get_column("person_id").unique().sort()
    moved = set(with_claims.gather_every(10).to_list())
    twice = with_claims[5]
    dates = [c for c, t in lines.schema.items() if t == pl.Date]
    hit = pl.col("person_id").is_in(list(moved)) & (pl.col("claim_id") == "C0001")
    lines = lines.with_columns(
        pl.when(hit).then(pl.col(c).dt.offset_by("-7y")).otherwise(pl.col(c)).alias(c)
        for c in dates
    )
    pl.concat([persons, persons.filter(pl.col("person_id") == twice)]).write_parquet(
        out / "persons.parquet"
    )
    lines.write_parquet(out / "claim_lines.parquet")
    return out, moved | {twice}


def test_refused_persons_are_left_out_of_every_count(refused_data, overlays):
    directory, refused = refused_data
    report = _run(directory, overlays["all"])
    pop, burden = report["population"], report["burden"]
    assert pop["refused_persons"] == len(refused)
    # before: 601 persons (the refused counted with burden 0, the twice-listed twice)
    assert pop["persons"] == PERSONS - len(refused)
    total = burden["total"]
    assert total["persons"] == pop["persons"]
    per_capita = total["burden_baseline"] / pop["persons"]
    assert total["per_capita_baseline"] == per_capita.quantize(Decimal("0.01"))
    cat = report["catastrophic"]
    assert cat["rate_baseline_pct"] == (
        Decimal(cat["persons_baseline"] * 100) / pop["persons"]
    ).quantize(Decimal("0.01"))
    wl = report["winners_losers"]
    assert wl["gaining"]["persons"] + wl["losing"]["persons"] + wl["unchanged"] == pop["persons"]
    # contribution income of the settled persons only
    schemes = pl.read_parquet(directory / "persons.parquet").filter(
        ~pl.col("person_id").is_in(list(refused))
    )
    counts = dict(schemes.group_by("scheme").len().iter_rows())
    income = sum(report["projection"]["contribution_per_person"][s] * n for s, n in counts.items())
    assert report["projection"]["years"][0]["income"] == income
    note = pop["notes"][0]
    assert note.startswith(f"{len(refused)} persons refused by the engine")
    text = render_text(report).splitlines()
    assert text[2] == f"note: {note}"
    assert not any("refused" in line for line in text[3:])  # said once, at the top
    page = render_html(report)
    assert "persons refused by the engine" in page
    assert page.index("refused by the engine") < page.index("class='headline'")


def test_every_person_refused_is_an_error_and_writes_nothing(data, overlays, tmp_path):
    persons = pl.read_parquet(data / "persons.parquet")
    lines = pl.read_parquet(data / "claim_lines.parquet")
    dates = [c for c, t in lines.schema.items() if t == pl.Date]
    persons.write_parquet(tmp_path / "persons.parquet")
    lines.with_columns(pl.col(c).dt.offset_by("-7y") for c in dates).write_parquet(
        tmp_path / "claim_lines.parquet"
    )
    report = tmp_path / "r.html"
    args = ("--reform", str(overlays["all"]), "--data", str(tmp_path), "--report", str(report))
    result = _cli(REGION, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and not report.exists()
    assert "the engine refused every person of 'erenhot' with claims" in result.stderr
    assert "no policy in force on 2016-" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# 3. data that is not one year


def test_part_year_data_is_said_and_its_projection_scaled_as_assumed(overlays, tmp_path):
    # Erenhot's first policy starts 2022-10-01: synth writes 1 Oct – 31 Dec 2022 only
    write(Generator(Options(REGION, 300, 2022, seed=3)), tmp_path, "parquet")
    report = _run(tmp_path, overlays["all"])
    period = report["population"]["period"]
    assert (period["first_claim"], period["last_claim"]) == ("2022-10-01", "2022-12-31")
    assert (period["days"], period["months"], period["one_year"]) == (92, 3, False)
    (note,) = report["population"]["notes"]
    assert note.startswith("data covers 92 days, 2022-10-01 … 2022-12-31")
    assert "not per year" in note and "assumed" in note
    assert "yuan/yr" not in report["headline"]
    proj = report["projection"]
    assert proj["outlay_scale"] == "12/3" and proj["outlay_basis"].startswith("assumed:")
    year1 = proj["years"][0]
    assert year1["outlay_baseline"] == 4 * _projected_outlay(report, "baseline")
    assert year1["outlay_reform"] == 4 * _projected_outlay(report, "reform")
    text = render_text(report)
    assert "Per-capita burden (yuan/person/the data's period)" in text
    assert "year-1 outlay: assumed:" in text
    assert "× 12/3" in render_html(report)


# 4. an overlay that is not UTF-8


def test_a_gbk_overlay_is_one_line_exit_2_and_writes_nothing(data, tmp_path):
    overlay = tmp_path / "gbk.yaml"
    overlay.write_bytes("region: erenhot\nname: 测试\nchanges: {}\n".encode("gbk"))
    report = tmp_path / "r.html"
    result = _cli(REGION, "--reform", str(overlay), "--data", str(data), "--report", str(report))
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and not report.exists()
    assert result.stderr.strip() == "error: gbk.yaml: not UTF-8 text (byte 0xb2 at offset 22)"


# 5. the histogram


def test_the_histogram_has_every_bin_from_the_lowest_to_the_highest():
    persons = pl.DataFrame(
        {
            "person_id": ["a", "b", "c", "d", "e"],
            "scheme": ["resident"] * 5,
            "employment": [None] * 5,
            "categories": [[]] * 5,
            "psn_part_amt_fen": [0] * 5,
            "psn_part_amt_fen_reform": [0] * 5,
            "burden_change_fen": [-340_000, -200_000, -130_000, 0, 5_000],
        }
    )
    bins = winners_losers(persons)["histogram"]
    assert bins[0]["from"] <= Decimal("-3400") < bins[0]["to"]
    assert bins[-1]["from"] <= Decimal("50") < bins[-1]["to"]
    assert all(a["to"] == b["from"] for a, b in pairwise(bins))
    assert sum(b["persons"] for b in bins) == 4
    assert [b["persons"] for b in bins].count(0) == len(bins) - 4  # the empty bins are there
