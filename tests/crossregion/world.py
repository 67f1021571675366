"""A small world over three regions, with settlements made by the online service."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from yibao.crossregion import filings
from yibao.service import institutions, persons, settlement
from yibao.service.identity import with_check_digit
from yibao.service.principal import SYSTEM, Principal
from yibao.store.db import Database

_msgids = itertools.count(1)

# Institution code → region; every hospital is level 3.
HOSPITALS = {"T3": "tongliao", "Q3": "qingdao", "E3": "erenhot"}
# Person → (insured region, scheme, employment)
PEOPLE = {
    "TL1": ("tongliao", "resident", None),
    "QD1": ("qingdao", "employee", "in_service"),
    "EH1": ("erenhot", "employee", "in_service"),
}


@dataclass
class CrossWorld:
    db: Database
    bureau: Principal
    auditor: Principal
    hospital: dict[str, Principal]
    keys: dict[str, str]


def build(db: Database) -> CrossWorld:
    keys = {
        code: institutions.add_institution(db, code, f"{region}医院", 3, "hospital", region)
        for code, region in HOSPITALS.items()
    }
    keys["bureau"] = institutions.add_user(db, "clerk", "bureau")
    keys["auditor"] = institutions.add_user(db, "inspector", "auditor")
    who = {name: institutions.authenticate(db, key) for name, key in keys.items()}
    for i, (psn, (region, scheme, employment)) in enumerate(PEOPLE.items()):
        raw = {
            "id": psn,
            "scheme": scheme,
            "employment": employment,
            "certno": with_check_digit(f"15010219800101{i:03d}"),
            "name": f"参保人{psn}",
        }
        persons.enroll(db, SYSTEM, region, persons.parse_person(raw))
    hospitals = {code: who[code] for code in HOSPITALS}
    return CrossWorld(db, who["bureau"], who["auditor"], hospitals, keys)


def file_referral(world: CrossWorld, psn: str, treating: str, year: int) -> None:
    """A referral filing (转外就医备案) of `psn` for `treating` over the whole `year`: the
    online service takes a visit's referral from it, not from the hospital."""
    raw = {"psn_no": psn, "kind": "referral", "treating_region": treating,
           "valid_from": f"{year}-01-01", "valid_to": f"{year}-12-31"}  # fmt: skip
    filings.create_filing(world.db, world.bureau, filings.parse_filing(raw))


def outpatient(claim_id: str, day: str, price: str) -> dict:
    """A level-3 outpatient claim of one 甲类 item."""
    return {
        "id": claim_id,
        "date": day,
        "med_type": "11",
        "hospital_level": 3,
        "items": [{"code": "A1", "name": "甲类", "category": "A", "price": price}],
    }


def settle_at(world: CrossWorld, psn: str, code: str, claim: dict) -> dict:
    """Settle `claim` of `psn` at institution `code`, through the service, as that hospital."""
    return settlement.settle(
        world.db, world.hospital[code], psn, claim, code, f"X{next(_msgids):08d}", "2207"
    )


def inpatient(claim_id: str, admit: str, discharge: str, price: str) -> dict:
    """A level-3 inpatient stay of one 甲类 item, settled on discharge."""
    return {
        "id": claim_id,
        "date": admit,
        "med_type": "21",
        "hospital_level": 3,
        "admit_date": admit,
        "discharge_date": discharge,
        "out_of_region": True,
        "referral": True,
        "items": [{"code": "A1", "name": "甲类", "category": "A", "price": price}],
    }
