"""Enrollment: persons, their categories over time, accounts and family bindings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from yibao.engine.funds import INSUTYPE
from yibao.engine.inputs import Employment, Fen  # refused here as at the first settlement
from yibao.engine.inputs import Person as EnginePerson
from yibao.errors import first_error
from yibao.money import ABOVE_MAX_CLAIM, MAX_CLAIM_FEN, fen_to_yuan
from yibao.policy.loader import admdvs_of, packaged_regions, unknown_region
from yibao.policy.schema import Category
from yibao.service import audit
from yibao.service.errors import Conflict, NotFound, ServiceError
from yibao.service.identity import certno_problem, is_id_number, mask, shown_id
from yibao.service.output import psn_type
from yibao.service.principal import Principal
from yibao.store.db import Database
from yibao.store.models import Account, AccountEntry, FamilyBinding, Person, PersonCategory

EPOCH = dt.date(1900, 1, 1)


class CategoryPeriod(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Category
    valid_from: dt.date = EPOCH
    valid_to: dt.date | None = None

    @model_validator(mode="after")
    def _in_order(self) -> CategoryPeriod:
        # swapped dates make a period no day falls in: the category silently gone
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self


class FamilyLink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holder: str
    relation: Literal["spouse", "parent", "child"]


class PersonIn(BaseModel):
    """The claim file's person object plus enrollment details (certno, name, periods)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=30)
    scheme: Literal["employee", "resident"]
    employment: Employment
    categories: list[Category] = Field(default_factory=list)
    category_periods: list[CategoryPeriod] = Field(default_factory=list)
    birth_date: dt.date | None = None
    sex: Literal["M", "F"] | None = None
    certno: str | None = None
    name: str | None = Field(default=None, max_length=50)
    flags: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    family: list[FamilyLink] = Field(default_factory=list)
    # the claim file's opening balance: credited once, when the person is first enrolled
    account_balance: Fen | None = None
    ytd: Any = None  # refused below with the reason (the claim file's carried-in totals)

    @field_validator("ytd")
    @classmethod
    def _no_ytd(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "year-to-date totals here come from the settlements stored by this service; "
                "they are not carried in on enrollment"
            )
        return None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if "/" in value or any(c.isspace() for c in value):
            raise ValueError("must not contain '/' or spaces (it is the path /persons/{id})")
        return value

    @field_validator("certno")
    @classmethod
    def _certno(cls, value: str | None) -> str | None:
        if value is not None and (problem := certno_problem(value)):
            raise ValueError(problem)
        return value


def parse_person(raw: Any) -> PersonIn:
    try:
        return PersonIn.model_validate(raw)
    except ValidationError as exc:
        raise ServiceError(first_error(exc, "person")) from None


def enroll(db: Database, who: Principal, region: str, person: PersonIn) -> dict:
    """Create or update a person; categories given as a plain list hold from 1900 on."""
    if region not in packaged_regions():
        raise ServiceError(f"region: {unknown_region(region)}")
    person = _agreeing_with_certno(person)
    with db.transaction() as session:
        _lock_certno(session, person.certno)
        # a twin enrollment waits here, then finds the person and updates it (its bindings
        # are deleted and re-added: two at once would collide)
        _lock_certno(session, f"person:{person.id}")
        row = session.get(Person, person.id)
        created = row is None
        if created:  # persons enrolled before these rules can still be updated
            _check_new_id(person.id)
        if created or row.certno != person.certno:  # twins enrolled before stay updatable
            _certno_free(session, person)
        if not created and person.scheme != "employee":
            _check_no_dependants(session, person.id)
        if row is None:
            row = Person(id=person.id)
            session.add(row)
        for name in ("scheme", "employment", "birth_date", "sex", "certno", "name"):
            setattr(row, name, getattr(person, name))
        row.region, row.flags, row.products = region, person.flags, person.products
        periods = person.category_periods + [CategoryPeriod(category=c) for c in person.categories]
        session.flush()
        session.execute(delete(PersonCategory).where(PersonCategory.person_id == person.id))
        session.add_all(
            PersonCategory(
                person_id=person.id,
                category=p.category,
                valid_from=p.valid_from,
                valid_to=p.valid_to,
            )
            for p in periods
        )
        _bind_family(session, person, region)
        _open_account(session, person)
        audit.record(
            session,
            who,
            "person.enroll" if created else "person.update",
            audit_target(person.id),
            certno=mask(person.certno),
            region=region,
            **(
                {"account_balance_fen": person.account_balance}
                if created and person.account_balance
                else {}
            ),
        )
    return {"id": person.id, "created": created}


def _check_new_id(person_id: str) -> None:
    """psn_no is shown to institutions and in the audit log, where ID numbers (18 or 15
    digits) are masked: a new person's id may not be one, nor hold digits other than 0-9 (a
    fullwidth or Arabic-Indic copy of an ID number would pass that test and show in clear)."""
    if is_id_number(person_id):
        raise ServiceError("person.id: must not be an ID number; use certno")
    if any(c.isdigit() and not c.isascii() for c in person_id):
        raise ServiceError("person.id: digits must be 0-9")


def certno_birth_and_sex(certno: str) -> tuple[dt.date, Literal["M", "F"]]:
    """What an 18-digit 身份证号 says: digits 7–14 the birth date, digit 17 odd for a man."""
    born = dt.date(int(certno[6:10]), int(certno[10:12]), int(certno[12:14]))
    return born, "M" if int(certno[16]) % 2 else "F"


def _agreeing_with_certno(person: PersonIn) -> PersonIn:
    """The person with `birth_date` and `sex` taken from the certno when not given; given
    ones that contradict it are refused (age rules would use the wrong age)."""
    if not person.certno:
        return person
    born, sex = certno_birth_and_sex(person.certno)
    if person.birth_date is not None and person.birth_date != born:
        raise ServiceError(
            f"person.birth_date: {person.birth_date} contradicts certno (born {born})"
        )
    if person.sex is not None and person.sex != sex:
        raise ServiceError(f"person.sex: {person.sex} contradicts certno ({sex})")
    return person.model_copy(update={"birth_date": born, "sex": sex})


def _lock_certno(session: Session, certno: str | None) -> None:
    """On PostgreSQL, enrollments of one ID number (or one person, keyed `person:ID`) wait
    for each other (a transaction-scoped advisory lock), so two at once cannot both find it
    free, nor both re-add the person's family bindings; SQLite writes one at a time."""
    if certno and session.get_bind().dialect.name == "postgresql":
        key = certno.upper()
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def _certno_free(session: Session, person: PersonIn) -> None:
    """One ID number, one insured person: two would have two deductibles and caps, and 1101
    by ID number could answer only one of them."""
    if not person.certno:
        return
    variants = {person.certno, person.certno.upper(), person.certno.lower()}
    other = session.scalars(
        select(Person.id).where(Person.certno.in_(variants), Person.id != person.id)
    ).first()
    if other is not None:
        raise Conflict(f"person.certno: already enrolled for person {other}")


def audit_target(person_id: str) -> str:
    """A person id for the audit log: masked like an ID number when it is one (persons
    enrolled before such ids were refused)."""
    return shown_id(person_id)


def _open_account(session: Session, person: PersonIn) -> None:
    """The personal account: opened with `account_balance` (a ledger entry) when new; later
    the balance moves only through credits and settlements, so a different one is refused."""
    opening = person.account_balance or 0
    if opening and person.scheme != "employee":  # as the claim file refuses one
        raise ServiceError(
            "person.account_balance: a resident has no personal account of their own (an "
            "employee relative's may pay: family)"
        )
    account = session.get(Account, person.id)
    if account is None:
        session.add(Account(person_id=person.id, balance=opening))
        if opening:
            session.add(AccountEntry(person_id=person.id, amount=opening, kind="opening"))
        return
    if person.account_balance is not None and person.account_balance != account.balance:
        raise ServiceError(
            f"person.account_balance: the account holds {fen_to_yuan(account.balance)}; "
            f"change it with POST /persons/{person.id}/account/credits"
        )


def _check_no_dependants(session: Session, person_id: str) -> None:
    """A person whose account pays for relatives cannot become a resident while it does: only
    an employee's account may pay for family (QA: a former employee's account kept paying 共济)."""
    dependants = session.scalars(
        select(FamilyBinding.person_id).where(FamilyBinding.holder_id == person_id).limit(6)
    ).all()
    if dependants:
        listed = ", ".join(sorted(dependants)[:5]) + (", …" if len(dependants) > 5 else "")
        raise ServiceError(
            f"person.scheme: {person_id}'s account pays for family ({listed}): re-enroll them "
            "without this holder first; only an employee's account may pay for family"
        )


def _bind_family(session: Session, person: PersonIn, region: str) -> None:
    """The person's relatives whose accounts may pay for them: enrolled in the same region,
    whose policy lets an account pay for family (EH-06, G-QD-12); another region's account is
    another fund's money."""
    session.execute(delete(FamilyBinding).where(FamilyBinding.person_id == person.id))
    first: dict[str, int] = {}
    for k, link in enumerate(person.family):
        # what settlement would refuse at every claim afterwards is refused here, once
        if link.holder == person.id:
            raise ServiceError(f"person.family[{k}].holder: the person's own account is not family")
        if (earlier := first.setdefault(link.holder, k)) != k:
            raise ServiceError(
                f"person.family[{k}].holder: {link.holder} is listed twice (also [{earlier}])"
            )
        holder = session.get(Person, link.holder)
        if holder is None:
            raise ServiceError(f"person.family: holder {link.holder!r} is not enrolled")
        if holder.scheme != "employee":
            raise ServiceError(
                f"person.family[{k}].holder: {link.holder} is a resident: only an employee has "
                "a personal account that may pay for family (EH-06, G-QD-12)"
            )
        if holder.region != region:
            raise ServiceError(
                f"person.family[{k}].holder: {link.holder} is insured in {holder.region}, not "
                f"{region}: another region's account cannot pay for family"
            )
        session.add(
            FamilyBinding(person_id=person.id, holder_id=link.holder, relation=link.relation)
        )


def credit_account(db: Database, who: Principal, person_id: str, amount_fen: int, note: str) -> int:
    """Credit a personal account (划入); returns the new balance in fen."""
    if amount_fen <= 0:
        raise ServiceError("amount: must be > 0")
    if amount_fen > MAX_CLAIM_FEN:
        raise ServiceError(f"amount: {ABOVE_MAX_CLAIM}")
    with db.transaction() as session:
        account = session.get(Account, person_id, with_for_update=True)
        if account is None:
            raise NotFound(f"person {shown_id(person_id)} is not enrolled")
        if session.get(Person, person_id).scheme != "employee":
            raise ServiceError(
                f"person {shown_id(person_id)} is a resident: only an employee has a personal "
                "account"
            )
        account.balance += amount_fen
        session.add(AccountEntry(person_id=person_id, amount=amount_fen, kind="credit", note=note))
        audit.record(session, who, "account.credit", audit_target(person_id), amount_fen=amount_fen)
        return account.balance


def person_view(session: Session, person_id: str, who: Principal) -> dict:
    """The person as the caller may see it: ID numbers masked for institutions."""
    row = session.get(Person, person_id)
    if row is None:  # the id in the URL may be the caller's ID number: masked, as 1101 does
        raise NotFound(f"person {shown_id(person_id)} is not enrolled")
    periods = session.scalars(
        select(PersonCategory).where(PersonCategory.person_id == person_id)
    ).all()
    account = session.get(Account, person_id)
    certno = row.certno if who.role != "institution" else mask(row.certno)
    return {
        "id": row.id,
        "region": row.region,
        "scheme": row.scheme,
        "employment": row.employment,
        "birth_date": row.birth_date.isoformat() if row.birth_date else None,
        "sex": row.sex,
        "certno": certno,
        "name": row.name,
        "flags": row.flags,
        "products": row.products,
        "category_periods": [
            {
                "category": p.category,
                "valid_from": p.valid_from.isoformat(),
                "valid_to": p.valid_to.isoformat() if p.valid_to else None,
            }
            for p in periods
        ],
        "account_balance_fen": account.balance if account else 0,
    }


def engine_view(
    row: Any, categories: Iterable[str], links: Iterable[tuple[str, str]], balances: dict
) -> EnginePerson:
    """The engine's person from its stored parts: `row` has the attributes of `Person`,
    `links` are (holder, relation) by holder, `balances` fen by person id (absent: 0).
    A row the engine refuses (enrolled before a rule was checked) is a ServiceError."""
    try:
        return _engine_person(row, categories, links, balances)
    except ValidationError as exc:
        raise ServiceError(
            f"person {shown_id(row.id)}: the stored enrollment is refused ({first_error(exc)}); "
            "update it with POST /persons"
        ) from None


def _engine_person(
    row: Any, categories: Iterable[str], links: Iterable[tuple[str, str]], balances: dict
) -> EnginePerson:
    return EnginePerson.model_validate(
        {
            "id": row.id,
            "scheme": row.scheme,
            "employment": row.employment,
            "categories": sorted(set(categories)),
            "birth_date": row.birth_date,
            "sex": row.sex,
            "flags": row.flags or [],
            "products": row.products or [],
            "account_balance": fen_to_yuan(balances.get(row.id, 0)),
            "family_accounts": [
                {
                    "holder": holder,
                    "relation": relation,
                    "balance": fen_to_yuan(balances.get(holder, 0)),
                }
                for holder, relation in links
            ],
        }
    )


def insured_info(db: Database, who: Principal, raw: Any, day: dt.date) -> dict[str, Any]:
    """1101 人员信息获取: a person by `psn_no`, or by ID number (`certno`, or
    `mdtrt_cert_type` 02 with `mdtrt_cert_no`); ID numbers masked for institutions."""
    psn_no, certno, field = _insured_key(raw)
    _check_not_ahead(day)
    with db.sessions() as session:
        row = _find_insured(session, psn_no, certno, field)
        _check_born_by(row, day)
        periods = session.scalars(
            select(PersonCategory)
            .where(PersonCategory.person_id == row.id)
            .order_by(PersonCategory.valid_from, PersonCategory.category)
        ).all()
        account = session.get(Account, row.id)
    current = sorted(
        {p.category for p in periods if p.valid_from <= day and (p.valid_to or day) >= day}
    )
    insurance = {
        "insutype": INSUTYPE[row.scheme],
        "psn_type": psn_type(row),
        "insuplc_admdvs": admdvs_of(row.region),
        "categories": current,
    }
    return {
        "baseinfo": {**_baseinfo(row, who, day), **insurance},
        "insuinfo": [
            {
                "balc": fen_to_yuan(account.balance if account else 0),
                **insurance,
                "psn_insu_stas": "1",
                "cvlserv_flag": "1" if "civil_servant" in current else "0",
            }
        ],
        "idetinfo": [
            {
                "psn_idet_type": p.category,
                "begntime": p.valid_from.isoformat(),
                "endtime": p.valid_to.isoformat() if p.valid_to else None,
            }
            for p in periods
        ],
    }


def _check_not_ahead(day: dt.date) -> None:
    """1101's `inf_time` is held to the settlements' rule (at most a day ahead of the server's
    clock): a date of the sender's choosing would answer another year's categories and age."""
    # imported here: settlement imports this module (engine_view)
    from yibao.service.settlement import still_to_come

    if (ahead := still_to_come(day)) is not None:
        raise ServiceError(f"inf_time: {ahead}")


def _check_born_by(row: Person, day: dt.date) -> None:
    """Nobody is insured before they are born: the age would be negative (QA: -47)."""
    if row.birth_date is not None and day < row.birth_date:
        raise ServiceError(
            f"inf_time: {day} is before the birth date {row.birth_date} of person "
            f"{shown_id(row.id)}"
        )


def _insured_key(raw: Any) -> tuple[Any, Any, str]:
    """(psn_no, ID number, the field the ID number came in) of a 1101 query; at least one is
    given, and it is a string."""
    query = raw if isinstance(raw, dict) else {}
    psn_no, certno, field = query.get("psn_no"), query.get("certno"), "certno"
    if not certno and query.get("mdtrt_cert_type") == "02":
        certno, field = query.get("mdtrt_cert_no"), "mdtrt_cert_no"
    if not psn_no and not certno:
        kind = query.get("mdtrt_cert_type")
        if kind not in (None, "02"):
            raise ServiceError(
                f"mdtrt_cert_type: {kind} cannot be resolved here; send psn_no or an ID number (02)"
            )
        raise ServiceError("psn_no: required (or mdtrt_cert_type 02 with mdtrt_cert_no)")
    for name, value in (("psn_no", psn_no), (field, certno)):
        if value and not isinstance(value, str):
            raise ServiceError(f"{name}: must be a string")
    return psn_no, certno, field


def _find_insured(session: Session, psn_no: Any, certno: Any, field: str) -> Person:
    """The person by `psn_no`, else by ID number (its final X in either case); given both,
    they must name the same person."""
    if certno and (problem := certno_problem(certno)):
        raise ServiceError(f"{field}: {problem}")
    if psn_no:
        row = session.get(Person, psn_no)
        if row is not None and certno and (row.certno or "").upper() != certno.upper():
            raise ServiceError(f"{field}: not the ID number of person {shown_id(psn_no)}")
    else:
        row = session.scalars(
            select(Person).where(Person.certno.in_({certno, certno.upper(), certno.lower()}))
        ).first()
    if row is None:
        raise NotFound(f"person {shown_id(psn_no) if psn_no else mask(certno)} is not enrolled")
    return row


def _baseinfo(row: Person, who: Principal, day: dt.date) -> dict[str, Any]:
    """1101 `baseinfo` without the insurance fields; age in whole years on `day`."""
    age = None
    if row.birth_date:
        born = row.birth_date
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return {
        "psn_no": row.id,
        "psn_cert_type": "01" if row.certno else None,
        "certno": row.certno if who.role != "institution" else mask(row.certno),
        "psn_name": row.name,
        "gend": {"M": "1", "F": "2"}.get(row.sex or "", "0"),
        "brdy": row.birth_date.isoformat() if row.birth_date else None,
        "age": age,
        "scheme": row.scheme,
        "employment": row.employment,
    }
