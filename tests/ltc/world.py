"""Qingdao persons and care institutions for long-term care tests."""

from __future__ import annotations

from dataclasses import dataclass

from yibao.service import institutions, persons
from yibao.service.identity import with_check_digit
from yibao.service.principal import SYSTEM, Principal
from yibao.store.db import Database


@dataclass
class LtcWorld:
    db: Database
    bureau: Principal
    auditor: Principal
    home: Principal  # QN01, the care institution of the tests
    other: Principal  # QN02
    keys: dict[str, str]


def build(db: Database) -> LtcWorld:
    keys = {
        "QN01": institutions.add_institution(db, "QN01", "青岛护理院", 2, "hospital", "qingdao"),
        "QN02": institutions.add_institution(db, "QN02", "青岛某医院", 3, "hospital", "qingdao"),
        "bureau": institutions.add_user(db, "clerk", "bureau"),
        "auditor": institutions.add_user(db, "inspector", "auditor"),
    }
    who = {name: institutions.authenticate(db, key) for name, key in keys.items()}
    people = [
        ("QDE", "qingdao", "employee", "retired"),
        ("QDR", "qingdao", "resident", None),
        ("TLR", "tongliao", "resident", None),
    ]
    for i, (psn, region, scheme, employment) in enumerate(people):
        certno = with_check_digit(f"37020219500101{i:03d}")
        raw = {"id": psn, "scheme": scheme, "employment": employment, "certno": certno}
        persons.enroll(db, SYSTEM, region, persons.parse_person(raw))
    return LtcWorld(db, who["bureau"], who["auditor"], who["QN01"], who["QN02"], keys)
