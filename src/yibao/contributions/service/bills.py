"""Issuing a unit's monthly bill: the unit, its members' declared bases and the bill, stored.

The declared bases are what the monthly crediting job credits from, so every member must be
enrolled as an employee of the unit's region with the status the file gives. Issuing the same bill
again returns the stored one; a different bill for the same unit and month is refused
(`Conflict`), never replaced silently.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.contributions.bill import Bill
from yibao.contributions.compute import compute_unit_bill
from yibao.contributions.inputs import Member, UnitFile, parse_unit_file
from yibao.errors import InputError
from yibao.money import yuan_to_fen
from yibao.render.jsontext import dumps
from yibao.service import audit
from yibao.service.errors import Conflict, Forbidden, ServiceError
from yibao.service.principal import Principal
from yibao.store.contributions import ContributionBase, ContributionBill, ContributionUnit
from yibao.store.db import Database
from yibao.store.models import Person


def issue_unit_bill(db: Database, who: Principal, raw: Any, period: str) -> dict[str, Any]:
    """Compute, then store the unit's bill for `period` with its members' bases."""
    if who.role != "bureau":
        raise Forbidden("only the bureau issues contribution bills")
    try:
        bill = compute_unit_bill(raw, period)
        described = parse_unit_file(raw)
    except InputError as exc:
        raise ServiceError(str(exc)) from None
    # Decimals stay exact: stored as their decimal text, never as JSON floats.
    document = json.loads(dumps(bill.as_dict(), indent=None), parse_float=str)
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    key = f"unit:{described.unit.id}"
    with db.transaction() as session:
        stored = session.scalars(
            select(ContributionBill).where(
                ContributionBill.payer_key == key, ContributionBill.period == bill.period
            )
        ).one_or_none()
        if stored is not None:
            if stored.digest != digest:
                raise Conflict(
                    f"period: a different bill of {described.unit.id} for {bill.period} "
                    "is already issued"
                )
            return {"bill_id": stored.id, "created": False, "bill": bill.as_dict()}
        _save_unit(session, described, bill)
        row = _bill_row(bill, key, digest, document)
        session.add(row)
        session.flush()
        audit.record(
            session, who, "contribution.bill_issue", key,
            period=bill.period, total_fen=bill.total_fen, bill_id=row.id,
        )  # fmt: skip
        return {"bill_id": row.id, "created": True, "bill": bill.as_dict()}


def _save_unit(session: Session, described: UnitFile, bill: Bill) -> None:
    _check_enrollment(session, described)
    unit = session.get(ContributionUnit, described.unit.id)
    if unit is None:
        unit = ContributionUnit(id=described.unit.id)
        session.add(unit)
    unit.region, unit.name, unit.kind = described.region, described.unit.name, described.unit.kind
    unit.entrusted = described.unit.entrusted
    unit.in_service_count = bill.info["in_service"]
    unit.retiree_count = bill.info["retirees"]
    session.flush()
    ids = [m.psn_no for m in described.members]
    declared = set(
        session.scalars(
            select(ContributionBase.person_id).where(
                ContributionBase.person_id.in_(ids), ContributionBase.month == bill.period
            )
        ).all()
    )
    for i, member in enumerate(described.members):
        if member.psn_no in declared:
            raise Conflict(
                f"members[{i}].psn_no: {member.psn_no} already has a base for {bill.period}"
            )
        session.add(
            ContributionBase(
                person_id=member.psn_no,
                month=bill.period,
                unit_id=unit.id,
                status=member.status,
                base_fen=None if member.base is None else yuan_to_fen(member.base),
            )
        )


def _check_enrollment(session: Session, described: UnitFile) -> None:
    """Each member must be enrolled as an employee of the unit's region with the status the
    file declares: the declared status and base are what the crediting job credits from, so
    a file's word never overrides the enrollment (a retiree declared in service would be
    credited 2% of a base instead of the retirees' fixed amount)."""
    ids = [m.psn_no for m in described.members]
    enrolled = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids))).all()}
    for i, member in enumerate(described.members):
        problem = _enrollment_disagrees(enrolled.get(member.psn_no), member, described.region)
        if problem is not None:
            field, why = problem
            raise ServiceError(f"members[{i}].{field}: person {member.psn_no} {why}")


def _enrollment_disagrees(
    person: Person | None, member: Member, region: str
) -> tuple[str, str] | None:
    """(field, why) where the enrollment contradicts the unit file's member, else None."""
    if person is None:
        return "psn_no", "is not enrolled"
    if person.region != region:
        return "psn_no", f"is enrolled in {person.region}, not in the unit's region {region}"
    if person.scheme != "employee":
        return "psn_no", f"is enrolled in the {person.scheme} scheme, not as an employee"
    if person.employment != member.status:
        return "status", f"is enrolled as {person.employment}, not {member.status}"
    return None


def _bill_row(bill: Bill, key: str, digest: str, document: dict) -> ContributionBill:
    parts = bill.totals_by_payer()
    return ContributionBill(
        region=bill.region,
        payer_key=key,
        period=bill.period,
        total_fen=bill.total_fen,
        employer_fen=parts["employer"],
        personal_fen=parts["personal"],
        government_fen=parts["government"],
        assistance_fen=parts["medical_assistance"],
        digest=digest,
        bill=document,
    )
