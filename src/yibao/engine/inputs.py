"""The claim file (input of `yibao settle`), as validated models the engine reads directly.

Money fields are given in yuan and held as integer fen (`price` is fen after validation).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from yibao.money import (
    ABOVE_MAX_CLAIM,
    MAX_CLAIM_FEN,
    MAX_CLAIM_YUAN,
    MoneyError,
    to_decimal,
    yuan_to_fen,
)
from yibao.policy.schema import Category


def _fen(value: Any) -> int:
    try:
        fen = yuan_to_fen(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if fen < 0:
        raise ValueError("must be >= 0")
    if fen > MAX_CLAIM_FEN:
        raise ValueError(ABOVE_MAX_CLAIM)
    return fen


def _decimal(value: Any) -> Decimal:
    try:
        number = to_decimal(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if not number.is_finite():
        # a NaN cannot be compared with the bounds (sNaN raises), nor settle anything
        raise ValueError("must be a finite number")
    return number


def _ratio(value: Any) -> Decimal:
    ratio = _decimal(value)
    if not Decimal(0) <= ratio <= Decimal(1):
        raise ValueError("must be between 0 and 1")
    return ratio


def _quantity(value: Any) -> Decimal:
    quantity = _decimal(value)
    if quantity <= 0:
        raise ValueError("must be > 0")
    return quantity


def _no_control_character(code: str) -> str:
    """A diagnosis or disease code holding a control character (U+0000–U+001F, U+007F) is
    refused: no code has one, and `yibao batch` joins a claim's codes with U+001F, so one
    inside a code would split it and match a listed disease the engine does not see."""
    if any(c < " " or c == "\x7f" for c in code):
        raise ValueError("holds a control character")
    return code


Fen = Annotated[int, BeforeValidator(_fen)]
Ratio = Annotated[Decimal, BeforeValidator(_ratio)]
Quantity = Annotated[Decimal, BeforeValidator(_quantity)]
Code = Annotated[str, AfterValidator(_no_control_character)]
MedType = Literal["11", "14", "21", "41"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FamilyAccount(Input):
    """A relative's personal account that may pay through family mutual aid (家庭共济)."""

    holder: str = Field(min_length=1)
    relation: Literal["spouse", "parent", "child"]
    balance: Fen


class YearToDateIn(Input):
    """Year-to-date state before the first claim: the shape `year_to_date` is printed in."""

    year: int
    amounts: dict[str, Fen] = Field(default_factory=dict)
    counts: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    groups_seen: list[str] = Field(default_factory=list)
    account_balance: Fen | None = None
    family_balances: dict[str, Fen] = Field(default_factory=dict)


def _employment_by_scheme(employment: str | None, info: ValidationInfo) -> str | None:
    """contract.md: employees say in_service / retired / flexible, residents omit it (the
    field follows `scheme`, whose value is then in `info.data`)."""
    scheme = info.data.get("scheme")
    if scheme == "employee" and employment is None:
        raise ValueError("required for an employee (in_service, retired or flexible)")
    if scheme == "resident" and employment is not None:
        raise ValueError("a resident has none (omit it)")
    return employment


# checked even when omitted (validate_default), so an employee without one is refused
Employment = Annotated[
    Literal["in_service", "retired", "flexible"] | None,
    AfterValidator(_employment_by_scheme),
    Field(default=None, validate_default=True),
]


class Person(Input):
    id: str = Field(min_length=1)
    scheme: Literal["employee", "resident"]
    employment: Employment
    categories: frozenset[Category] = frozenset()
    birth_date: dt.date | None = None
    sex: Literal["M", "F"] | None = None
    account_balance: Fen = 0
    family_accounts: tuple[FamilyAccount, ...] = ()
    flags: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()
    ytd: YearToDateIn | None = None
    certno: str | None = None
    name: str | None = None

    @field_validator("family_accounts")
    @classmethod
    def _relatives(
        cls, accounts: tuple[FamilyAccount, ...], info: ValidationInfo
    ) -> tuple[FamilyAccount, ...]:
        seen: set[str] = set()
        for k, account in enumerate(accounts):
            if account.holder == info.data.get("id"):
                raise ValueError(f"[{k}].holder: {account.holder!r} is the person's own account")
            if account.holder in seen:
                raise ValueError(f"[{k}].holder: {account.holder!r} is listed twice")
            seen.add(account.holder)
        return accounts

    @property
    def retired(self) -> bool:
        return self.employment == "retired"

    def age_on(self, day: dt.date) -> int | None:
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Item(Input):
    code: str = ""
    name: str = ""
    category: Literal["A", "B", "C"] | None = None
    price: Fen
    quantity: Quantity = Decimal(1)
    selfpay_ratio: Ratio | None = None
    price_limit: Fen | None = None
    date: dt.date | None = None

    @field_validator("selfpay_ratio")
    @classmethod
    def _only_class_b(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        # the 先行自付 ratio is 乙类's; 甲类 is wholly in scope and 丙类 wholly self-paid (G-ALL-5)
        if value is not None and info.data.get("category") in ("A", "C"):
            raise ValueError(f"only a 乙类 (category B) line has one, not {info.data['category']}")
        return value


class Claim(Input):
    id: str = Field(min_length=1)
    date: dt.date
    med_type: MedType
    hospital_level: Literal[1, 2, 3] | None = None
    out_of_region: bool = False
    referral: bool = False
    admit_date: dt.date | None = None
    discharge_date: dt.date | None = None
    diagnoses: tuple[Code, ...] = ()
    disease: Code | None = None
    institution: str | None = None
    acct_used: bool = True
    items: tuple[Item, ...] = Field(min_length=1)

    @field_validator("diagnoses")
    @classmethod
    def _icd(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(code.strip().upper() for code in codes)

    @model_validator(mode="after")
    def _stay(self) -> Claim:
        if self.admit_date and self.discharge_date and self.discharge_date < self.admit_date:
            raise ValueError("discharge_date is before admit_date")
        if sum(item.price * item.quantity for item in self.items) > MAX_CLAIM_FEN:
            raise ValueError(f"items: the claim's total is above {MAX_CLAIM_YUAN:,} yuan")
        return self

    @property
    def settle_date(self) -> dt.date:
        """Inpatient claims settle on discharge; everything else on its date."""
        return self.discharge_date or self.date

    @property
    def level(self) -> int:
        """An institution without a level counts as level 1; a pharmacy as level 3 (G-ALL-7)."""
        if self.hospital_level is not None:
            return self.hospital_level
        return 3 if self.med_type == "41" else 1


class ClaimFile(Input):
    region: str
    person: Person
    claims: tuple[Claim, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _claims_of_the_person(self) -> ClaimFile:
        # a claim exported twice would be paid twice; one dated before birth is a typo
        first: dict[str, int] = {}
        born = self.person.birth_date
        for k, claim in enumerate(self.claims):
            if (earlier := first.setdefault(claim.id, k)) != k:
                raise ValueError(
                    f"claims[{k}].id: duplicate claim id {claim.id!r} (also claims[{earlier}])"
                )
            if born is not None and (early := _before(claim, born)) is not None:
                raise ValueError(f"claims[{k}].{early} is before person.birth_date {born}")
        if (where := _resident_balance(self.person)) is not None:
            raise ValueError(
                f"person.{where}: a resident has no personal account of their own (an "
                "employee relative's may pay: family_accounts)"
            )
        return self


def _resident_balance(person: Person) -> str | None:
    """Where a resident's file gives an own account balance: it would be shown on every bill
    and never drawn (only an employee has one)."""
    if person.scheme != "resident":
        return None
    if person.account_balance:
        return "account_balance"
    if person.ytd is not None and person.ytd.account_balance:
        return "ytd.account_balance"
    return None


def _before(claim: Claim, born: dt.date) -> str | None:
    """The claim's visit or admission date when it is before `born` (`yibao batch` checks the
    same two per claim)."""
    dated = [("date", claim.date), ("admit_date", claim.admit_date)]
    return next((f"{name}: {day}" for name, day in dated if day is not None and day < born), None)
