"""`yibao policy list | show | diff`."""

from __future__ import annotations

import json

from tests.cli.test_settle_cli import run


def test_list_shows_every_region_and_its_versions():
    done = run("policy", "list")
    assert done.returncode == 0
    for region in ["tongliao", "qingdao", "fuxin", "erenhot", "liaoyang"]:
        assert region in done.stdout
    assert "2019-01-01 → 2019-12-31" in done.stdout and "2020-01-01 → open" in done.stdout


def test_show_json_gives_every_value_with_source_or_assumed():
    done = run("policy", "show", "tongliao", "--date", "2018-06-01", "--format", "json")
    assert done.returncode == 0
    out = json.loads(done.stdout)
    assert out["version"] == "tongliao/2017-01-01"
    values = {v["path"]: v for v in out["values"]}
    cap = values["schemes.resident.pooling.annual_cap"]
    assert cap["value"] == "300000 元" and cap["source"].startswith("TL-04 000_")
    ded = values["schemes.resident.pooling.benefits[inpatient].deductible.amount"]
    assert ded["assumed"] == "assumed (G-TL-1)"
    assert all(("source" in v) or ("assumed" in v) for v in out["values"])


def test_show_text_and_unknown_date():
    done = run("policy", "show", "fuxin", "--date", "2020-03-01")
    assert done.returncode == 0 and "fuxin/2020-01-01" in done.stdout
    early = run("policy", "show", "fuxin", "--date", "2010-01-01")
    assert early.returncode == 2 and early.stdout == ""
    assert "no policy in force on 2010-01-01" in early.stderr


def test_diff_between_fuxin_2019_and_2020():
    done = run("policy", "diff", "fuxin", "--from", "2019-06-01", "--to", "2020-06-01")
    assert done.returncode == 0
    assert "ratio_floor" in done.stdout  # FX-12: 70% for the rural poor from 2020
    assert "FX-12" in done.stdout


def test_unknown_region():
    done = run("policy", "show", "atlantis")
    assert done.returncode == 2 and "unknown region 'atlantis'" in done.stderr


def test_diff_and_settle_under_a_reform_overlay(tmp_path):
    reform = tmp_path / "reform.yaml"
    reform.write_text(
        "region: tongliao\nchanges:\n  schemes:\n    resident:\n      pooling:\n"
        "        annual_cap: 400000\n",
        "utf-8",
    )
    done = run(
        "policy",
        "diff",
        "tongliao",
        "--from",
        "2017-01-01",
        "--to",
        "2017-01-01",
        "--policy",
        str(reform),
    )
    assert done.returncode == 0
    assert "~ schemes.resident.pooling.annual_cap: 300000 元 → 400000 元" in done.stdout
    assert "reform overlay reform.yaml" in done.stdout
    assert len([line for line in done.stdout.splitlines() if line[:2] in ("~ ", "+ ", "- ")]) == 1
