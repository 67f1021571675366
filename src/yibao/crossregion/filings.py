"""Filings (备案) of out-of-region treatment: create, change, revoke, read — audited.

The bureau writes filings. An institution may read only the filings valid on a day for
treatment in its own region (to know how a visit will settle); auditors read everything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from yibao.crossregion.rules import FilingKind, load_rules
from yibao.crossregion.settle import Filing
from yibao.errors import first_error
from yibao.policy.loader import packaged_regions, unknown_region
from yibao.service import audit
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.service.principal import Principal
from yibao.store.cross_region import CrossRegionFiling
from yibao.store.db import Database
from yibao.store.models import Institution, Person


class FilingIn(BaseModel):
    """A new filing: who, which kind, treated where, valid when (valid_to open if omitted)."""

    model_config = ConfigDict(extra="forbid")
    psn_no: str = Field(min_length=1, max_length=30)
    kind: FilingKind
    treating_region: str = Field(min_length=1, max_length=20)
    valid_from: dt.date
    valid_to: dt.date | None = None
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _period(self) -> FilingIn:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


def parse_filing(raw: Any) -> FilingIn:
    try:
        return FilingIn.model_validate(raw)
    except ValidationError as exc:
        raise ServiceError(first_error(exc, "filing")) from None


def _bureau_only(who: Principal) -> None:
    if who.role != "bureau":
        raise Forbidden("only the bureau files out-of-region treatment")


def create_filing(db: Database, who: Principal, filing: FilingIn) -> dict[str, Any]:
    """Store a filing for an enrolled person treated outside the insured region."""
    _bureau_only(who)
    if filing.treating_region not in packaged_regions():
        raise ServiceError(f"treating_region: {unknown_region(filing.treating_region)}")
    with db.transaction() as session:
        person = session.get(Person, filing.psn_no)
        if person is None:
            raise NotFound(f"person {filing.psn_no} is not enrolled")
        if person.region == filing.treating_region:
            raise ServiceError(f"treating_region: {person.region} is the insured region")
        _refuse_overlap(session, filing.psn_no, filing.treating_region, filing, None)
        row = CrossRegionFiling(
            person_id=filing.psn_no,
            kind=filing.kind,
            insured_region=person.region,
            treating_region=filing.treating_region,
            valid_from=filing.valid_from,
            valid_to=filing.valid_to,
            status="active",
            note=filing.note,
        )
        session.add(row)
        session.flush()
        audit.record(
            session, who, "crossregion.filing.create", str(row.id),
            psn_no=filing.psn_no, kind=filing.kind, treating_region=filing.treating_region,
            valid_from=filing.valid_from.isoformat(),
            valid_to=filing.valid_to.isoformat() if filing.valid_to else None,
        )  # fmt: skip
        return filing_dict(row)


def _refuse_overlap(
    session: Session,
    psn_no: str,
    treating: str,
    period: Any,
    except_id: int | None,
) -> None:
    """Two active filings for one person and treating region may not overlap in time."""
    end = period.valid_to or dt.date.max
    query = select(CrossRegionFiling).where(
        CrossRegionFiling.person_id == psn_no,
        CrossRegionFiling.treating_region == treating,
        CrossRegionFiling.status == "active",
        CrossRegionFiling.valid_from <= end,
        or_(CrossRegionFiling.valid_to.is_(None), CrossRegionFiling.valid_to >= period.valid_from),
    )
    for other in session.scalars(query).all():
        if other.id != except_id:
            raise Conflict(f"filing {other.id} already covers {treating} in that period")


def change_filing(
    db: Database, who: Principal, filing_id: int, valid_to: dt.date | None, note: str | None
) -> dict[str, Any]:
    """Move a filing's end date (or open it) and/or its note."""
    _bureau_only(who)
    with db.transaction() as session:
        row = _active(session, filing_id)
        if valid_to is not None and valid_to < row.valid_from:
            raise ServiceError("valid_to: is before valid_from")
        row.valid_to = valid_to
        _refuse_overlap(session, row.person_id, row.treating_region, row, row.id)
        if note is not None:
            row.note = note
        audit.record(
            session, who, "crossregion.filing.change", str(row.id),
            valid_to=valid_to.isoformat() if valid_to else None, note=note,
        )  # fmt: skip
        return filing_dict(row)


def revoke_filing(db: Database, who: Principal, filing_id: int) -> dict[str, Any]:
    """Revoke a filing: it stays on record but no longer makes a visit filed."""
    _bureau_only(who)
    with db.transaction() as session:
        row = _active(session, filing_id)
        row.status = "revoked"
        audit.record(session, who, "crossregion.filing.revoke", str(row.id))
        return filing_dict(row)


def _active(session: Session, filing_id: int) -> CrossRegionFiling:
    row = session.get(CrossRegionFiling, filing_id)
    if row is None:
        raise NotFound(f"filing {filing_id} not found")
    if row.status != "active":
        raise Conflict(f"filing {filing_id} is {row.status}")
    return row


def get_filing(db: Database, who: Principal, filing_id: int, on: dt.date) -> dict[str, Any]:
    """One filing; an institution sees it only while valid for treatment in its region."""
    with db.sessions() as session:
        row = session.get(CrossRegionFiling, filing_id)
        if row is None or not _visible(session, who, row, on):
            raise NotFound(f"filing {filing_id} not found")
        return filing_dict(row)


def list_filings(
    db: Database, who: Principal, psn_no: str | None, on: dt.date
) -> list[dict[str, Any]]:
    """A person's filings (all of them, for the bureau and auditors; an institution must name
    the person and sees only the filings valid on `on` for its own region)."""
    if who.role == "institution" and not psn_no:
        raise Forbidden("an institution must name the person (psn_no)")
    query = select(CrossRegionFiling).order_by(CrossRegionFiling.id)
    if psn_no:
        query = query.where(CrossRegionFiling.person_id == psn_no)
    with db.sessions() as session:
        rows = session.scalars(query.limit(10_000)).all()
        return [filing_dict(row) for row in rows if _visible(session, who, row, on)]


def _visible(session: Session, who: Principal, row: CrossRegionFiling, on: dt.date) -> bool:
    if who.role != "institution":
        return True
    inst = session.get(Institution, who.institution_code)
    return inst is not None and inst.region == row.treating_region and is_valid(row, on)


def is_valid(row: CrossRegionFiling, day: dt.date) -> bool:
    """Active and in force on `day`."""
    return (
        row.status == "active"
        and row.valid_from <= day
        and (row.valid_to is None or day <= row.valid_to)
    )


def filing_in_force(
    db: Session | Connection, psn_no: str, treating_region: str, day: dt.date
) -> Filing | None:
    """The person's filing in force on `day` for treatment in `treating_region`, if any, as
    the settlement rule takes it. Core columns, so that a settlement's plain connection can
    ask as well as a session."""
    table = CrossRegionFiling.__table__
    rows = db.execute(
        select(table.c.id, table.c.kind, table.c.status, table.c.valid_from, table.c.valid_to)
        .where(
            table.c.person_id == psn_no,
            table.c.treating_region == treating_region,
            table.c.status == "active",
        )
        .order_by(table.c.id)
    ).all()
    found = [row for row in rows if is_valid(row, day)]
    return Filing(found[0].id, found[0].kind) if found else None


def filing_dict(row: CrossRegionFiling) -> dict[str, Any]:
    kind = load_rules().filing.kinds[row.kind]  # type: ignore[index]
    return {
        "id": row.id,
        "psn_no": row.person_id,
        "kind": row.kind,
        "kind_name": kind.name,
        "insured_region": row.insured_region,
        "treating_region": row.treating_region,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat() if row.valid_to else None,
        "status": row.status,
        "note": row.note,
        "counts_as_referral": kind.counts_as_referral.value,
    }
