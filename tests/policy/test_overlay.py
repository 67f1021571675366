"""Reform overlays: a partial YAML merged over the packaged policy changes exactly what it names."""

from __future__ import annotations

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


def _rows(policy):
    return {r.path: r for r in flatten(policy.versions[0])}


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
    expected = (
        r"changes\.schemes\.employee\.medical_assistance\.programs\[id=dibao\]: "
        "the policy has no such blocks here"
    )
    with pytest.raises(PolicyError, match=expected):
        load_with_overlays("erenhot", (overlay,))
