"""Designated institutions and API keys (stored hashed; shown once at creation)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.policy.loader import packaged_regions, unknown_region
from yibao.service import audit
from yibao.service.errors import Conflict, NotFound, ServiceError
from yibao.service.principal import CLI, SYSTEM, Principal, hash_key, new_api_key
from yibao.store.db import Database
from yibao.store.models import Credential, Institution

# nhsa.md: fixmedins_code is 字符型 30; the codes in use are letters and digits
INSTITUTION_CODE = re.compile(r"[A-Za-z0-9_-]{1,30}")
USER_NAME = re.compile(r"\S{1,60}")
# the command line's names in the audit log: a key so named would pass for it there
RESERVED_NAMES = frozenset({SYSTEM.name, CLI.name})


def add_institution(
    db: Database,
    code: str,
    name: str,
    level: int,
    kind: str,
    region: str,
    who: Principal = SYSTEM,
) -> str:
    """Register a designated institution; returns its new API key (only its hash is kept)."""
    if not INSTITUTION_CODE.fullmatch(code):
        raise ServiceError(
            f"code: {code!r} is not a 定点机构编号 (1–30 letters, digits, '-' or '_')"
        )
    if not name.strip() or len(name) > 200:
        raise ServiceError("name: must be 1–200 characters")
    if level not in (1, 2, 3):
        raise ServiceError("level: must be 1, 2 or 3")
    if kind not in ("hospital", "pharmacy"):
        raise ServiceError("kind: must be hospital or pharmacy")
    if region not in packaged_regions():
        raise ServiceError(f"region: {unknown_region(region)}")
    key = new_api_key()
    with db.transaction() as session:
        if session.get(Institution, code) is not None:
            raise Conflict(f"institution {code} already exists")
        _name_free(session, code)
        session.add(Institution(code=code, name=name, level=level, kind=kind, region=region))
        session.flush()
        session.add(
            Credential(name=code, role="institution", institution_code=code, key_hash=hash_key(key))
        )
        audit.record(session, who, "institution.add", code, level=level, kind=kind, region=region)
    return key


def add_user(db: Database, name: str, role: str, who: Principal = SYSTEM) -> str:
    """Create a bureau or auditor key; returns the key."""
    if role not in ("bureau", "auditor"):
        raise ServiceError("role: must be bureau or auditor")
    if not USER_NAME.fullmatch(name):
        raise ServiceError(f"name: {name!r} must be 1–60 characters without spaces")
    key = new_api_key()
    with db.transaction() as session:
        _name_free(session, name)
        session.add(Credential(name=name, role=role, key_hash=hash_key(key)))
        audit.record(session, who, "user.add", name, role=role)
    return key


def _name_free(session: Session, name: str) -> None:
    """The audit log and msgid ownership know a caller by name: one name, one key, whichever
    role (an institution's key is named by its code); nor may a key take the command line's
    name (`system`, `cli`, in any case: a reader could not tell them apart)."""
    if name.lower() in RESERVED_NAMES:
        raise Conflict(f"{name} is reserved: the audit log names the command line so")
    taken = session.scalars(select(Credential).where(Credential.name == name)).first()
    if taken is not None:
        raise Conflict(f"a key named {name} already exists (role {taken.role})")


def revoke_key(db: Database, name: str, who: Principal = SYSTEM) -> None:
    """Revoke the key named `name` (an institution's code, or a user). It stops working at
    once for new lookups; a server that authenticated it a moment ago keeps it for at most
    the key cache's 10 seconds. `rotate_key` issues a new one."""
    with db.transaction() as session:
        row = _credential(session, name)
        if not row.active:
            raise Conflict(f"the key named {name} is already revoked")
        row.active = False
        audit.record(session, who, "key.revoke", name, role=row.role)


def rotate_key(db: Database, name: str, who: Principal = SYSTEM) -> str:
    """Replace the key named `name` with a new one (returned, only its hash kept); the old
    key stops working as with `revoke_key`. A revoked key's holder gets a working key again."""
    key = new_api_key()
    with db.transaction() as session:
        row = _credential(session, name)
        row.key_hash, row.active = hash_key(key), True
        audit.record(session, who, "key.rotate", name, role=row.role)
    return key


def _credential(session: Session, name: str) -> Credential:
    row = session.scalars(
        select(Credential).where(Credential.name == name).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no key named {name} (an institution code or a user name)")
    return row


INSTITUTION_STATUS = {"suspend": "suspended", "resume": "active"}


def set_institution_status(db: Database, code: str, change: str, who: Principal = SYSTEM) -> None:
    """Suspend (暂停定点) or resume an institution. A suspended institution's key gets 401
    once the key cache forgets it (10 s); until then its settlements are refused."""
    status = INSTITUTION_STATUS[change]
    with db.transaction() as session:
        inst = session.get(Institution, code, with_for_update=True)
        if inst is None:
            raise NotFound(f"institution {code} is not registered")
        if inst.status == status:
            raise Conflict(f"institution {code} is already {status}")
        inst.status = status
        audit.record(session, who, f"institution.{change}", code, status=status)


def authenticate(db: Database, key: str) -> Principal | None:
    with db.sessions() as session:
        row = session.scalars(
            select(Credential).where(Credential.key_hash == hash_key(key), Credential.active)
        ).first()
        if row is None:
            return None
        if row.institution_code:
            inst = session.get(Institution, row.institution_code)
            if inst is None or inst.status != "active":
                return None
        return Principal(row.name, row.role, row.institution_code)  # type: ignore[arg-type]


def list_institutions(db: Database, who: Principal) -> list[dict]:
    """Registered institutions; an institution sees only itself."""
    query = select(Institution).order_by(Institution.code)
    if who.role == "institution":
        query = query.where(Institution.code == who.institution_code)
    with db.sessions() as session:
        return [
            {
                "code": row.code,
                "name": row.name,
                "level": row.level,
                "kind": row.kind,
                "region": row.region,
                "status": row.status,
            }
            for row in session.scalars(query).all()
        ]
