"""Flags → planned cases (natural keys, grouping), precision numbers, workflow.yaml sources."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.cases.helpers import flag, flags
from tests.seeds import SEEDS
from yibao.cases.flags import natural_key, parse_flags, plan_cases
from yibao.cases.params import workflow_params
from yibao.cases.precision import precision_table
from yibao.service.errors import ServiceError


def test_the_natural_key_ignores_claim_order_and_everything_but_rule_person_institution_claims():
    a, b, c, d = flags(
        flag(claims=("C2", "C1"), amount_fen=5),
        flag(claims=("C1", "C2"), amount_fen=7, evidence={"value": 9}),
        flag(claims=("C1", "C2"), institution="H002"),
        flag(claims=("C1", "C2"), rule="over_price_limit"),
    )
    assert natural_key(a) == natural_key(b)
    assert len({natural_key(a), natural_key(c), natural_key(d)}) == 3


def test_flags_of_one_key_share_a_case_and_known_keys_open_nothing():
    a, b, c = flags(flag(claims=("C1",)), flag(claims=("C1",)), flag(claims=("C2",)))
    planned = plan_cases([a, b, c], known=set())
    assert [len(p.flags) for p in planned] == [2, 1]
    assert planned[0].amount_at_risk_fen == 20_000  # two flags of 100.00 yuan
    assert plan_cases([a, b, c], known={natural_key(a), natural_key(c)}) == []


def test_an_institution_level_flag_is_keyed_by_its_evidence_too():
    # institution_outlier names no person and no claim: the same finding is one case, the
    # next period's (other evidence) another
    level = flag("institution_outlier", person=None, claims=(), evidence={"value": 9.5})
    same, later = flags(level, level)[1], flags({**level, "evidence": {"value": 7.0}})[0]
    assert natural_key(flags(level)[0]) == natural_key(same) != natural_key(later)


def test_grouping_joins_one_rule_person_and_institution():
    raw = flags(flag(claims=("C1",)), flag(claims=("C2",)), flag(claims=("C3",), person="P2"))
    planned = plan_cases(raw, known=set(), group=True)
    assert [p.claim_ids for p in planned] == [["C1", "C2"], ["C3"]]
    assert len(planned[0].keys) == 2  # each flag's key still points at the case


def test_parse_flags_names_the_bad_field_and_keeps_new_fields():
    kept = parse_flags({"flags": [flag(new_measure=3)]})[0]
    assert kept.model_dump()["new_measure"] == 3
    with pytest.raises(ServiceError, match=r"flags\[1\]\.amount_at_risk_fen: "):
        parse_flags({"flags": [flag(), {**flag(), "amount_at_risk_fen": 12.5}]})
    with pytest.raises(ServiceError, match=r"flags\[0\]\.person_id: "):
        parse_flags([{**flag(), "person_id": ""}])
    with pytest.raises(ServiceError, match="expected"):
        parse_flags({"flag": []})
    level = flag("institution_outlier", person=None, claims=())
    both = parse_flags({"flags": [flag()], "institution_flags": [level]})
    assert [f.rule for f in both] == ["duplicate_charge", "institution_outlier"]
    with pytest.raises(ServiceError, match=r"institution_flags\[0\]\.amount_at_risk_fen"):
        parse_flags({"flags": [], "institution_flags": [{**level, "amount_at_risk_fen": -1}]})


def test_precision_is_confirmed_over_decided_per_rule_and_region():
    table = precision_table(
        [
            ("split_hospitalization", "erenhot", "confirmed", 2),
            ("split_hospitalization", "qingdao", "confirmed", 1),
            ("split_hospitalization", "qingdao", "dismissed", 1),
            ("split_hospitalization", "qingdao", None, 4),
            ("duplicate_charge", "erenhot", "confirmed", 1),
            ("duplicate_charge", "erenhot", "dismissed", 2),
            ("over_frequency", "fuxin", None, 3),
        ]
    )
    rules = {r["rule"]: r for r in table["rules"]}
    # 3 confirmed of 4 decided = 0.75; 1 of 3 = 0.33333… → 0.3333 (half-up, 4 places)
    assert rules["split_hospitalization"]["precision"] == Decimal("0.7500")
    assert rules["split_hospitalization"]["undecided"] == 4
    assert rules["duplicate_charge"]["precision"] == Decimal("0.3333")
    assert rules["over_frequency"]["precision"] is None  # nothing decided yet
    regions = {(r["rule"], r["region"]): r["precision"] for r in table["regions"]}
    assert regions[("split_hospitalization", "erenhot")] == Decimal("1.0000")
    assert regions[("split_hospitalization", "qingdao")] == Decimal("0.5000")


def test_workflow_parameters_are_cited():
    params = workflow_params()
    assert params.appeal_window_days.assumed and params.appeal_window_days.reason.startswith("G-")
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    for source in params.basis.sources:
        assert source.quote in (SEEDS / source.seed).read_text("utf-8"), source.quote
