"""The supervision rules' names, severities, parameters and policy basis, read from `rules.yaml`.

Every parameter is a cited value (`yibao.policy.provenance`): `source:` with a policy-facts rule
id and the seed's exact words, or `assumed: true` with the gap id (G-ALL-6).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from yibao.errors import first_error
from yibao.policy.loader import validated, yaml_of
from yibao.policy.provenance import (
    CitedChoice,
    CitedCount,
    CitedFactor,
    CitedMoney,
    CitedRatio,
    Cites,
    Provenance,
    Strict,
)

RULE_IDS = (
    "split_hospitalization",
    "bed_hanging",
    "overlapping_stays",
    "over_price_limit",
    "charge_outside_stay",
    "pharmacy_non_medical",
    "sex_age_mismatch",
    "duplicate_charge",
    "over_frequency",
    "two_places_one_day",
    "drug_substitution",
    "disease_substitution",
    "low_standard_admission",
    "deceased_person",
    "unenrolled_person",
    "institution_outlier",
)
Severity = Literal["low", "medium", "high"]


class SplitParams(Strict):
    window_days: CitedCount
    icd_chars: CitedCount
    ignore_icd_prefixes: CitedChoice


class BedHangingParams(Strict):
    min_stay_days: CitedCount
    min_idle_days: CitedCount
    min_idle_share: CitedRatio
    idle_kinds: CitedChoice
    inside_stay_med_types: CitedChoice


class OverlapParams(Strict):
    min_overlap_days: CitedCount


class PriceParams(Strict):
    tolerance_fen: CitedCount
    payment_standard_kinds: CitedChoice


class OutsideParams(Strict):
    grace_days: CitedCount


class PharmacyParams(Strict):
    goods_kinds: CitedChoice
    name_keywords: CitedChoice


class SexAgeParams(Strict):
    female_only_icd_prefixes: CitedChoice


class DuplicateParams(Strict):
    max_lines_per_day: CitedCount


class FrequencyParams(Strict):
    max_visits_per_month: CitedCount
    med_types: CitedChoice


class PlacesParams(Strict):
    max_institutions_per_day: CitedCount
    med_types: CitedChoice
    prescription_med_types: CitedChoice
    exempt_claim_flags: CitedChoice


class CitedIcdMap(Provenance):
    """Item-code prefixes → the ICD-10 prefixes (chapters, blocks) an item of the class treats."""

    value: dict[str, list[str]] = Field(min_length=1)


class DrugSubstitutionParams(Strict):
    drug_classes: CitedIcdMap
    med_types: CitedChoice


class DiseaseSubstitutionParams(Strict):
    med_types: CitedChoice


class LowStandardParams(Strict):
    max_stay_days: CitedCount
    max_total: CitedMoney
    outpatient_icd_prefixes: CitedChoice
    inpatient_codes: CitedChoice


class IdentityParams(Strict):
    grace_days: CitedCount


class InstitutionParams(Strict):
    readmission_days: CitedCount
    bc_categories: CitedChoice
    peer_area_chars: CitedCount
    min_admissions: CitedCount
    min_peers: CitedCount
    mad_floor_share: CitedRatio
    mad_floor_rate: CitedRatio
    min_score: CitedFactor


PARAM_MODELS: dict[str, type[Strict]] = {
    "split_hospitalization": SplitParams,
    "bed_hanging": BedHangingParams,
    "overlapping_stays": OverlapParams,
    "over_price_limit": PriceParams,
    "charge_outside_stay": OutsideParams,
    "pharmacy_non_medical": PharmacyParams,
    "sex_age_mismatch": SexAgeParams,
    "duplicate_charge": DuplicateParams,
    "over_frequency": FrequencyParams,
    "two_places_one_day": PlacesParams,
    "drug_substitution": DrugSubstitutionParams,
    "disease_substitution": DiseaseSubstitutionParams,
    "low_standard_admission": LowStandardParams,
    "deceased_person": IdentityParams,
    "unenrolled_person": IdentityParams,
    "institution_outlier": InstitutionParams,
}


class RuleSpec(Strict):
    name_zh: str
    name_en: str
    severity: Severity
    basis: Cites
    params: dict


class RegionSpec(Strict):
    seed: str
    basis: dict[str, Cites] = Field(default_factory=dict)
    params: dict[str, dict] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> RegionSpec:
        for rule in (*self.basis, *self.params):
            if rule not in RULE_IDS:
                raise ValueError(f"unknown rule {rule!r}")
        for cites in self.basis.values():
            if not cites.sources:
                raise ValueError("a region's basis needs `source:`")
        return self


class RulesFile(Strict):
    rules: dict[str, RuleSpec]
    regions: dict[str, RegionSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _all_rules(self) -> RulesFile:
        if sorted(self.rules) != sorted(RULE_IDS):
            raise ValueError(f"rules must be exactly {sorted(RULE_IDS)}")
        return self


class Rule:
    """One rule as it applies in one region: names, severity, typed parameters and basis."""

    def __init__(self, rule_id: str, spec: RuleSpec, region: RegionSpec | None) -> None:
        self.id = rule_id
        self.name_zh, self.name_en, self.severity = spec.name_zh, spec.name_en, spec.severity
        raw = dict(spec.params)
        if region is not None:
            raw.update(region.params.get(rule_id, {}))
        self.params = PARAM_MODELS[rule_id].model_validate(raw)
        basis = region.basis.get(rule_id) if region else None
        if basis is not None:
            sources = [s.model_copy(update={"seed": s.seed or region.seed}) for s in basis.sources]
            basis = Cites(source=sources)
        self.basis = basis or spec.basis

    def p(self, name: str):
        """A parameter's value (`Decimal` ratios become floats for polars)."""
        value = getattr(self.params, name).value
        return float(value) if isinstance(value, Decimal) else value  # float-ok: not money

    def fen(self, name: str) -> int:
        """A money parameter (`CitedMoney`, yuan in the YAML) in integer fen."""
        return getattr(self.params, name).fen

    def basis_text(self) -> str:
        """The policy basis and the parameters with their provenance, one line."""
        parts = [self.basis.cite()]
        for name in type(self.params).model_fields:
            cited = getattr(self.params, name)
            value = cited.value
            if isinstance(value, dict):
                value = [f"{k}:{'/'.join(v)}" for k, v in value.items()]
            shown = "|".join(value) if isinstance(value, list) else str(value)
            parts.append(f"{name}={shown} [{cited.cite()}]")
        return "; ".join(parts)


class RulesError(ValueError):
    pass


def parse_rules(text: str, file: str = "rules.yaml") -> RulesFile:
    parsed = validated(RulesFile, yaml_of(text, file, RulesError), file, RulesError)
    try:
        for rule_id, spec in parsed.rules.items():
            for region in (None, *parsed.regions.values()):
                Rule(rule_id, spec, region)
    except ValidationError as exc:
        raise RulesError(f"{file}: {first_error(exc)}") from None
    return parsed


@cache
def packaged_rules() -> RulesFile:
    text = (resources.files("yibao.supervision") / "rules.yaml").read_text("utf-8")
    return parse_rules(text)


@cache
def rules_for(region: str) -> dict[str, Rule]:
    """Every rule as it applies in `region` (defaults where the region has no entry)."""
    data = packaged_rules()
    spec = data.regions.get(region)
    return {rule_id: Rule(rule_id, data.rules[rule_id], spec) for rule_id in RULE_IDS}
