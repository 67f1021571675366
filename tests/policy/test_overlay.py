"""Reform overlays: a partial YAML merged over the packaged policy changes exactly what it names."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import claim, fen, item, person
from yibao.engine.inputs import ClaimFile
from yibao.policy.flatten import flatten
from yibao.policy.loader import PolicyError, load_region, load_with_overlays
from yibao.settling import settle_file

REFORM = """
region: tongliao
name: deductible 800 at city level, poor +10 points
changes:
  schemes:
    resident:
      pooling:
        benefits:
          - id: inpatient
            deductible:
              amount:
                by_level: {3: 800}
            tilts:
              - id: poverty_registered
                ratio_points: 0.10
"""


@pytest.fixture
def reform(tmp_path: Path) -> Path:
    path = tmp_path / "reform.yaml"
    path.write_text(REFORM, "utf-8")
    return path


def _rows(policy, settings: bool = False):
    return {r.path: r for r in flatten(policy.versions[0], settings)}


def test_overlay_changes_exactly_what_it_names(reform):
    base, new = _rows(load_region("tongliao")), _rows(load_with_overlays("tongliao", (reform,)))
    changed = {
        p for p in base if (base[p].value, base[p].provenance) != (new[p].value, new[p].provenance)
    }
    prefix = "schemes.resident.pooling.benefits[inpatient]"
    assert changed == {
        f"{prefix}.deductible.amount",
        f"{prefix}.tilts[poverty_registered].ratio_points",
    }
    assert new[f"{prefix}.deductible.amount"].value == "L1 200 元 / L2 400 元 / L3 800 元"
    assert new[f"{prefix}.deductible.amount"].provenance == "reform overlay reform.yaml"


def test_overlay_changes_the_settlement(reform):
    # Level 3, in-scope 10000: base (10000 − 600) × 70% = 6580; reform (10000 − 800) × 70% = 6440.
    raw = {
        "region": "tongliao",
        "person": person(),
        "claims": [claim("C1", "2017-03-01", items=[item("10000")])],
    }
    base, _ = settle_file(ClaimFile.model_validate(raw))
    reformed, _ = settle_file(ClaimFile.model_validate(raw), (reform,))
    assert base[0].setlinfo.hifp_pay == fen("6580")
    assert reformed[0].setlinfo.hifp_pay == fen("6440")


def test_a_reform_from_a_date_leaves_the_claims_before_it_unchanged(tmp_path):
    # Tongliao has one open version from 2017-01-01; a reform from 2017-07-01 splits it there
    later = tmp_path / "later.yaml"
    later.write_text(REFORM + "from: 2017-07-01\n", "utf-8")
    policy = load_with_overlays("tongliao", (later,))
    spans = [(v.valid_from.isoformat(), v.valid_to) for v in policy.versions]
    assert spans[0][0] == "2017-01-01" and spans[0][1].isoformat() == "2017-06-30"
    assert spans[1] == ("2017-07-01", None)
    assert policy.versions[1].label.endswith("+ later.yaml from 2017-07-01")
    raw = {
        "region": "tongliao",
        "person": person(),
        "claims": [
            claim("C1", "2017-03-01", items=[item("10000")]),
            claim("C2", "2018-03-01", items=[item("10000")]),
        ],
    }
    settled, _ = settle_file(ClaimFile.model_validate(raw), (later,))
    # before 2017-07-01 the packaged rule: (10000 − 600) × 70%; a year later the reform's
    # (10000 − 800) × 70% (the worked figures of test_overlay_changes_the_settlement)
    assert [s.setlinfo.hifp_pay for s in settled] == [fen("6580"), fen("6440")]


@pytest.mark.parametrize("start", ['"2017-07-01"', "soon", "2017-07-01 10:00:00"])
def test_an_overlay_from_must_be_a_date(tmp_path, start):
    odd = tmp_path / "odd.yaml"
    odd.write_text(REFORM + f"from: {start}\n", "utf-8")
    if start.startswith('"'):  # a quoted date is still a date
        assert len(load_with_overlays("tongliao", (odd,)).versions) == 2
        return
    with pytest.raises(PolicyError, match=r"odd\.yaml: from: .* is not a date"):
        load_with_overlays("tongliao", (odd,))


def test_overlay_for_another_region_is_refused(reform, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(REFORM.replace("region: tongliao", "region: fuxin"), "utf-8")
    with pytest.raises(PolicyError, match="is for 'fuxin', not 'tongliao'"):
        load_with_overlays("tongliao", (other,))


def test_overlay_with_a_bad_value_fails_at_load(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(REFORM.replace("ratio_points: 0.10", "ratio_points: 7"), "utf-8")
    with pytest.raises(PolicyError, match="ratio_points"):
        load_with_overlays("tongliao", (bad,))


def test_a_level_table_can_be_patched_directly(tmp_path):
    overlay = tmp_path / "ratio.yaml"
    overlay.write_text(
        "changes:\n  schemes:\n    resident:\n      pooling:\n        benefits:\n"
        "          - id: inpatient\n            ratio:\n              by_level: {3: 0.71}\n",
        "utf-8",
    )
    rows = _rows(load_with_overlays("tongliao", (overlay,)))
    row = rows["schemes.resident.pooling.benefits[inpatient].ratio.by_level"]
    assert row.value == "L1 90% / L2 80% / L3 71%"
    assert row.provenance == "reform overlay ratio.yaml"


def test_an_error_in_the_merged_policy_names_the_overlay(tmp_path):
    # named where the analyst wrote it: the overlay's path, a list item by its id (QA: the
    # merged policy's `versions[0]…benefits[1].deductable` named neither)
    typo = tmp_path / "typo.yaml"
    typo.write_text(REFORM.replace("deductible:", "deductable:"), "utf-8")
    expected = (
        r"^typo.yaml: changes\.schemes\.resident\.pooling\.benefits\[id=inpatient\]"
        r"\.deductable: Extra inputs are not permitted$"
    )
    with pytest.raises(PolicyError, match=expected):
        load_with_overlays("tongliao", (typo,))
    # two overlays: the merged path, with the files it came through
    other = tmp_path / "other.yaml"
    other.write_text("changes: {}\n", "utf-8")
    with pytest.raises(PolicyError, match=r"^tongliao.yaml \+ typo.yaml \+ other.yaml: "):
        load_with_overlays("tongliao", (typo, other))


def test_an_overlay_cannot_add_a_scheme_the_region_does_not_run(tmp_path):
    # Erenhot's policy runs the employee scheme only: a resident part would lack all the rest
    overlay = tmp_path / "res.yaml"
    overlay.write_text("changes:\n  schemes:\n    resident:\n      pooling: {}\n", "utf-8")
    expected = r"res\.yaml: changes\.schemes\.resident: erenhot runs no resident scheme"
    with pytest.raises(PolicyError, match=expected):
        load_with_overlays("erenhot", (overlay,))


def test_an_overlay_cannot_bring_blocks_into_a_layer_the_scheme_lacks(tmp_path):
    # Erenhot's employees have no medical assistance: its programs would be a new layer
    overlay = tmp_path / "ma.yaml"
    overlay.write_text(
        "changes:\n  schemes:\n    employee:\n      medical_assistance:\n        programs:\n"
        "          - {id: dibao, ratio: 0.9}\n",
        "utf-8",
    )
    expected = r"changes\.schemes\.employee\.medical_assistance: the policy has no such block"
    with pytest.raises(PolicyError, match=expected):
        load_with_overlays("erenhot", (overlay,))


def _overlay(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


TILT_LEVELS = """
changes:
  schemes:
    resident:
      pooling:
        benefits:
          - id: chronic_outpatient
            tilts:
              - id: poverty_registered_county_and_below
                levels: LEVELS
"""


@pytest.mark.parametrize(
    ("levels", "reason"),
    [("[4]", "Input should be 1, 2 or 3"), ("[]", "List should have at least 1 item")],
)
def test_a_level_list_holds_hospital_levels_and_is_not_empty(tmp_path, levels, reason):
    # QA: level 4 switched the tilt off, an empty list switched it on at every level
    overlay = _overlay(tmp_path, "lv.yaml", TILT_LEVELS.replace("LEVELS", levels))
    where = r"tilts\[id=poverty_registered_county_and_below\]\.levels"
    with pytest.raises(PolicyError, match=rf"^lv\.yaml: changes\..*{where}.*: {reason}"):
        load_with_overlays("tongliao", (overlay,))


@pytest.mark.parametrize("table", ["{4: 0.95}", '{"3": 0.75}'])
def test_a_level_table_key_must_be_a_hospital_level(tmp_path, table):
    # QA: `by_level: {4: 0.95}` was refused as "Keys should be strings"
    overlay = _overlay(
        tmp_path,
        "l4.yaml",
        "changes:\n  schemes:\n    resident:\n      pooling:\n        benefits:\n"
        f"          - id: inpatient\n            ratio:\n              by_level: {table}\n",
    )
    expected = r"^l4\.yaml: .*benefits\[id=inpatient\]\.ratio\.by_level: .* is no hospital level"
    with pytest.raises(PolicyError, match=expected):
        load_with_overlays("tongliao", (overlay,))


@pytest.mark.parametrize(
    ("block", "text"),
    [
        ("large_expense", "name: 大额\n        med_types: ['21']\n        ratio: {value: 0.9}"),
        ("account", "med_types: ['11']\n        family_mutual_aid: {value: true}"),
    ],
)
def test_an_overlay_cannot_add_a_mapping_block(tmp_path, block, text):
    # QA: a new layer not in layer_order did nothing, while simulate listed it as a change
    overlay = _overlay(
        tmp_path,
        "add.yaml",
        f"changes:\n  schemes:\n    resident:\n      {block}:\n        {text}\n",
    )
    expected = rf"^add\.yaml: changes\.schemes\.resident\.{block}: the policy has no such block"
    with pytest.raises(PolicyError, match=expected):
        load_with_overlays("tongliao", (overlay,))


def test_an_overlay_sets_a_plain_value_the_version_lacks(tmp_path):
    # Fuxin's rural_poor 大病 tilt has no ratio_floor: a plain 0.80 is cited as the overlay
    overlay = _overlay(
        tmp_path,
        "floor.yaml",
        "changes:\n  schemes:\n    resident:\n      critical_illness:\n        tilts:\n"
        "          - id: rural_poor\n            ratio_floor: 0.80\n",
    )
    policy = load_with_overlays("fuxin", (overlay,))
    for version in policy.versions:
        tilt = next(
            t for t in version.schemes["resident"].critical_illness.tilts if t.id == "rural_poor"
        )
        assert tilt.ratio_floor.value == Decimal("0.8")
        assert tilt.ratio_floor.cite() == "reform overlay floor.yaml"


def test_an_overlay_sets_a_plain_flag_and_factor_the_policy_lacks(tmp_path):
    overlay = _overlay(
        tmp_path,
        "rep.yaml",
        "changes:\n  schemes:\n    resident:\n      pooling:\n        benefits:\n"
        "          - id: inpatient\n            deductible:\n"
        "              repeat_admission_factor: 0.5\n",
    )
    version = load_with_overlays("tongliao", (overlay,)).versions[0]
    inpatient = version.schemes["resident"].pooling.benefits[0]
    assert inpatient.deductible.repeat_admission_factor.cite() == "reform overlay rep.yaml"


@pytest.mark.parametrize("name", ["nonexistent.csv", "../../../../../etc/passwd"])
def test_an_overlay_names_only_packaged_catalogue_files(tmp_path, name):
    # QA: validate passed; settle then crashed (FileNotFoundError) or opened /etc/passwd
    overlay = _overlay(tmp_path, "cat.yaml", f"changes:\n  catalog:\n    files: ['{name}']\n")
    expected = r"^cat\.yaml: changes\.catalog\.files: .* is not a packaged catalogue file"
    with pytest.raises(PolicyError, match=expected):
        load_with_overlays("tongliao", (overlay,))


@pytest.mark.parametrize(
    "line", ["valid_from: 2023-06-01", "valid_to: 2023-03-31", "label: reformed"]
)
def test_an_overlay_cannot_change_a_versions_dates_or_label(tmp_path, line):
    overlay = _overlay(tmp_path, "dates.yaml", f"changes:\n  {line}\n")
    key = line.split(":")[0]
    with pytest.raises(PolicyError, match=rf"^dates\.yaml: changes\.{key}: an overlay changes"):
        load_with_overlays("tongliao", (overlay,))


def test_a_diff_lists_a_changed_uncited_setting(tmp_path):
    # QA: a tilt's levels are no cited number, so `policy diff` and simulate's policy_changes
    # did not list an overlay that changed them
    overlay = _overlay(tmp_path, "lv.yaml", TILT_LEVELS.replace("LEVELS", "[1, 2, 3]"))
    base = _rows(load_region("tongliao"), settings=True)
    new = _rows(load_with_overlays("tongliao", (overlay,)), settings=True)
    path = (
        "schemes.resident.pooling.benefits[chronic_outpatient]"
        ".tilts[poverty_registered_county_and_below].levels"
    )
    assert (base[path].value, new[path].value) == ("1, 2", "1, 2, 3")
    assert new[path].kind == "uncited"
    assert path not in _rows(load_region("tongliao"))  # `policy show`: cited values only
    # a cited value keeps its one row: no `.value` row beside it
    assert not any(p.endswith(".value") for p in new)
