"""Institution payment terms per region, read from the packaged `terms.yaml`.

Every number is a `Cited*` value (`yibao.policy.provenance`): a seed quote, or `assumed: true`
with the gap it fills (G-LY-7 budget bands, G-LY-8 deposit and assessment, G-LY-9 single-disease
prices) or "no seed number". Nothing here loads without saying where it came from.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, field_validator, model_validator

from yibao.policy.loader import validated, yaml_of
from yibao.policy.provenance import (
    CitedChoice,
    CitedCount,
    CitedFactor,
    CitedFlag,
    CitedLevelMoney,
    CitedMoney,
    CitedRatio,
    Cites,
    Provenance,
    Source,
    Strict,
    nodes_of,
)


class DepositTerms(Strict):
    """G-LY-8: share withheld from each monthly payable, returned by score at year-end."""

    share: CitedRatio
    full_return_score: CitedCount
    pharmacy_veto_forfeits: CitedFlag


class AssessmentTerms(Strict):
    """LY-24/LY-25/LY-32/QD-28: score thresholds and the sanction types an outcome may carry."""

    exposure_below: CitedCount
    suspension_below: CitedCount
    suspension_months: CitedCount
    sanction_types: CitedChoice

    @model_validator(mode="after")
    def _ordered(self) -> AssessmentTerms:
        if self.suspension_below.value > self.exposure_below.value:
            raise ValueError("suspension_below must not exceed exposure_below")
        return self


class BudgetTerms(Strict):
    """G-LY-7: the bands of the year-end global-budget settlement."""

    overspend_band: CitedRatio
    overspend_fund_share: CitedRatio
    surplus_band: CitedRatio
    surplus_keep: CitedRatio


class DrgGroup(Strict):
    """One group of the demo grouper: a main diagnosis prefix and, for surgical groups, one of
    the procedures (ICD-9-CM-3 prefixes, matched against the stay's procedure codes)."""

    code: str = Field(min_length=2, max_length=10)
    name: str
    icd_prefixes: list[str] = Field(min_length=1)
    procedures: list[str] = Field(default_factory=list)
    weight: CitedFactor

    @field_validator("weight")
    @classmethod
    def _positive(cls, weight: CitedFactor) -> CitedFactor:
        if weight.value <= 0:
            raise ValueError("a DRG weight must be > 0")
        return weight


class DrgTerms(Strict):
    med_types: CitedChoice
    base_rate: CitedLevelMoney
    high_outlier: CitedFactor
    low_outlier: CitedFactor
    groups: list[DrgGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _checks(self) -> DrgTerms:
        if not self.low_outlier.value < 1 < self.high_outlier.value:
            raise ValueError("outlier multiples need low_outlier < 1 < high_outlier")
        codes = [g.code for g in self.groups]
        if len(set(codes)) != len(codes):
            raise ValueError("DRG group codes must be unique")
        return self


class SingleDisease(Cites):
    """LY-36..LY-40: one (institution, disease) settled per disease; G-LY-9: the price only
    from configuration (None → the stay is paid fee for service and flagged)."""

    institution: str
    institution_name: str
    disease: str
    icd_prefixes: list[str] = Field(min_length=1)
    price: CitedMoney | None = None


class CitedPartMonth(Provenance):
    """How a calendar month the agreement covers only in part is paid: the one rule named
    here is days covered / days in that month (so a term of N whole months pays N months)."""

    value: Literal["days_covered_over_days_in_month"]


class CapitationTerms(Strict):
    """EH-34: 按人头 for primary care; the rate, the visits it replaces, part months."""

    rate_per_head_year: CitedMoney
    med_types: CitedChoice
    part_month: CitedPartMonth


class VbpTerms(Strict):
    """QD-23/QD-24: manufacturers paid directly; the VBP budget surplus partly retained."""

    direct_to_manufacturer: CitedFlag
    retention_share: CitedRatio
    public_only: CitedFlag


class RegionTerms(Strict):
    basis: Cites
    deposit: DepositTerms
    assessment: AssessmentTerms
    budget: BudgetTerms
    drg: DrgTerms
    capitation: CapitationTerms
    vbp: VbpTerms
    single_disease: list[SingleDisease] = Field(default_factory=list)

    def single_disease_for(self, institution: str) -> list[SingleDisease]:
        return [s for s in self.single_disease if s.institution == institution]


class TermsFile(Strict):
    regions: dict[str, RegionTerms]


class TermsError(ValueError):
    """The terms file is not valid: one line, naming the place."""


def parse_terms(text: str, file: str = "terms.yaml") -> TermsFile:
    """Validate a terms file; every source must name its seed file."""
    raw = yaml_of(text, file, TermsError)
    if isinstance(raw, dict):
        raw.pop("defaults", None)
    parsed = validated(TermsFile, raw, file, TermsError)
    for source in nodes_of(parsed, Source):
        if not source.seed:
            raise TermsError(f"{file}: {source.rule}: every source needs `seed:`")
    return parsed


@cache
def packaged_terms() -> TermsFile:
    text = (resources.files("yibao.payment") / "terms.yaml").read_text("utf-8")
    return parse_terms(text)


def region_terms(region: str) -> RegionTerms:
    """The packaged terms of `region` (KeyError with the known regions otherwise)."""
    terms = packaged_terms().regions
    if region not in terms:
        raise KeyError(f"no payment terms for region {region!r} (known: {', '.join(terms)})")
    return terms[region]
