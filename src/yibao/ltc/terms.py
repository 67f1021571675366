"""The long-term care terms of `terms.yaml` as validated, cited models (Qingdao, G-QD-10)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import model_validator

from yibao.crossregion.rules import RulesError
from yibao.policy.loader import fill_seeds, validated
from yibao.policy.provenance import (
    CitedCount,
    CitedFlag,
    CitedMoney,
    CitedRatio,
    Cites,
    Provenance,
    Strict,
)

CareType = Literal["home", "institution", "hospital"]
Scheme = Literal["employee", "resident"]


class Level(Strict):
    """One disability level of the assessment and whether it is covered."""

    name: str
    eligible: CitedFlag


class CareTerms(Cites):
    """A form of care: priced per day or per hour, with a daily cap on the units."""

    name: str
    unit: Literal["day", "hour"]
    rate: CitedMoney
    max_units_per_day: CitedCount


class LtcTerms(Strict):
    region: str
    eligibility: Provenance
    levels: dict[int, Level]
    levels_basis: Provenance
    care_types: dict[CareType, CareTerms]
    fund_share: dict[Scheme, CitedRatio]
    max_episode_days: CitedCount

    @model_validator(mode="after")
    def _complete(self) -> LtcTerms:
        if set(self.care_types) != {"home", "institution", "hospital"}:
            raise ValueError("care_types needs home, institution and hospital")
        if set(self.fund_share) != {"employee", "resident"}:
            raise ValueError("fund_share needs employee and resident")
        return self


def parse_terms(text: str, name: str = "terms.yaml") -> LtcTerms:
    return validated(LtcTerms, fill_seeds(yaml.safe_load(text)), name, RulesError)


@cache
def load_terms() -> LtcTerms:
    """The packaged long-term care terms (read once)."""
    return parse_terms((resources.files("yibao.ltc") / "terms.yaml").read_text("utf-8"))
