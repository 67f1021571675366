"""Settlement answers in the national shape (`setlinfo` + `setldetail`), yuan as Decimals."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from yibao.engine.result import Settlement
from yibao.render.jsontext import dumps
from yibao.render.settlement_json import fund_detail_dict, setlinfo_dict
from yibao.service.identity import mask
from yibao.store.models import Person

CLR_TYPE = {"11": "11", "14": "11", "21": "21", "41": "41"}


def psn_type(person: Person) -> str:
    """National 人员类别: 1101 在职, 1201 退休, 1103 灵活就业, 1501 居民 (nhsa.md)."""
    if person.scheme == "resident":
        return "1501"
    return {"retired": "1201", "flexible": "1103"}.get(person.employment or "", "1101")


def settlement_output(
    s: Settlement, person: Person, setl_id: str | None, mdtrt_id: str | None, msgid: str | None
) -> dict[str, Any]:
    info: dict[str, Any] = {"mdtrt_id": mdtrt_id}
    if setl_id is not None:
        info["setl_id"] = setl_id
    info |= {
        "psn_no": person.id,
        "psn_name": person.name,
        "certno": mask(person.certno),
        "gend": {"M": "1", "F": "2"}.get(person.sex or "", "0"),
        "brdy": person.birth_date.isoformat() if person.birth_date else None,
        "insutype": s.insutype,
        "psn_type": psn_type(person),
        "setl_time": s.setl_date,
        "med_type": s.med_type,
        **setlinfo_dict(s.setlinfo),
        "medins_setl_id": msgid,
        "clr_type": CLR_TYPE.get(s.med_type, "99"),
        "policy_version": s.policy_version,
    }
    return {"setlinfo": info, "setldetail": [fund_detail_dict(d) for d in s.setldetail]}


def freeze(answer: dict[str, Any]) -> str:
    """The answer as stored for idempotent replay (exact decimals kept)."""
    return dumps(answer, indent=None)


def thaw(text: str) -> dict[str, Any]:
    return json.loads(text, parse_float=Decimal)
