"""Flags → planned cases (natural keys, grouping), precision numbers, workflow.yaml sources."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.cases.helpers import flag, flags
from tests.seeds import SEEDS
from yibao.cases.flags import HeldCase, finding_of, natural_key, parse_flags, plan_import
from yibao.cases.params import workflow_params
from yibao.cases.precision import precision_table
from yibao.service.errors import ServiceError


def test_the_natural_key_ignores_claim_order_and_all_but_rule_region_person_institution_claims():
    a, b, c, d = flags(
        flag(claims=("C2", "C1"), amount_fen=5),
        flag(claims=("C1", "C2"), amount_fen=7, evidence={"value": 9}),
        flag(claims=("C1", "C2"), institution="H002"),
        flag(claims=("C1", "C2"), rule="over_price_limit"),
    )
    assert natural_key(a) == natural_key(b)
    assert len({natural_key(a), natural_key(c), natural_key(d)}) == 3


def test_flags_of_one_key_share_a_case_and_known_keys_open_nothing():
    # two findings in one claim (other evidence: e.g. two lines billed twice) add up
    a, b, c = flags(
        flag(claims=("C1",)), flag(claims=("C1",), evidence={"value": 3}), flag(claims=("C2",))
    )
    planned = plan_import([a, b, c], known=set()).new
    assert [len(p.parts) for p in planned] == [2, 1]
    assert planned[0].amount_at_risk_fen == 20_000  # two flags of 100.00 yuan
    assert plan_import([a, b, c], known={natural_key(a), natural_key(c)}).new == []


def test_the_same_flag_given_twice_counts_once():
    # two runs' output concatenated (QA: a 23.00 finding became a 46.00 case)
    a, again = flags(flag(claims=("C1",)), flag(claims=("C1",)))
    planned = plan_import([a, again], known=set()).new
    assert [(len(p.parts), p.amount_at_risk_fen) for p in planned] == [(1, 10_000)]


def test_a_person_flag_names_a_known_region():
    with pytest.raises(ServiceError, match=r"flags\[0\]\.region: .*unknown region 'atlantis'"):
        parse_flags([flag(region="atlantis")])
    with pytest.raises(ServiceError, match="a flag naming a person names its region"):
        parse_flags([{k: v for k, v in flag().items() if k != "region"}])


def test_an_institution_level_flag_is_keyed_by_its_evidence_too():
    # institution_outlier names no person and no claim: the same finding is one case, the
    # next period's (other evidence) another
    level = flag("institution_outlier", person=None, claims=(), evidence={"value": 9.5})
    same, later = flags(level, level)[1], flags({**level, "evidence": {"value": 7.0}})[0]
    assert natural_key(flags(level)[0]) == natural_key(same) != natural_key(later)


def test_grouping_joins_one_rule_person_and_institution():
    raw = flags(flag(claims=("C1",)), flag(claims=("C2",)), flag(claims=("C3",), person="P2"))
    planned = plan_import(raw, known=set(), group=True).new
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
    for source in [*params.basis.sources, *params.identity_rules.sources]:
        assert source.quote in (SEEDS / source.seed).read_text("utf-8"), source.quote


# ---------------------------------------------------------------- a later run of the rules
def visits(n: int) -> tuple[str, ...]:
    return tuple(f"G{d:02d}" for d in range(1, n + 1))


def held(case_id: int, status: str, *raw: dict) -> HeldCase:
    found = flags(*raw)
    return HeldCase(case_id, status, finding_of(found[0]), tuple(f.model_dump() for f in found))


def test_the_region_is_part_of_the_key():
    # P1 in Erenhot and P1 in Qingdao are two people (person ids are regional)
    here, there = flags(flag(region="erenhot"), flag(region="qingdao"))
    assert natural_key(here) != natural_key(there)


def test_a_flag_overlapping_an_open_case_updates_it_with_what_it_adds():
    # 13 visits in April: at risk the 13th (23.00); a later run sees 14: 23.00 + 24.00 = 47.00
    march = flag("over_frequency", claims=visits(13), amount_fen=2_300)
    april = flags(flag("over_frequency", claims=visits(14), amount_fen=4_700))
    plan = plan_import(april, known=set(), held=[held(1, "open", march)])
    assert plan.new == [] and list(plan.updates) == [1]
    (part,) = plan.updates[1]
    # 4,700 fen of the new flag - 2,300 the case holds = 2,400 fen, the 14th visit
    assert (part.claim_ids, part.amount_at_risk_fen, part.overlaps) == (("G14",), 2_400, (1,))


def test_a_flag_overlapping_a_reviewed_case_opens_only_what_is_new():
    march = flag("over_frequency", claims=visits(13), amount_fen=2_300)
    april = flags(flag("over_frequency", claims=visits(14), amount_fen=4_700))
    plan = plan_import(april, known=set(), held=[held(1, "reviewed", march)])
    assert plan.updates == {} and len(plan.new) == 1
    (case,) = plan.new
    assert (case.claim_ids, case.amount_at_risk_fen, case.extends) == (["G14"], 2_400, [1])
    stored = case.stored_flags()[0]
    assert stored["claim_ids"] == list(visits(14))  # the flag as printed, evidence intact
    assert stored["counted"] == {"claim_ids": ["G14"], "amount_at_risk_fen": 2_400, "overlaps": [1]}


def test_a_flag_adding_nothing_to_the_cases_holding_it_opens_nothing():
    # case 1 holds 13 visits (23.00), case 2 the 14th (24.00, counted of a 47.00 flag)
    first = flag("over_frequency", claims=visits(13), amount_fen=2_300)
    second = {
        **flag("over_frequency", claims=visits(14), amount_fen=4_700),
        "counted": {"claim_ids": ["G14"], "amount_at_risk_fen": 2_400, "overlaps": [1]},
    }
    stored = [held(1, "confirmed", first), held(2, "reviewed", second)]
    again = flags(flag("over_frequency", claims=visits(14), amount_fen=4_700))
    plan = plan_import(again, known=set(), held=stored)
    assert (plan.new, plan.updates) == ([], {})
    assert list(plan.covered.values()) == [2]  # the key points at the newest case holding it
    # a 15th visit (25.00): 7,200 - 2,300 - 2,400 = 2,500 fen, claim G15
    later = flags(flag("over_frequency", claims=visits(15), amount_fen=7_200))
    (case,) = plan_import(later, known=set(), held=stored).new
    assert (case.claim_ids, case.amount_at_risk_fen, case.extends) == (["G15"], 2_500, [1, 2])


def test_only_flags_of_the_same_rule_region_and_person_overlap():
    march = flag("over_frequency", claims=visits(13), amount_fen=2_300)
    others = flags(
        flag("two_places_one_day", claims=visits(14), amount_fen=4_700),
        flag("over_frequency", claims=visits(14), amount_fen=4_700, region="qingdao"),
        flag("over_frequency", claims=visits(14), amount_fen=4_700, person="P2"),
    )
    plan = plan_import(others, known=set(), held=[held(1, "open", march)])
    assert [c.amount_at_risk_fen for c in plan.new] == [4_700] * 3 and plan.updates == {}


def test_a_flag_naming_another_institution_still_overlaps_the_claims_it_shares():
    # two_places_one_day names the first of the day's places: a later run that finds one more
    # place (sorting first) names that one, yet its other claims are the case's
    day = flag("two_places_one_day", claims=("T0", "T1", "T2"), amount_fen=6_000)
    later = flags(
        flag("two_places_one_day", claims=("T0", "T1", "T2", "T3"), amount_fen=8_000,
             institution="A0")
    )  # fmt: skip
    (case,) = plan_import(later, known=set(), held=[held(1, "reviewed", day)]).new
    # 8,000 - 6,000 held = 2,000 fen, the claim T3 at A0
    assert (case.claim_ids, case.amount_at_risk_fen, case.first.institution) == (
        ["T3"], 2_000, "A0",
    )  # fmt: skip


def test_an_institution_level_flag_stored_under_an_older_key_is_not_opened_again():
    level = flag("institution_outlier", person=None, claims=(), evidence={"value": 9.5})
    stored = [held(1, "open", level)]
    plan = plan_import(flags(level), known=set(), held=stored)
    assert (plan.new, plan.updates, list(plan.covered.values())) == ([], {}, [1])
    later = flags({**level, "evidence": {"value": 7.0}})
    assert len(plan_import(later, known=set(), held=stored).new) == 1
