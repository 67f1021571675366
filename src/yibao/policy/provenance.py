"""Where each policy number comes from: a seed quote, an explicit assumption, or a reform overlay.

Every number in a region file is wrapped in a `Cited*` model, so no value can be loaded
without saying where it came from (`source:` with the rule id of `policy-facts.md` and the
verbatim Chinese quote, or `assumed: true` with the gap id as `reason:`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from yibao.money import MoneyError, yuan_to_fen

RULE_ID = re.compile(r"^[A-Z]{2}-\d{2}$")


class Strict(BaseModel):
    """Base of every policy model: unknown keys are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """A rule of `policy-facts.md` and the exact words of the seed that state it."""

    rule: str
    quote: str = Field(min_length=2)
    seed: str | None = None  # filled from the region file's `seed:` when omitted

    @field_validator("rule")
    @classmethod
    def _rule_id(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError(f"rule id {value!r} is not of the form TL-05")
        return value

    def cite(self) -> str:
        return f"{self.rule} {self.seed}: {self.quote}"


class Cites(Strict):
    """A rule block that may cite the seed sentence creating it (a benefit, a layer, a tilt).

    At most one of `source`, `assumed` + `reason`, `overlay`; `cite()` is '' when none is given.
    """

    source: Source | list[Source] | None = None
    assumed: bool = False
    reason: str | None = None
    overlay: str | None = None

    @model_validator(mode="after")
    def _at_most_one(self) -> Cites:
        kinds = [self.source is not None, self.assumed, self.overlay is not None]
        if sum(kinds) > 1:
            raise ValueError("give only one of `source:`, `assumed: true` or `overlay:`")
        if self.assumed and not self.reason:
            raise ValueError("`assumed: true` needs a `reason:` (the gap id, e.g. G-TL-1)")
        if self.reason and not self.assumed:
            raise ValueError("`reason:` is only for `assumed: true`")
        return self

    @property
    def sources(self) -> list[Source]:
        if self.source is None:
            return []
        return self.source if isinstance(self.source, list) else [self.source]

    def cite(self) -> str:
        """One line naming where the value comes from, for traces and bills."""
        if self.overlay is not None:
            return f"reform overlay {self.overlay}"
        if self.assumed:
            return f"assumed ({self.reason})"
        return " … ".join(s.cite() for s in self.sources)


class Provenance(Cites):
    """A number: exactly one of `source` (seed), `assumed` + `reason` (gap), `overlay` (reform)."""

    @model_validator(mode="after")
    def _one_provenance(self) -> Provenance:
        kinds = [self.source is not None, self.assumed, self.overlay is not None]
        if sum(kinds) != 1:
            raise ValueError("needs exactly one of `source:`, `assumed: true` or `overlay:`")
        return self


def _check_ratio(value: Decimal) -> Decimal:
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"ratio {value} must be between 0 and 1")
    return value


def _check_yuan(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(f"amount {value} must be >= 0")
    try:
        yuan_to_fen(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    return value


Yuan = Annotated[Decimal, AfterValidator(_check_yuan)]
Ratio = Annotated[Decimal, AfterValidator(_check_ratio)]


class CitedMoney(Provenance):
    """An amount in yuan (as written in policy) with its provenance; `.fen` for the engine."""

    value: Yuan

    @property
    def fen(self) -> int:
        return yuan_to_fen(self.value)


class CitedRatio(Provenance):
    """A share in [0, 1] (a payment ratio, a floor share)."""

    value: Ratio


class CitedPoints(Provenance):
    """A change of a ratio in percentage points, as a fraction (+5 points = 0.05)."""

    value: Decimal = Field(ge=-1, le=1)


class CitedFactor(Provenance):
    """A multiplier of an amount (the poor's deductible ×0.5)."""

    value: Decimal = Field(ge=0, le=10)


class CitedCount(Provenance):
    """A whole number (days, visits, points, months, years) with its provenance."""

    value: int = Field(ge=0)


class CitedFlag(Provenance):
    """A yes/no policy switch (Liaoyang: some 乙类 first self-pay cancelled)."""

    value: bool


class CitedChoice(Provenance):
    """A choice among named options, e.g. the order of the supplementary layers."""

    value: list[str] = Field(min_length=1)


Level = Literal[1, 2, 3]
LEVELS: tuple[int, ...] = Level.__args__  # type: ignore[attr-defined]


class CitedLevels(Provenance):
    """The hospital levels a rule is limited to (门诊统筹 at level 1 only)."""

    value: list[Level] = Field(min_length=1)


class CitedAge(Provenance):
    """An age limit in whole years (儿童: up to 17)."""

    value: int = Field(ge=0, le=150)


def split_cited(data: Any, key: str) -> Any:
    """`key: {value: ..., source: ...}` → `key: value` plus its citation as `key_cited`.

    The engines read `key` as a plain value (a list of levels, an age); the citation stays
    beside it for `policy show` and the checks. A plain `key: value` stays valid, uncited.
    """
    if isinstance(data, dict) and isinstance(data.get(key), dict):
        cited = data[key]
        return {**data, key: cited.get("value"), f"{key}_cited": cited}
    return data


def _complete_levels(table: dict[int, Decimal]) -> dict[int, Decimal]:
    if sorted(table) != [1, 2, 3]:
        raise ValueError(f"by_level needs exactly the levels 1, 2 and 3, got {sorted(table)}")
    return table


class CitedLevelMoney(Provenance):
    """An amount for each hospital level (1 township/community, 2 county, 3 city and above)."""

    by_level: dict[Level, Yuan]

    _complete = field_validator("by_level")(_complete_levels)

    def fen(self, level: int) -> int:
        return yuan_to_fen(self.by_level[level])


class CitedLevelRatio(Provenance):
    """A ratio for each hospital level."""

    by_level: dict[Level, Ratio]

    _complete = field_validator("by_level")(_complete_levels)


class CitedEmploymentMoney(Provenance):
    """An amount that differs for in-service (在职) and retired (退休) employees."""

    in_service: Yuan
    retired: Yuan

    def fen(self, retired: bool) -> int:
        return yuan_to_fen(self.retired if retired else self.in_service)


class Band(Strict):
    """One segment of a tiered ratio: cumulative amounts in [lower, upper) paid at `ratio`."""

    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    ratio: Ratio


class CitedBands(Provenance):
    """Segments sorted and contiguous; the last one open-ended (upper: null)."""

    bands: list[Band] = Field(min_length=1)

    @field_validator("bands")
    @classmethod
    def _contiguous(cls, bands: list[Band]) -> list[Band]:
        for i, band in enumerate(bands):
            last = i == len(bands) - 1
            if band.upper is None and not last:
                raise ValueError(f"band {i} is open-ended but is not the last one")
            if band.upper is not None and band.upper <= band.lower:
                raise ValueError(f"band {i}: upper {band.upper} must be above lower {band.lower}")
            if i and band.lower != bands[i - 1].upper:
                raise ValueError(
                    f"band {i} starts at {band.lower} but band {i - 1} ends at "
                    f"{bands[i - 1].upper}: segments must be sorted and contiguous"
                )
        if bands[-1].upper is not None:
            raise ValueError("the last band must be open-ended (upper: null)")
        return bands


def nodes_of(node: Any, kind: type, found: list | None = None) -> list:
    """Every object of `kind` inside a loaded policy tree (models, lists, dicts), in order:
    the sources to check against the seeds, the cited values to list."""
    found = [] if found is None else found
    if isinstance(node, kind):
        found.append(node)
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            nodes_of(getattr(node, name), kind, found)
    elif isinstance(node, list | tuple | dict):
        for item in node.values() if isinstance(node, dict) else node:
            nodes_of(item, kind, found)
    return found
