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


SYSTEM = Principal("system", "bureau")


def new_api_key() -> str:
    return "yb_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
