"""A small enrolled world for service tests: institutions, keys, persons."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from yibao.service import institutions, persons
from yibao.service.identity import with_check_digit
from yibao.service.principal import SYSTEM, Principal
from yibao.store.db import Database


@dataclass
class World:
    db: Database
    hospital: Principal
    other_hospital: Principal
    bureau: Principal
    auditor: Principal
    keys: dict[str, str]


def build_world(db: Database) -> World:
    keys = {
        "hospital": institutions.add_institution(
            db, "H001", "二连浩特市医院", 3, "hospital", "erenhot"
        ),
        "other": institutions.add_institution(
            db, "H002", "社区卫生服务中心", 1, "hospital", "erenhot"
        ),
        "bureau": institutions.add_user(db, "clerk", "bureau"),
        "auditor": institutions.add_user(db, "inspector", "auditor"),
    }
    who = {name: institutions.authenticate(db, key) for name, key in keys.items()}
    enroll(db, "P1", employment="in_service", balance_fen=100_000)
    enroll(db, "P2", employment="retired")
    return World(db, who["hospital"], who["other"], who["bureau"], who["auditor"], keys)


def enroll(db: Database, psn_no: str, balance_fen: int = 0, **fields) -> None:
    raw = {
        "id": psn_no,
        "scheme": "employee",
        "employment": "in_service",
        # a stable digest: two persons never share an ID number (enrollment refuses that)
        "certno": with_check_digit(f"15010219800101{zlib.crc32(psn_no.encode()) % 1000:03d}"),
        "name": f"参保人{psn_no}",
        **fields,
    }
    persons.enroll(db, SYSTEM, "erenhot", persons.parse_person(raw))
    if balance_fen:
        persons.credit_account(db, SYSTEM, psn_no, balance_fen, "opening balance")


def outpatient(claim_id: str, date: str, price: str, level: int = 3) -> dict:
    return {
        "id": claim_id,
        "date": date,
        "med_type": "11",
        "hospital_level": level,
        "items": [{"code": "A1", "name": "甲类", "category": "A", "price": price}],
    }
