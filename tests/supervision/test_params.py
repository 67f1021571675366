"""The packaged supervision parameters: every number cited, every quote in its region's seed."""

from __future__ import annotations

import pytest

from tests.seeds import SEEDS
from yibao.policy.loader import load_region, packaged_regions
from yibao.policy.provenance import Provenance
from yibao.supervision.params import RULE_IDS, RulesError, packaged_rules, parse_rules, rules_for


def test_every_rule_has_names_severity_and_cited_params() -> None:
    data = packaged_rules()
    assert set(data.rules) == set(RULE_IDS)
    for region in packaged_regions():
        for rule in rules_for(region).values():
            assert rule.name_zh and rule.name_en and rule.severity in ("low", "medium", "high")
            for name in type(rule.params).model_fields:
                cited = getattr(rule.params, name)
                assert isinstance(cited, Provenance)
                assert cited.source or (cited.assumed and cited.reason == "G-ALL-6")
            assert rule.basis_text()


def test_contract_rule_ids_and_g_all_6_thresholds() -> None:
    rules = rules_for("fuxin")
    assert rules["split_hospitalization"].p("window_days") == 15
    assert rules["split_hospitalization"].p("icd_chars") == 3
    assert rules["bed_hanging"].p("min_stay_days") == 3
    assert rules["bed_hanging"].p("min_idle_days") == 3


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed documents not available")
def test_region_quotes_are_exact_substrings_of_the_regions_seed() -> None:
    data = packaged_rules()
    assert data.regions
    for region, spec in data.regions.items():
        assert spec.seed == load_region(region).seed
        text = (SEEDS / spec.seed).read_text("utf-8")
        for cites in spec.basis.values():
            for source in cites.sources:
                assert source.quote in text, (region, source.quote)


def test_rules_file_is_validated() -> None:
    text = (
        "rules:\n  split_hospitalization:\n    name_zh: x\n    name_en: x\n    severity: high\n"
        "    basis: {assumed: true, reason: G-ALL-6}\n    params: {window_days: {value: 15}}\n"
    )
    with pytest.raises(RulesError):
        parse_rules(text)
    base = packaged_rules().model_dump(mode="json", exclude_defaults=False)
    base["rules"]["split_hospitalization"]["params"]["window_days"] = {"value": 15}
    import yaml

    with pytest.raises(RulesError, match="window_days"):
        parse_rules(yaml.safe_dump(base, allow_unicode=True))


def test_new_rules_parameters() -> None:
    rules = rules_for("qingdao")
    assert rules["low_standard_admission"].fen("max_total") == 150_000  # 1,500 yuan
    assert rules["low_standard_admission"].p("max_stay_days") == 3
    assert rules["drug_substitution"].p("drug_classes")["XN05"] == ["F"]
    assert rules["institution_outlier"].p("min_score") == 6
    assert rules["deceased_person"].p("grace_days") == 0
    # Liaoyang cites its seed for the substitutions, the others fall back to G-ALL-6
    assert rules_for("liaoyang")["disease_substitution"].basis.sources[0].rule == "LY-29"
    assert rules["disease_substitution"].basis.assumed


def test_a_drug_class_map_needs_provenance() -> None:
    import yaml

    base = packaged_rules().model_dump(mode="json", exclude_defaults=False)
    base["rules"]["drug_substitution"]["params"]["drug_classes"] = {"value": {"XA10": ["E11"]}}
    with pytest.raises(RulesError, match="drug_classes"):
        parse_rules(yaml.safe_dump(base, allow_unicode=True))


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed documents not available")
def test_default_parameter_quotes_are_exact_substrings_of_their_seed() -> None:
    # a default parameter may cite a seed of its own (`seed:` in the source): the
    # two-places exclusions cite Erenhot's 双通道 (EH-32) and 转诊 (EH-42) sentences
    cited = 0
    for spec in packaged_rules().rules.values():
        for name, raw in spec.params.items():
            for source in Provenance.model_validate(
                {k: v for k, v in raw.items() if k != "value"}
            ).sources:
                assert source.seed, name
                assert source.quote in (SEEDS / source.seed).read_text("utf-8"), name
                cited += 1
    assert cited >= 2


def test_two_places_exclusions_are_cited_parameters() -> None:
    rule = rules_for("qingdao")["two_places_one_day"]
    assert rule.p("prescription_med_types") == ["41"]
    assert rule.p("exempt_claim_flags") == ["referral"]
    assert rule.params.prescription_med_types.sources[0].rule == "EH-32"
    assert rule.params.exempt_claim_flags.sources[0].rule == "EH-42"
    assert "EH-32 003_4bef5791700317d1.txt" in rule.basis_text()
