"""`yibao.policy.checks`: the citation checks `yibao policy validate` runs beyond the loader,
and the loader's one-line refusals of files it cannot read."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path

import pytest
import yaml

from tests.seeds import SEEDS
from yibao.policy.checks import known_ids, validate_file
from yibao.policy.loader import PolicyError, load_with_overlays, parse_region

TONGLIAO = (resources.files("yibao.policy") / "regions" / "tongliao.yaml").read_text("utf-8")
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seeds not found at {SEEDS}")


def _write(tmp_path: Path, raw, name: str = "edited.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return path


def _problems(tmp_path: Path, edit) -> list[str]:
    raw = copy.deepcopy(yaml.safe_load(TONGLIAO))
    edit(raw)
    return [
        f"{p.path}: {p.reason}"
        for p in validate_file(_write(tmp_path, raw), None, known_ids(SEEDS))
    ]


def _resident(raw):
    return raw["versions"][0]["schemes"]["resident"]


@needs_seeds
def test_the_packaged_region_files_pass():
    regions = resources.files("yibao.policy") / "regions"
    for name in ("tongliao", "qingdao", "fuxin", "erenhot", "liaoyang"):
        assert validate_file(Path(str(regions / f"{name}.yaml")), None, known_ids(SEEDS)) == []


@needs_seeds
def test_an_unknown_rule_id_is_named(tmp_path):
    def edit(raw):
        _resident(raw)["pooling"]["annual_cap"]["source"]["rule"] = "TL-99"

    assert _problems(tmp_path, edit) == [
        "versions[0].schemes.resident.pooling.annual_cap.source.rule: "
        "TL-99 is not a rule id of policy-facts.md"
    ]


@needs_seeds
def test_an_unknown_gap_id_is_named(tmp_path):
    def edit(raw):
        _resident(raw)["pooling"]["benefits"][0]["deductible"]["amount"]["reason"] = "G-TL-99"

    (problem,) = _problems(tmp_path, edit)
    assert problem.endswith(
        "deductible.amount.reason: G-TL-99 is not a gap of policy-facts.md or docs/gaps.md"
    )


@needs_seeds
def test_a_missing_seed_file_and_a_quote_not_in_the_seed(tmp_path):
    def edit(raw):
        cap = _resident(raw)["pooling"]["annual_cap"]["source"]
        cap["seed"] = "009_nothere.txt"
        _resident(raw)["pooling"]["benefits"][2]["source"]["quote"] = "不在种子里的话"

    problems = _problems(tmp_path, edit)
    assert any("annual_cap.source.seed: seed file 009_nothere.txt not found" in p for p in problems)
    assert any("benefits[2].source.quote: not verbatim in 000_" in p for p in problems)


@needs_seeds
def test_an_uncited_level_restriction_is_a_problem(tmp_path):
    def edit(raw):
        _resident(raw)["pooling"]["benefits"][2]["match"]["levels"] = [1]

    assert _problems(tmp_path, edit) == [
        "versions[0].schemes.resident.pooling.benefits[2].match.levels: uncited: write "
        "{value: ..., source: ...} or {value: ..., assumed: true, reason: G-...}"
    ]


def test_a_cited_level_restriction_is_the_plain_list_for_the_engine():
    policy = parse_region(TONGLIAO, "tongliao.yaml")
    match = policy.versions[0].schemes["resident"].pooling.benefits[2].match
    assert match.levels == [1]
    assert match.levels_cited.cite() == "assumed (G-TL-8)"


def test_a_version_change_of_cited_levels_needs_its_own_source():
    raw = yaml.safe_load(TONGLIAO)
    raw["versions"][0]["valid_to"] = "2017-12-31"
    change = {
        "schemes": {
            "resident": {
                "pooling": {"benefits": [{"id": "general_outpatient", "match": {"levels": [1, 2]}}]}
            }
        }
    }
    raw["versions"].append({"valid_from": "2018-01-01", "label": "x", "changes": change})
    with pytest.raises(PolicyError, match=r"match\.levels: changes a cited value without"):
        parse_region(yaml.safe_dump(raw, allow_unicode=True), "t.yaml")


@needs_seeds
def test_an_overlay_takes_its_region_from_the_file_or_the_option(tmp_path):
    overlay = tmp_path / "cap.yaml"
    overlay.write_text(
        "changes:\n  schemes:\n    resident:\n      pooling:\n        annual_cap: 400000\n", "utf-8"
    )
    known = known_ids(SEEDS)
    assert [p.path for p in validate_file(overlay, None, known)] == ["region"]
    assert validate_file(overlay, "tongliao", known) == []


def test_an_overlay_naming_an_unknown_benefit_id_says_so(tmp_path):
    overlay = tmp_path / "typo.yaml"
    overlay.write_text(
        "region: tongliao\nchanges:\n  schemes:\n    resident:\n      pooling:\n"
        "        benefits:\n          - id: inpatiant\n            ratio:\n"
        "              by_level: {3: 0.71}\n",
        "utf-8",
    )
    with pytest.raises(PolicyError) as caught:
        load_with_overlays("tongliao", (overlay,))
    assert str(caught.value) == (
        "typo.yaml: changes.schemes.resident.pooling.benefits[id=inpatiant]: no benefit with "
        "this id (known: inpatient, chronic_outpatient, general_outpatient)"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"\xff\xfeabc", "not UTF-8 text (byte 0xff at offset 0)"),
        (
            b"region: tongliao\nfrom: 2017-13-01\nchanges: {}\n",
            "line 2: '2017-13-01' is not a date (month must be in 1..12)",
        ),
        (b"region: tongliao\nchanges: [1, 2]\n", "changes: must be a mapping"),
    ],
)
def test_an_unreadable_overlay_is_one_policy_error(tmp_path, content, reason):
    overlay = tmp_path / "ov.yaml"
    if content is not None:
        overlay.write_bytes(content)
    with pytest.raises(PolicyError, match=r"^ov\.yaml: ") as caught:
        load_with_overlays("tongliao", (overlay,))
    assert reason in str(caught.value)


def test_a_directory_as_overlay_is_one_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="is a directory, not a policy file"):
        load_with_overlays("tongliao", (tmp_path,))


def test_an_impossible_valid_from_names_its_line():
    text = TONGLIAO.replace("valid_from: 2017-01-01", "valid_from: 2017-02-30", 1)
    with pytest.raises(PolicyError, match=r"^t.yaml: line \d+: '2017-02-30' is not a date"):
        parse_region(text, "t.yaml")
