"""Who is calling: a role, and for institutions the institution code."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

Role = Literal["institution", "bureau", "auditor"]


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    institution_code: str | None = None

    def can_see(self, institution_code: str) -> bool:
        """An institution reads only what it made; bureau and auditors read everything."""
        return self.role != "institution" or self.institution_code == institution_code


# Who the audit log names for changes made at the command line: `system` (institution add,
# user add, demo-load, the payment, accounts and contributions commands), `cli` (key revoke /
# rotate, institution suspend / resume, the cross-region and LTC commands). No key may take
# these names (institutions.RESERVED_NAMES).
SYSTEM = Principal("system", "bureau")
CLI = Principal("cli", "bureau")


def new_api_key() -> str:
    return "yb_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
