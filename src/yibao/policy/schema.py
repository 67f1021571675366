"""The shape of a region's policy: one validated model per policy concept.

A `PolicyVersion` is what the engine settles against. Each supplementary layer has its own
block; the scheme's `layer_order` names which layers run, in which order.
"""

from __future__ import annotations

import types
import typing
from datetime import date
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from yibao.catalog.model import Kind
from yibao.policy.provenance import (
    CitedAge,
    CitedBands,
    CitedChoice,
    CitedEmploymentMoney,
    CitedFactor,
    CitedFlag,
    CitedLevelMoney,
    CitedLevelRatio,
    CitedLevels,
    CitedMoney,
    CitedPoints,
    CitedRatio,
    Cites,
    Level,
    Provenance,
    Source,
    Strict,
    split_cited,
)

Category = Literal[
    "poverty_registered",
    "dibao",
    "tekun",
    "severely_disabled",
    "disabled_child",
    "civil_servant",
    "low_income_marginal",
]
Scheme = Literal["employee", "resident"]
MedType = Literal["11", "14", "21", "41"]
LayerName = Literal[
    "large_expense",
    "civil_servant",
    "critical_illness",
    "medical_assistance",
    "poverty_top_up",
    "commercial",
]
LAYER_NAMES: tuple[str, ...] = LayerName.__args__  # type: ignore[attr-defined]


class Disease(Strict):
    """A named disease of a policy list; matched on the claim's `disease` or ICD-10 prefixes.

    `source` quotes the seed where it names the disease; the ICD-10 mapping is always ours.
    """

    code: str
    name: str
    icd: list[str] = Field(default_factory=list)
    # ICD prefixes that bear out the disease when the claim names it (`disease:`), without
    # selecting it from the diagnoses alone: ICD-10 has no code for multidrug resistance, so
    # a pulmonary TB (A15) claimed as 耐多药结核 is no substitution (supervision reads them)
    named_with: list[str] = Field(default_factory=list)
    group: str | None = None  # e.g. hypertension / diabetes for Qingdao's 两病 cap
    # `max_age: {value: 17, assumed: true, reason: ...}`: the seed says 儿童, not the age
    max_age: int | None = None
    max_age_cited: CitedAge | None = None
    sex: Literal["M", "F"] | None = None
    source: Source | None = None

    @model_validator(mode="before")
    @classmethod
    def _cited_max_age(cls, data: Any) -> Any:
        return split_cited(data, "max_age")


class DiseaseList(Provenance):
    """A disease list with the provenance of the list as a whole."""

    name: str
    items: list[Disease] = Field(min_length=1)


class Tilt(Cites):
    """A special-population adjustment of a benefit (倾斜): deductible factor, ratio points."""

    id: str
    categories: list[Category] = Field(min_length=1)
    # an empty list would read as "every level", a level 4 as "none": both switch a rule
    levels: list[Level] | None = Field(default=None, min_length=1)
    in_region_only: bool = False
    deductible_factor: CitedFactor | None = None
    ratio_points: CitedPoints | None = None


class Waiver(Provenance):
    """An exception that removes the deductible (取消起付线), declared on the rule it modifies."""

    id: str
    name: str
    categories: list[Category] | None = None
    levels: list[Level] | None = Field(default=None, min_length=1)
    in_region_only: bool = False
    primary_diagnosis_prefixes: list[str] | None = None
    # Counted over this year's earlier admissions: "same_level" or a diagnosis code.
    min_prior_admissions: int | None = None
    prior_admissions_by: Literal["same_level", "diagnosis", "any"] = "any"
    diagnosis_codes: list[str] | None = None


class Deductible(Strict):
    """起付线: per admission or cumulative over the year, by hospital level."""

    basis: Literal["per_admission", "annual"]
    amount: CitedLevelMoney
    out_of_region: CitedMoney | None = None
    repeat_admission_factor: CitedFactor | None = None
    per_disease: bool = False


class PoolRatio(Strict):
    """The pooling fund's payment ratio by level, transfer-out and employment status."""

    by_level: CitedLevelRatio
    out_of_region_referred: CitedRatio | None = None
    out_of_region_unreferred: CitedRatio | None = None
    retired_points: CitedPoints | None = None


class Cap(Strict):
    """An annual limit on what a benefit's fund pays (年度最高支付限额)."""

    id: str
    per_disease: bool = False
    amount: CitedMoney | None = None
    by_employment: CitedEmploymentMoney | None = None
    by_group: dict[str, CitedMoney] | None = None
    all_groups: CitedMoney | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> Cap:
        given = [self.amount, self.by_employment, self.by_group]
        if sum(x is not None for x in given) != 1:
            raise ValueError("a cap needs exactly one of amount, by_employment, by_group")
        return self


class BenefitMatch(Strict):
    """Which claims a pooling benefit settles, beyond its med_types."""

    diseases: DiseaseList | None = None
    # `levels: {value: [1], assumed: true, reason: G-TL-8}`: a restriction is policy too
    levels: list[Level] | None = Field(default=None, min_length=1)
    levels_cited: CitedLevels | None = None
    in_region_only: bool = False
    requires_person_flag: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _cited_levels(cls, data: Any) -> Any:
        return split_cited(data, "levels")


class PoolBenefit(Cites):
    """One basic-pooling benefit (住院统筹, 门诊统筹, 门诊慢特病, 两病...); first match wins."""

    id: str
    name: str
    med_types: list[MedType] = Field(min_length=1)
    match: BenefitMatch | None = None
    deductible: Deductible | None = None
    ratio: PoolRatio
    caps: list[Cap] = Field(default_factory=list)
    tilts: list[Tilt] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    counts_as_admission: bool = False
    overflow_to_large_expense: bool = False


class Pooling(Strict):
    """统筹基金: the benefits and the annual cap they share."""

    annual_cap: CitedMoney
    benefits: list[PoolBenefit] = Field(min_length=1)


class LargeExpense(Cites):
    """大额医疗费用补助 / 超限额补充: pays cost above the basic annual cap."""

    name: str
    med_types: list[MedType]
    ratio: CitedRatio
    combined_cap: CitedMoney


class CivilServant(Cites):
    """公务员医疗补助: a share of the in-scope personal burden above an annual deductible."""

    med_types: list[MedType]
    categories: list[Category]
    deductible: CitedMoney
    ratio: CitedRatio


class IllnessTilt(Cites):
    """A special-population change of the 大病 layer: threshold, ratios, cap."""

    id: str
    categories: list[Category] = Field(min_length=1)
    deductible_factor: CitedFactor | None = None
    ratio_points: CitedPoints | None = None
    ratio_floor: CitedRatio | None = None
    no_cap: CitedFlag | None = None


class CriticalIllness(Cites):
    """大病保险: tiered ratios on the year's cumulative in-scope personal burden."""

    name: str
    fund_pay_type: str | None = None
    med_types: list[MedType]
    deductible: CitedMoney
    segments: CitedBands
    cap: CitedMoney | None = None
    tilts: list[IllnessTilt] = Field(default_factory=list)

    @model_validator(mode="after")
    def _segments_start_at_deductible(self) -> CriticalIllness:
        first = self.segments.bands[0].lower
        if first != self.deductible.value:
            raise ValueError(
                f"segments start at {first} but the deductible is {self.deductible.value}"
            )
        return self


class AssistanceProgram(Cites):
    """One 医疗救助 programme: who, for which diseases, at what ratio, within which limit."""

    id: str
    name: str
    categories: list[Category] = Field(min_length=1)
    diseases: DiseaseList | None = None
    ratio: CitedRatio
    annual_limit: CitedMoney
    limit_group: str | None = None


class MedicalAssistance(Cites):
    """医疗救助: the first matching programme pays a share of the in-scope self-pay."""

    med_types: list[MedType]
    programs: list[AssistanceProgram] = Field(min_length=1)


class PovertyTopUp(Cites):
    """兜底: funds together reach a floor share of the compliant in-scope cost."""

    name: str
    fund_pay_type: str = "640100"
    med_types: list[MedType]
    categories: list[Category] = Field(min_length=1)
    in_region_only: bool = False
    floor_share: CitedRatio


class CommercialPart(Strict):
    deductible: CitedMoney
    ratio: CitedRatio
    med_types: list[MedType]


class Commercial(Cites):
    """City commercial supplementary (惠民保 / 琴岛e保): last layer, may cover out-of-scope cost."""

    product: str
    name: str
    opt_in: CitedFlag
    in_scope: CommercialPart
    out_of_catalogue: CommercialPart | None = None
    annual_cap: CitedMoney


class CitedKinds(Provenance):
    """Catalogue kinds (`catalog.model.Kind`): a misspelt one would match no line, silently."""

    value: list[Kind] = Field(min_length=1)


class Account(Cites):
    """个人账户: pays the person's part; family mutual aid (共济) draws on relatives' accounts.

    `not_for_kinds`: catalogue kinds (the catalogue's `kind` column, e.g. `daily_goods`) the
    account may not pay for, own or relatives' (EH-08 "个人账户不得用于…养生保健消费等不属于基本
    医疗保险保障范围的支出"); lines of those kinds are left to cash. A line the catalogue does not
    list has no kind and stays payable.
    """

    med_types: list[MedType]
    family_mutual_aid: CitedFlag
    not_for_kinds: CitedKinds | None = None


class SchemePolicy(Strict):
    layer_order: CitedChoice
    pooling: Pooling
    large_expense: LargeExpense | None = None
    civil_servant: CivilServant | None = None
    critical_illness: CriticalIllness | None = None
    medical_assistance: MedicalAssistance | None = None
    poverty_top_up: PovertyTopUp | None = None
    commercial: Commercial | None = None
    account: Account | None = None

    @model_validator(mode="after")
    def _layers_exist(self) -> SchemePolicy:
        for name in self.layer_order.value:
            if name not in LAYER_NAMES:
                raise ValueError(f"layer_order names unknown layer {name!r}")
            if getattr(self, name) is None:
                raise ValueError(f"layer_order names {name!r} but the scheme has no {name}: block")
        if len(set(self.layer_order.value)) != len(self.layer_order.value):
            raise ValueError("layer_order names a layer twice")
        return self


class CatalogPolicy(Strict):
    """How catalogue classes turn into buckets when neither item nor catalogue says."""

    files: list[str] = Field(min_length=1)
    b_selfpay_ratio: CitedRatio
    waive_listed_b_selfpay: CitedFlag | None = None

    @field_validator("files")
    @classmethod
    def _packaged(cls, files: list[str]) -> list[str]:
        """A name is a packaged catalogue file: a missing one would fail mid-settlement, and a
        path (`../…`) would open a file outside the package."""
        known = packaged_catalogs()
        for name in files:
            if name not in known:
                raise ValueError(
                    f"{name!r} is not a packaged catalogue file (known: {', '.join(known)})"
                )
        return files


def packaged_catalogs() -> list[str]:
    """The catalogue files of `yibao.catalog`'s data folder, by plain file name."""
    folder = resources.files("yibao.catalog") / "data"
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".csv"))


class PolicyVersion(Strict):
    """Everything in force for a region between two dates."""

    valid_from: date
    valid_to: date | None = None
    label: str
    catalog: CatalogPolicy
    schemes: dict[Scheme, SchemePolicy] = Field(min_length=1)


class RegionPolicy(Strict):
    """A region's dated versions, contiguous, the newest open-ended."""

    region: str
    name: str
    # 参保地医保区划 (6 digits) the national interface names the region by; optional for
    # policies written outside the package, whose answers then carry the region id
    admdvs: str | None = Field(default=None, pattern=r"^\d{6}$")
    seed: str
    description: str
    versions: list[PolicyVersion] = Field(min_length=1)

    def version_on(self, day: date) -> PolicyVersion:
        for version in self.versions:
            if version.valid_from <= day and (version.valid_to is None or day <= version.valid_to):
                return version
        first = self.versions[0].valid_from
        raise LookupError(f"{self.region} has no policy in force on {day} (first from {first})")

    def version_id(self, version: PolicyVersion) -> str:
        return f"{self.region}/{version.valid_from.isoformat()}"


def _models() -> list[type[BaseModel]]:
    return [m for m in globals().values() if isinstance(m, type) and issubclass(m, BaseModel)]


def _cited_fields() -> frozenset[str]:
    """Names of the fields that hold a cited value in some block (`ratio_floor`, `no_cap`):
    an overlay's plain value for one the policy lacks is cited as the overlay."""
    names = set()
    for model in _models():
        for name, field in model.model_fields.items():
            kinds = (field.annotation,)
            if typing.get_origin(field.annotation) in (typing.Union, types.UnionType):
                kinds = typing.get_args(field.annotation)  # `CitedRatio | None`, not lists
            cited = any(isinstance(k, type) and issubclass(k, Provenance) for k in kinds)
            if cited and not name.endswith("_cited"):  # `levels_cited` is written `levels`
                names.add(name)
    return frozenset(names)


CITED_FIELDS = _cited_fields()
# every key a policy block may have: another is a typo, for the schema to name
FIELDS = frozenset(name for model in _models() for name in model.model_fields)
