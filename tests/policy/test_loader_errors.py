"""Each kind of bad policy file fails at load with its own message naming file and path."""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml

from yibao.policy.loader import PolicyError, parse_region

BASE = yaml.safe_load(
    (resources.files("yibao.policy") / "regions" / "tongliao.yaml").read_text("utf-8")
)
RESIDENT = ("versions", 0, "schemes", "resident")


def _bad(edit) -> str:
    raw = copy.deepcopy(BASE)
    edit(raw)
    with pytest.raises(PolicyError) as caught:
        parse_region(yaml.safe_dump(raw, allow_unicode=True), "bad.yaml")
    return str(caught.value)


def _at(raw, *path):
    node = raw
    for key in path:
        node = node[key]
    return node


def _inpatient(raw):
    return _at(raw, *RESIDENT, "pooling", "benefits", 0)


def test_the_packaged_file_is_fine():
    assert parse_region(yaml.safe_dump(BASE, allow_unicode=True), "ok.yaml").region == "tongliao"


def test_ratio_above_one():
    def edit(raw):
        _inpatient(raw)["ratio"]["by_level"]["by_level"][3] = 1.5

    message = _bad(edit)
    assert message.startswith("bad.yaml: ")
    assert "pooling.benefits[0].ratio.by_level.by_level[3]" in message
    assert "must be between 0 and 1" in message


def test_segments_not_contiguous():
    def edit(raw):
        _at(raw, *RESIDENT, "critical_illness", "segments", "bands")[1]["lower"] = 60000

    message = _bad(edit)
    assert "critical_illness.segments.bands" in message
    assert "sorted and contiguous" in message


def test_segments_out_of_order():
    def edit(raw):
        bands = _at(raw, *RESIDENT, "critical_illness", "segments", "bands")
        bands[0], bands[1] = bands[1], bands[0]

    assert "sorted and contiguous" in _bad(edit)


def test_last_segment_must_be_open():
    def edit(raw):
        _at(raw, *RESIDENT, "critical_illness", "segments", "bands")[2]["upper"] = 900000

    assert "the last band must be open-ended" in _bad(edit)


def test_segments_must_start_at_the_deductible():
    def edit(raw):
        _at(raw, *RESIDENT, "critical_illness", "deductible")["value"] = 10000

    assert "segments start at 12000 but the deductible is 10000" in _bad(edit)


def _two_versions(raw, start: str, end_first: str) -> None:
    import datetime as dt

    raw["versions"][0]["valid_to"] = dt.date.fromisoformat(end_first)
    raw["versions"].append(
        {
            "valid_from": dt.date.fromisoformat(start),
            "valid_to": None,
            "label": "later",
            "changes": {},
        }
    )


def test_versions_with_a_gap():
    message = _bad(lambda raw: _two_versions(raw, "2020-01-05", "2019-12-31"))
    assert "versions[1].valid_from" in message and "leaves a gap after" in message


def test_versions_that_overlap():
    message = _bad(lambda raw: _two_versions(raw, "2019-06-01", "2019-12-31"))
    assert "versions[1].valid_from" in message and "overlaps" in message


def test_only_the_newest_version_is_open():
    def edit(raw):
        _two_versions(raw, "2020-01-01", "2019-12-31")
        raw["versions"][0]["valid_to"] = None

    assert "only the newest version may be open" in _bad(edit)


def test_unknown_key_is_rejected():
    def edit(raw):
        _inpatient(raw)["deductable"] = 5

    message = _bad(edit)
    assert "benefits[0].deductable" in message and "Extra inputs are not permitted" in message


def test_a_number_without_provenance():
    def edit(raw):
        del _at(raw, *RESIDENT, "pooling", "annual_cap")["source"]

    message = _bad(edit)
    assert "pooling.annual_cap" in message and "needs exactly one of" in message


def test_assumed_without_reason():
    def edit(raw):
        del _inpatient(raw)["deductible"]["amount"]["reason"]

    assert "needs a `reason:`" in _bad(edit)


def test_bad_rule_id():
    def edit(raw):
        _at(raw, *RESIDENT, "pooling", "annual_cap")["source"]["rule"] = "TL5"

    assert "is not of the form TL-05" in _bad(edit)


def test_missing_hospital_level():
    def edit(raw):
        del _inpatient(raw)["deductible"]["amount"]["by_level"][2]

    assert "needs exactly the levels 1, 2 and 3" in _bad(edit)


def test_layer_order_names_an_unknown_layer():
    def edit(raw):
        _at(raw, *RESIDENT, "layer_order")["value"].append("lottery")

    message = _bad(edit)
    assert "layer_order" in message and "lottery" in message


def test_layer_order_names_a_missing_block():
    def edit(raw):
        del _at(raw, *RESIDENT)["poverty_top_up"]

    assert "names 'poverty_top_up' but the scheme has no poverty_top_up" in _bad(edit)


def test_a_version_change_must_cite_its_new_value():
    import datetime as dt

    def edit(raw):
        raw["versions"][0]["valid_to"] = dt.date(2019, 12, 31)
        raw["versions"].append(
            {
                "valid_from": dt.date(2020, 1, 1),
                "valid_to": None,
                "label": "2020",
                "changes": {"schemes": {"resident": {"pooling": {"annual_cap": {"value": 1}}}}},
            }
        )

    message = _bad(edit)
    assert "versions[1].changes.schemes.resident.pooling.annual_cap" in message
    assert "without its own source" in message


def test_invalid_yaml():
    with pytest.raises(PolicyError) as caught:
        parse_region("region: [unclosed", "broken.yaml")
    assert str(caught.value).startswith("broken.yaml: line ")
