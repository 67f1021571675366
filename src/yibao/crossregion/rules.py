"""The cross-region rules of `rules.yaml` as validated, cited models.

Every value is a `Cited*` model (`yibao.policy.provenance`): a seed quote with its rule id, or
`assumed: true` with the gap it fills. Sources may omit `seed:`; it is filled from the rule
id's prefix (TL → seed 000, QD → 001, FX → 002, EH → 003, LY → 004).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml

from yibao.policy.loader import fill_seeds, validated
from yibao.policy.provenance import (
    CitedChoice,
    CitedCount,
    CitedFlag,
    CitedMoney,
    Cites,
    Strict,
)

FilingKind = Literal["residence", "referral", "temporary"]


class RulesError(ValueError):
    """A packaged rules file that does not validate (a bug in the package, not user input)."""


class SettlementRules(Strict):
    catalogue_from: CitedChoice
    benefits_from: CitedChoice
    marks_out_of_region: CitedFlag


class FilingKindRule(Cites):
    """One kind of 备案 and whether it makes the claim count as referred (G-TL-3)."""

    name: str
    counts_as_referral: CitedFlag


class FilingRules(Strict):
    kinds: dict[FilingKind, FilingKindRule]
    unfiled_counts_as_referral: CitedFlag


class ClearingRules(Strict):
    amount: CitedChoice
    period: CitedChoice


class Benchmark(Strict):
    id: str
    label: str
    visits: CitedCount
    amount: CitedMoney | None = None


class CrossRegionRules(Strict):
    settlement: SettlementRules
    filing: FilingRules
    clearing: ClearingRules
    benchmarks: list[Benchmark]


def parse_rules(text: str, name: str = "rules.yaml") -> CrossRegionRules:
    return validated(CrossRegionRules, fill_seeds(yaml.safe_load(text)), name, RulesError)


@cache
def load_rules() -> CrossRegionRules:
    """The packaged cross-region rules (read once)."""
    text = (resources.files("yibao.crossregion") / "rules.yaml").read_text("utf-8")
    return parse_rules(text)
