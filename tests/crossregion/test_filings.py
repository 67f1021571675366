"""Filings (备案) through the service: create, overlap, change, revoke, who reads what, audit;
and the preview that finds a person's stored filing (SQLite + PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.crossregion.world import build
from yibao.crossregion import filings, preview
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.store.models import AuditEntry

MARCH = dt.date(2023, 3, 8)


@pytest.fixture
def world(db):
    return build(db)


def _file(world, **fields):
    raw = {"psn_no": "TL1", "kind": "referral", "treating_region": "qingdao",
           "valid_from": "2023-01-01", "valid_to": "2023-12-31"} | fields  # fmt: skip
    return filings.create_filing(world.db, world.bureau, filings.parse_filing(raw))


def test_create_and_read_back(world):
    made = _file(world)
    assert made["insured_region"] == "tongliao" and made["kind_name"] == "异地转诊"
    assert made["counts_as_referral"] is True
    assert filings.get_filing(world.db, world.auditor, made["id"], MARCH) == made
    assert filings.list_filings(world.db, world.bureau, "TL1", MARCH) == [made]


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"psn_no": "NOBODY"}, NotFound, "not enrolled"),
        ({"treating_region": "tongliao"}, ServiceError, "is the insured region"),
        ({"treating_region": "atlantis"}, ServiceError, r"region .atlantis. \(known: erenhot, "),
        ({"valid_to": "2022-12-31"}, ServiceError, "valid_to is before valid_from"),
        ({"kind": "holiday"}, ServiceError, "filing.kind"),
    ],
)
def test_bad_filings_are_refused(world, fields, error, message):
    with pytest.raises(error, match=message):
        _file(world, **fields)


def test_overlapping_filings_conflict_but_other_regions_do_not(world):
    _file(world)
    with pytest.raises(Conflict, match="already covers qingdao"):
        _file(world, valid_from="2023-06-01", valid_to=None)
    _file(world, treating_region="erenhot")
    _file(world, valid_from="2024-01-01", valid_to=None)  # after the first one ends


def test_only_the_bureau_writes(world):
    made = _file(world)
    for who in (world.auditor, world.hospital["Q3"]):
        later = filings.parse_filing({**_raw(), "valid_from": "2030-01-01"})
        with pytest.raises(Forbidden):
            filings.create_filing(world.db, who, later)
        with pytest.raises(Forbidden):
            filings.revoke_filing(world.db, who, made["id"])
        with pytest.raises(Forbidden):
            filings.change_filing(world.db, who, made["id"], None, None)


def _raw():
    return {"psn_no": "TL1", "kind": "referral", "treating_region": "qingdao",
            "valid_from": "2023-01-01"}  # fmt: skip


def test_institutions_read_only_valid_filings_for_their_region(world):
    made = _file(world)
    qingdao, erenhot = world.hospital["Q3"], world.hospital["E3"]
    assert [f["id"] for f in filings.list_filings(world.db, qingdao, "TL1", MARCH)] == [made["id"]]
    assert filings.list_filings(world.db, qingdao, "TL1", dt.date(2024, 1, 1)) == []
    assert filings.list_filings(world.db, erenhot, "TL1", MARCH) == []
    with pytest.raises(NotFound):
        filings.get_filing(world.db, erenhot, made["id"], MARCH)
    with pytest.raises(Forbidden, match="must name the person"):
        filings.list_filings(world.db, qingdao, None, MARCH)


def test_change_and_revoke(world):
    made = _file(world)
    changed = filings.change_filing(
        world.db, world.bureau, made["id"], dt.date(2023, 3, 31), "短期"
    )
    assert (changed["valid_to"], changed["note"]) == ("2023-03-31", "短期")
    with pytest.raises(ServiceError, match="before valid_from"):
        filings.change_filing(world.db, world.bureau, made["id"], dt.date(2022, 1, 1), None)
    revoked = filings.revoke_filing(world.db, world.bureau, made["id"])
    assert revoked["status"] == "revoked"
    with pytest.raises(Conflict, match="revoked"):
        filings.revoke_filing(world.db, world.bureau, made["id"])
    assert filings.list_filings(world.db, world.hospital["Q3"], "TL1", MARCH) == []
    with pytest.raises(NotFound):
        filings.revoke_filing(world.db, world.bureau, 999)
    with world.db.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target == str(made["id"]), AuditEntry.action.like("crossregion.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == [
        "crossregion.filing.create",
        "crossregion.filing.change",
        "crossregion.filing.revoke",
    ]


CLAIM_FILE = {
    "region": "tongliao",
    "person": {"id": "TL1", "scheme": "resident"},
    "claims": [
        {"id": "C1", "date": "2023-03-01", "med_type": "21", "hospital_level": 3,
         "admit_date": "2023-03-01", "discharge_date": "2023-03-08",
         "items": [{"code": "S008", "category": "A", "price": "5000.00"}]},
    ],
}  # fmt: skip


def _hifp(answer) -> int:
    return int(answer["settlements"][0]["setlinfo"]["hifp_pay"] * 100)


def test_preview_uses_the_stored_filing_valid_on_the_claim_date(world):
    body = {**CLAIM_FILE, "treating_region": "qingdao"}
    # unfiled: (5000 − 1000) × 40% = 1600.00, flagged
    unfiled = preview.preview(world.db, world.hospital["Q3"], body)
    assert _hifp(unfiled) == 160_000
    assert unfiled["settlements"][0]["cross_region"]["flags"] == ["unfiled"]
    made = _file(world)
    # filed referral: (5000 − 1000) × 60% = 2400.00
    filed = preview.preview(world.db, world.hospital["Q3"], body)
    assert _hifp(filed) == 240_000
    assert filed["settlements"][0]["cross_region"]["filing"] == {
        "id": made["id"],
        "kind": "referral",
    }
    # the caller may state the filing instead
    stated = preview.preview(world.db, world.bureau, {**body, "filing": "none"})
    assert _hifp(stated) == 160_000


def test_preview_refusals(world):
    body = {**CLAIM_FILE, "treating_region": "qingdao"}
    with pytest.raises(Forbidden, match="own region"):
        preview.preview(world.db, world.hospital["E3"], body)
    with pytest.raises(ServiceError, match="treating_region: required"):
        preview.preview(world.db, world.bureau, CLAIM_FILE)
    with pytest.raises(ServiceError, match="filing: must be one of"):
        preview.preview(world.db, world.bureau, {**body, "filing": "maybe"})
    with pytest.raises(ServiceError, match="claims"):
        preview.preview(world.db, world.bureau, {**body, "claims": []})
