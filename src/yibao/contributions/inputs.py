"""The JSON descriptions a bill is computed from: a unit with its members, or one person.

Money is yuan with at most two decimals (a JSON number or a string); errors name the field
path (`members[1].base: ...`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from yibao.errors import InputError, first_error
from yibao.money import MoneyError, to_decimal, yuan_to_fen
from yibao.policy.schema import Category


def _yuan(value: Any) -> Decimal:
    try:
        amount = to_decimal(value)
        yuan_to_fen(amount)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal(10) ** 10:
        raise ValueError("must be an amount in yuan between 0 and 10,000,000,000")
    return amount


Yuan = Annotated[Decimal, BeforeValidator(_yuan)]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Member(Closed):
    """An employee of the unit: in service with a monthly contribution base, or retired."""

    psn_no: str = Field(min_length=1, max_length=30)
    status: Literal["in_service", "retired"]
    base: Yuan | None = None  # monthly 缴费基数, in service only


class Unit(Closed):
    id: str = Field(min_length=1, max_length=30)
    name: str = Field(default="", max_length=200)
    kind: Literal["normal", "difficult", "bankrupt"] = "normal"
    entrusted: bool = False  # LY-04 large enterprise under entrusted management
    in_service_count: int | None = Field(default=None, ge=0)
    retiree_count: int | None = Field(default=None, ge=0)


class UnitFile(Closed):
    """`yibao contributions unit FILE.json`: a unit, its members and last year's wage."""

    region: str
    unit: Unit
    members: list[Member] = Field(default_factory=list, max_length=100_000)
    city_average_wage: Yuan | None = None  # last year's city average wage, annual

    @field_validator("members")
    @classmethod
    def _each_once(cls, members: list[Member]) -> list[Member]:
        """A member listed twice would be billed twice and counted twice in the levy."""
        seen: dict[str, int] = {}
        for k, member in enumerate(members):
            if member.psn_no in seen:
                first = seen[member.psn_no]
                raise ValueError(f"{member.psn_no} is listed twice ([{first}] and [{k}])")
            seen[member.psn_no] = k
        return members


class PersonDescription(Closed):
    psn_no: str = Field(min_length=1, max_length=30)
    kind: Literal["resident", "flexible", "single_pooling"]
    categories: list[Category] = Field(default_factory=list)
    base: Yuan | None = None  # single pooling: own monthly base
    enrolled_on: dt.date | None = None  # flexible: for the waiting period
    deadline: dt.date | None = None  # flexible: the enrollment deadline
    paid_years: int | None = Field(default=None, ge=0, le=80)
    deemed_years: int | None = Field(default=None, ge=0, le=80)  # 工龄视为保龄 (LY-09)


class PersonFile(Closed):
    """`yibao contributions person FILE.json`: one person to bill."""

    region: str
    person: PersonDescription
    city_average_wage: Yuan | None = None


def parse_unit_file(raw: Any) -> UnitFile:
    """Validate a unit description; InputError names the first bad field."""
    try:
        return UnitFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(first_error(exc)) from None


def parse_person_file(raw: Any) -> PersonFile:
    """Validate a person description; InputError names the first bad field."""
    try:
        return PersonFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(first_error(exc)) from None
