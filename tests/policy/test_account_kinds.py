"""`account.not_for_kinds`: the catalogue kinds a personal account may not pay for, cited like
every policy value (EH-08 in Erenhot, LY-25/LY-31 in Liaoyang, assumed in Qingdao)."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from yibao.policy.loader import PolicyError, load_region, parse_region

EMPLOYEE_ACCOUNT = ("versions", 0, "schemes", "employee", "account")


@pytest.mark.parametrize(
    ("region", "cited"),
    [("erenhot", "EH-08"), ("liaoyang", "LY-25"), ("qingdao", "assumed (G-QD-14")],
)
def test_employee_accounts_do_not_pay_daily_goods(region, cited):
    for version in load_region(region).versions:
        rule = version.schemes["employee"].account.not_for_kinds
        assert rule.value == ["daily_goods"]
        assert cited in rule.cite()


def test_an_uncited_kind_list_fails_at_load():
    raw = yaml.safe_load(
        (resources.files("yibao.policy") / "regions" / "erenhot.yaml").read_text("utf-8")
    )
    node = raw
    for key in EMPLOYEE_ACCOUNT:
        node = node[key]
    node["not_for_kinds"] = {"value": ["daily_goods"]}
    with pytest.raises(PolicyError) as caught:
        parse_region(yaml.safe_dump(raw, allow_unicode=True), "bad.yaml")
    message = str(caught.value)
    assert "schemes.employee.account.not_for_kinds" in message
    assert "needs exactly one of `source:`" in message


def test_a_misspelt_kind_is_refused_not_matched_to_nothing(tmp_path):
    # QA: an overlay with [daily_good] silently let the account pay for goods again
    from yibao.policy.loader import load_with_overlays

    overlay = tmp_path / "typo.yaml"
    overlay.write_text(
        "changes:\n  schemes:\n    employee:\n      account:\n        not_for_kinds:\n"
        "          value: [daily_good]\n          assumed: true\n          reason: G-EH-1\n",
        "utf-8",
    )
    with pytest.raises(PolicyError, match=r"not_for_kinds\.value\[0\]: Input should be 'drug'"):
        load_with_overlays("erenhot", (overlay,))


def test_a_catalogue_kind_outside_the_list_is_refused():
    from yibao.catalog.load import _kind

    with pytest.raises(ValueError, match="kind 'daily_good' is not one of drug, service"):
        _kind("daily_good")
