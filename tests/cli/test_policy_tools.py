"""`yibao policy list | show | diff | validate` on bad files and on the values a clerk must see."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from tests.cli.test_settle_cli import run
from tests.seeds import SEEDS
from yibao.cli import policy_cmd
from yibao.policy.loader import PolicyError

REGIONS = Path(__file__).resolve().parents[2] / "src" / "yibao" / "policy" / "regions"


def test_list_reports_a_bad_region_after_the_others(monkeypatch, capsys):
    real = policy_cmd.load_region

    def load(region):
        if region == "fuxin":
            raise PolicyError("fuxin.yaml", "versions[0]", "broken")
        return real(region)

    monkeypatch.setattr(policy_cmd, "load_region", load)
    with pytest.raises(typer.Exit) as done:
        policy_cmd.run_list()
    out, err = capsys.readouterr()
    assert done.value.exit_code == 2
    assert "tongliao" in out and "liaoyang" in out and "fuxin" not in out
    assert err == "error: fuxin.yaml: versions[0]: broken\n"


def test_show_prints_level_and_age_limits_with_their_gap():
    tongliao = run("policy", "show", "tongliao").stdout
    assert (
        "benefits[general_outpatient].match.levels = level 1 only\n      [assumed (G-TL-8)]"
        in tongliao
    )
    erenhot = run("policy", "show", "erenhot").stdout
    assert (
        "items[child_cerebral_palsy].max_age = up to age 17\n      [assumed (G-ALL-10)]" in erenhot
    )


def test_show_prints_a_block_s_settings_not_its_class_name():
    done = run("policy", "show", "erenhot")
    assert "CivilServant" not in done.stdout
    assert (
        "schemes.employee.civil_servant = med_types 21, 14; categories civil_servant" in done.stdout
    )


def test_diff_marks_a_change_of_source_only():
    done = run("policy", "diff", "fuxin", "--from", "2019-06-01", "--to", "2020-06-01")
    line = next(x for x in done.stdout.splitlines() if "tilts[rural_poor].ratio_points" in x)
    assert "10%, source changed: [FX-14 " in line and "→ [assumed (G-FX-2)]" in line


@pytest.mark.parametrize(
    "command", [["settle", "examples/tongliao_worked_example.json"], ["policy", "show", "tongliao"]]
)
def test_a_missing_or_directory_overlay_is_one_line(command, tmp_path):
    for overlay, reason in [
        (tmp_path / "nonexist.yaml", "no such file"),
        (tmp_path, "is a directory"),
    ]:
        done = run(*command, "--policy", str(overlay))
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith("error: ") and reason in done.stderr
        assert len(done.stderr.splitlines()) == 1


# `yibao policy validate` as main.py registers it
app = typer.Typer()


@app.command()
def validate(
    paths: list[Path],
    region: Annotated[str | None, typer.Option("--region")] = None,
    seeds: Annotated[Path | None, typer.Option("--seeds")] = None,
) -> None:
    policy_cmd.run_validate(paths, region, seeds)


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seeds not found at {SEEDS}")
def test_validate_prints_ok_or_one_line_per_problem(tmp_path):
    edited = tmp_path / "tongliao.yaml"
    text = (REGIONS / "tongliao.yaml").read_text("utf-8")
    edited.write_text(text.replace("rule: TL-04", "rule: TL-99", 1), "utf-8")
    done = CliRunner().invoke(app, [str(REGIONS / "fuxin.yaml"), str(edited)])
    assert done.exit_code == 2
    assert done.output.splitlines() == [
        f"ok: {REGIONS / 'fuxin.yaml'}",
        f"{edited}: versions[0].schemes.resident.pooling.annual_cap.source.rule: "
        "TL-99 is not a rule id of policy-facts.md",
    ]


def test_validate_without_seeds_is_one_line(tmp_path):
    done = CliRunner().invoke(app, ["--seeds", str(tmp_path / "none"), str(REGIONS / "fuxin.yaml")])
    assert done.exit_code == 2 and "--seeds: seed folder" in done.output
