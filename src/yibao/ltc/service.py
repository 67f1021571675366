"""Long-term care use cases: assessments and care claims, each one audited transaction.

A claim is priced by the pure calculator (`yibao.ltc.calc`) with the person's scheme and the
level of the assessment valid over the whole episode; a level that is not severe disability
is refused with the reason, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.errors import InputError, first_error
from yibao.ltc.calc import Episode, quote
from yibao.ltc.terms import CareType, load_terms
from yibao.money import fen_to_yuan
from yibao.service import audit
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.service.principal import Principal
from yibao.service.settlement import check_active, still_to_come
from yibao.store.db import Database
from yibao.store.ltc import LtcAssessment, LtcClaim
from yibao.store.models import Institution, Person


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    psn_no: str = Field(min_length=1, max_length=30)
    level: int = Field(ge=0, le=99)
    assessor: str = Field(min_length=1, max_length=100)
    assessed_on: dt.date
    valid_until: dt.date

    @model_validator(mode="after")
    def _period(self) -> AssessmentIn:
        if self.valid_until < self.assessed_on:
            raise ValueError("valid_until is before assessed_on")
        return self


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    claim_id: str = Field(min_length=1, max_length=60)
    psn_no: str = Field(min_length=1, max_length=30)
    care_type: CareType
    start: dt.date
    end: dt.date
    units: int | None = Field(default=None, gt=0, le=10_000)
    institution_code: str | None = Field(default=None, max_length=30)


def parse(model: type[BaseModel], raw: Any, prefix: str) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ServiceError(first_error(exc, prefix)) from None


def _ltc_person(session: Session, psn_no: str) -> Person:
    person = session.get(Person, psn_no)
    if person is None:
        raise NotFound(f"person {psn_no} is not enrolled")
    region = load_terms().region
    if person.region != region:
        raise ServiceError(f"psn_no: long-term care terms exist only for {region}")
    return person


def assess(db: Database, who: Principal, body: AssessmentIn) -> dict[str, Any]:
    """Record a disability assessment (bureau)."""
    if who.role != "bureau":
        raise Forbidden("only the bureau records assessments")
    levels = load_terms().levels
    if body.level not in levels:
        raise ServiceError(f"level: {body.level} is not an assessment level {sorted(levels)}")
    with db.transaction() as session:
        _ltc_person(session, body.psn_no)
        row = LtcAssessment(
            person_id=body.psn_no,
            level=body.level,
            assessor=body.assessor,
            assessed_on=body.assessed_on,
            valid_until=body.valid_until,
            created_by=who.name,
        )
        session.add(row)
        session.flush()
        audit.record(
            session, who, "ltc.assess", str(row.id), psn_no=body.psn_no, level=body.level,
            valid_until=body.valid_until.isoformat(),
        )  # fmt: skip
        return assessment_dict(row)


def submit_claim(db: Database, who: Principal, body: ClaimIn) -> dict[str, Any]:
    """Price and store a care claim (an institution for itself, or the bureau)."""
    code = _claiming_institution(who, body.institution_code)
    try:
        with db.transaction() as session:
            institution = session.get(Institution, code) if code is not None else None
            if code is not None:
                check_active(code, institution.status if institution is not None else None)
            _check_provider(body.care_type, institution)
            _check_given(body)
            person = _ltc_person(session, body.psn_no)
            if db.is_postgres:  # one person's claims are checked for overlap one at a time
                session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
            if session.scalars(select(LtcClaim).where(LtcClaim.claim_id == body.claim_id)).first():
                raise Conflict(f"claim {body.claim_id} already exists")
            assessment = _assessment_over(session, body.psn_no, body.start, body.end)
            _refuse_overlap(session, body)
            row = _priced(person, assessment, body, code, who)
            session.add(row)
            session.flush()
            audit.record(
                session, who, "ltc.claim", body.claim_id, psn_no=body.psn_no,
                institution=code, care_type=body.care_type, fund_fen=row.fund_fen,
            )  # fmt: skip
            return claim_dict(row)
    except IntegrityError:
        raise Conflict(f"claim {body.claim_id} already exists") from None


def _check_given(body: ClaimIn) -> None:
    """Care is claimed once given: an episode ending after today (a day of clock slack, as
    for settlements) would be paid before the care."""
    if (ahead := still_to_come(body.end)) is not None:
        raise ServiceError(f"end: {ahead}")


def _check_provider(care_type: str, institution: Institution | None) -> None:
    """Care away from home is given by an institution of the terms' region: it must be
    named, and no pharmacy gives care. Home care may name its provider or not."""
    terms = load_terms()
    if institution is None:
        if care_type != "home":
            name = terms.care_types[care_type].name
            raise ServiceError(f"institution_code: {name} is given at an institution; name it")
        return
    if institution.region != terms.region:
        raise ServiceError(
            f"institution_code: {institution.code} is in {institution.region}; long-term care "
            f"terms exist only for {terms.region}"
        )
    if institution.kind == "pharmacy":
        raise ServiceError(f"institution_code: {institution.code} is a pharmacy; it gives no care")


def _claiming_institution(who: Principal, code: str | None) -> str | None:
    if who.role == "auditor":
        raise Forbidden("auditors cannot submit claims")
    if who.role == "institution":
        if code not in (None, who.institution_code):
            raise Forbidden(f"institution_code {code} is not the caller's institution")
        return who.institution_code
    return code


def _assessment_over(session: Session, psn_no: str, start: dt.date, end: dt.date) -> LtcAssessment:
    """The newest assessment valid over the whole episode."""
    found = session.scalars(
        select(LtcAssessment)
        .where(
            LtcAssessment.person_id == psn_no,
            LtcAssessment.assessed_on <= start,
            LtcAssessment.valid_until >= end,
        )
        .order_by(LtcAssessment.assessed_on.desc(), LtcAssessment.id.desc())
    ).first()
    if found is None:
        raise ServiceError(f"psn_no: no assessment of {psn_no} is valid from {start} to {end}")
    return found


def _refuse_overlap(session: Session, body: ClaimIn) -> None:
    other = session.scalars(
        select(LtcClaim).where(
            LtcClaim.person_id == body.psn_no,
            LtcClaim.start_date <= body.end,
            LtcClaim.end_date >= body.start,
        )
    ).first()
    if other is not None:
        raise Conflict(f"claim {other.claim_id} already covers part of {body.start}..{body.end}")


def _priced(
    person: Person, assessment: LtcAssessment, body: ClaimIn, code: str | None, who: Principal
) -> LtcClaim:
    raw = {
        "scheme": person.scheme, "level": assessment.level, "care_type": body.care_type,
        "start": body.start, "end": body.end, "units": body.units,
    }  # fmt: skip
    try:
        episode = Episode.model_validate(raw)
        q = quote(load_terms(), episode)
    except ValidationError as exc:
        raise ServiceError(first_error(exc, "claim")) from None
    except InputError as exc:
        raise ServiceError(str(exc)) from None
    if not q.eligible:
        raise ServiceError(f"level: {q.refusal}")
    units = sum(line["units"] for line in q.lines)
    return LtcClaim(
        claim_id=body.claim_id, person_id=person.id, institution_code=code,
        assessment_id=assessment.id, scheme=person.scheme, level=assessment.level,
        care_type=body.care_type, start_date=body.start, end_date=body.end, units=units,
        billed_fen=q.billed_fen, fund_fen=q.fund_fen, person_fen=q.person_fen,
        lines=q.lines, created_by=who.name,
    )  # fmt: skip


def list_claims(
    db: Database, who: Principal, psn_no: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Care claims, newest last; an institution sees only its own."""
    query = select(LtcClaim).order_by(LtcClaim.id).limit(limit)
    if who.role == "institution":
        query = query.where(LtcClaim.institution_code == who.institution_code)
    if psn_no:
        query = query.where(LtcClaim.person_id == psn_no)
    with db.sessions() as session:
        return [claim_dict(row) for row in session.scalars(query).all()]


def assessment_dict(row: LtcAssessment) -> dict[str, Any]:
    level = load_terms().levels[row.level]
    return {
        "id": row.id,
        "psn_no": row.person_id,
        "level": row.level,
        "level_name": level.name,
        "eligible": level.eligible.value,
        "assessor": row.assessor,
        "assessed_on": row.assessed_on.isoformat(),
        "valid_until": row.valid_until.isoformat(),
    }


def claim_dict(row: LtcClaim) -> dict[str, Any]:
    return {
        "claim_id": row.claim_id,
        "psn_no": row.person_id,
        "institution_code": row.institution_code,
        "assessment_id": row.assessment_id,
        "scheme": row.scheme,
        "level": row.level,
        "care_type": row.care_type,
        "start": row.start_date.isoformat(),
        "end": row.end_date.isoformat(),
        "units": row.units,
        "billed": fen_to_yuan(row.billed_fen),
        "fund_pay": fen_to_yuan(row.fund_fen),
        "person_pay": fen_to_yuan(row.person_fen),
        "billed_fen": row.billed_fen,
        "fund_pay_fen": row.fund_fen,
        "person_pay_fen": row.person_fen,
        "lines": row.lines,
    }
