"""Settlement answers in the national shape (`setlinfo` + `setldetail`), yuan as Decimals."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from yibao.engine.result import Settlement
from yibao.render.jsontext import dumps
from yibao.render.settlement_json import fund_detail_dict, setlinfo_dict
from yibao.service.identity import mask
from yibao.store.models import Person

# 清算类别 by the engine's med_type (nhsa.md §3 clr_type): 11 门诊, 21 住院, 41 药店购药,
# 99 其他 for any other type
CLR_TYPE = {"11": "11", "14": "11", "21": "21", "41": "41"}
OTHER_CLR_TYPE = "99"


def clr_type(med_type: str) -> str:
    return CLR_TYPE.get(med_type, OTHER_CLR_TYPE)


def national_time(day: dt.date | str, at: dt.time) -> str:
    """A national 日期时间型 value, yyyy-MM-dd HH:mm:ss: `day` at the time of day `at`."""
    return f"{day} {at:%H:%M:%S}"


def psn_type(person: Person) -> str:
    """National 人员类别: 1101 在职, 1201 退休, 1103 灵活就业, 1501 居民 (nhsa.md)."""
    if person.scheme == "resident":
        return "1501"
    return {"retired": "1201", "flexible": "1103"}.get(person.employment or "", "1101")


def settlement_output(
    s: Settlement,
    person: Person,
    setl_id: str | None,
    mdtrt_id: str | None,
    msgid: str | None,
    categories: frozenset[str] = frozenset(),
    at: dt.time = dt.time(),
) -> dict[str, Any]:
    """The national setlinfo + setldetail of a settlement; `categories`: the person's on the
    settlement date (公务员 sets cvlserv_flag); `setl_time` is the settlement date at the
    time of day `at` (the request's)."""
    info: dict[str, Any] = {"mdtrt_id": mdtrt_id}
    if setl_id is not None:
        info["setl_id"] = setl_id
    info |= {
        "psn_no": person.id,
        "psn_name": person.name,
        "psn_cert_type": "01" if person.certno else None,  # 居民身份证: the one type enrolled
        "certno": mask(person.certno),
        "gend": {"M": "1", "F": "2"}.get(person.sex or "", "0"),
        "brdy": person.birth_date.isoformat() if person.birth_date else None,
        "insutype": s.insutype,
        "psn_type": psn_type(person),
        "cvlserv_flag": "1" if "civil_servant" in categories else "0",
        "setl_time": national_time(s.setl_date, at),
        "med_type": s.med_type,
        **setlinfo_dict(s.setlinfo),
        "medins_setl_id": msgid,
        "clr_type": clr_type(s.med_type),
        "policy_version": s.policy_version,
    }
    return {"setlinfo": info, "setldetail": [fund_detail_dict(d) for d in s.setldetail]}


class Answer(dict):
    """A service answer with its JSON text (`json`), rendered once: the text is stored for
    replay and sent by the API as it is. Treat it as read-only; copy it to change it."""

    __slots__ = ("json",)

    def __init__(self, value: dict[str, Any], text: str) -> None:
        super().__init__(value)
        self.json = text


def freeze(answer: dict[str, Any]) -> str:
    """The answer as stored for idempotent replay (exact decimals kept)."""
    if isinstance(answer, Answer):
        return answer.json
    return compact_json(answer)


def rendered(answer: dict[str, Any]) -> Answer:
    """`answer` with its JSON text, rendered now."""
    return Answer(answer, compact_json(answer))


# A Decimal travels through the C JSON encoder as a string between two NULs (which the
# encoder escapes as \u0000) and comes out as the bare number it writes.
_MARK = "\x00"
_MARKED = re.compile(r'"\\u0000([^"\\\\]*)\\u0000"')


def compact_json(value: Any) -> str:
    """Exactly `yibao.render.jsontext.dumps(value, indent=None)` (Decimals as exact JSON
    numbers), through the standard library's C encoder: a settlement answer has some fifty
    values and this is its hot path. A string holding a NUL falls back to `dumps`."""
    marked, clean = _marked(value)
    if not clean:
        return dumps(value, indent=None)
    text = json.dumps(marked, ensure_ascii=False, separators=(",", ":"))
    return _MARKED.sub(r"\1", text)


def _marked(value: Any) -> tuple[Any, bool]:
    """`value` with Decimals as marked strings, and whether that is safe: no string holds
    a NUL already and every key is a string (as `dumps` would write it)."""
    if isinstance(value, Decimal):
        return f"{_MARK}{value}{_MARK}", True
    if isinstance(value, str):
        return value, _MARK not in value
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            out[key], clean = _marked(item)
            if not clean or not isinstance(key, str) or _MARK in key:
                return value, False
        return out, True
    if isinstance(value, list | tuple):
        items = []
        for item in value:
            marked, clean = _marked(item)
            if not clean:
                return value, False
            items.append(marked)
        return items, True
    return value, True


def thaw(text: str) -> Answer:
    """A stored answer back, exact decimals as Decimals, and its text kept."""
    return Answer(json.loads(text, parse_float=Decimal), text)
