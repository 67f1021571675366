"""Small claim files for the golden supervision tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from yibao.engine.inputs import ClaimFile
from yibao.supervision import supervise_claim_files


def item(code: str, price: str, day: str | None = None, qty: int = 1, **extra: Any) -> dict:
    out: dict[str, Any] = {"code": code, "name": code, "price": price, "quantity": qty}
    if day:
        out["date"] = day
    return out | extra


def stay(cid: str, admit: str, discharge: str, dx: str = "J18.9", inst: str = "H1", **kw) -> dict:
    """A stay billed a bed (S002) each day and a medicine on the admission day."""
    a, d = dt.date.fromisoformat(admit), dt.date.fromisoformat(discharge)
    days = [a + dt.timedelta(days=i) for i in range(max((d - a).days, 1))]
    items = kw.pop("items", None)
    if items is None:
        items = [item("S002", "60", str(x)) for x in days]
        items.append(item("XN02BEA001", "6", admit, 10))
    return {
        "id": cid,
        "date": discharge,
        "med_type": "21",
        "hospital_level": 3,
        "admit_date": admit,
        "discharge_date": discharge,
        "diagnoses": [dx],
        "institution": inst,
        "items": items,
    } | kw


def visit(cid: str, date: str, items: list[dict], med_type: str = "11", **kw) -> dict:
    return {
        "id": cid,
        "date": date,
        "med_type": med_type,
        "hospital_level": 2,
        "diagnoses": ["J06.9"],
        "institution": "H2",
        "items": items,
    } | kw


def claim_file(claims: list[dict], sex: str = "F", born: str = "1970-05-01", pid: str = "P1"):
    return {
        "region": "qingdao",
        "person": {
            "id": pid,
            "scheme": "employee",
            "employment": "in_service",
            "birth_date": born,
            "sex": sex,
        },
        "claims": claims,
    }


def flags(*files: dict, rule: str | None = None) -> list[dict]:
    from yibao.supervision.engine import flag_dicts

    found = flag_dicts(supervise_claim_files([ClaimFile.model_validate(f) for f in files]))
    return [f for f in found if rule is None or f["rule"] == rule]
