"""`POST /api/transactions`: the national-style envelope, one trade per `infno`.

Each trade is a row of `TRADES`: the national input node it reads (`data`, `signIn`, or the
whole `input`) and the one service call it makes. Business errors answer HTTP 200 with
`infcode -1` and a one-line `err_msg` naming the field path; a refused role is HTTP 403.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from yibao.api.common import db_of
from yibao.api.errors import ERROR_RESPONSES, ApiError
from yibao.api.logmask import LOGGER
from yibao.api.rendering import MoneyJSONResponse
from yibao.api.security import Caller
from yibao.service import persons, reconcile, settlement, visits
from yibao.service.errors import Forbidden, ServiceError
from yibao.service.messages import MessageId
from yibao.service.principal import Principal
from yibao.service.visits import Id, Node, Yuan, parse_input
from yibao.store.db import Database

log = logging.getLogger(LOGGER)
router = APIRouter(tags=["transactions"])


@dataclass(frozen=True)
class Message:
    """One envelope, authenticated: what a trade needs to make its service call."""

    db: Database
    who: Principal
    infno: str
    msgid: str
    fixmedins_code: str | None
    when: dt.datetime
    data: dict[str, Any]

    @property
    def day(self) -> dt.date:
        return self.when.date()


# --- inputs of the contract-shaped trades ---------------------------------------------------


def _national_date(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", value):
        return value[:10]
    raise ValueError("must be a date yyyy-MM-dd")


NationalDate = Annotated[dt.date, BeforeValidator(_national_date)]


class ClaimSettlement(Node):
    psn_no: Id
    claim: Any
    mdtrt_id: str | None = None


class Reversal(Node):
    psn_no: Id
    setl_id: Id
    mdtrt_id: str | None = None


class StatementQuery(Node):
    stmt_begndate: NationalDate
    stmt_enddate: NationalDate
    insutype: str | None = None
    clr_type: str | None = None
    medfee_sumamt: Yuan | None = None
    fund_pay_sumamt: Yuan | None = None
    acct_pay: Yuan | None = None
    fixmedins_setl_cnt: int | None = None


# --- the trades -----------------------------------------------------------------------------


def _person_info(m: Message) -> dict:
    return persons.insured_info(m.db, m.who, m.data, m.day)


def _upload_fees(m: Message) -> dict:
    return visits.upload_fees(m.db, m.who, m.data, m.fixmedins_code, m.msgid, m.infno, m.day)


def _by_claim(m: Message) -> bool:
    """Settle a claim-file claim (`claim`), or else the visit's uploaded lines (`mdtrt_id`)."""
    if "claim" in m.data:
        return True
    if "mdtrt_id" not in m.data:
        raise ServiceError("claim: required (a claim-file claim), or mdtrt_id of a visit")
    return False


def _pre_settle(m: Message) -> dict:
    if _by_claim(m):
        req = parse_input(ClaimSettlement, m.data)
        return settlement.pre_settle(
            m.db, m.who, req.psn_no, req.claim, m.fixmedins_code, req.mdtrt_id, m.when
        )
    return visits.pre_settle_visit(m.db, m.who, m.data, m.fixmedins_code, m.infno, m.when)


def _settle(m: Message) -> dict:
    if _by_claim(m):
        req = parse_input(ClaimSettlement, m.data)
        return settlement.settle(
            m.db,
            m.who,
            req.psn_no,
            req.claim,
            m.fixmedins_code,
            m.msgid,
            m.infno,
            req.mdtrt_id,
            when=m.when,
            claim_once=True,  # a claim-file claim settles once, even with an mdtrt_id echoed
        )
    return visits.settle_visit(m.db, m.who, m.data, m.fixmedins_code, m.msgid, m.infno, m.when)


def _reverse(m: Message) -> dict:
    req = parse_input(Reversal, m.data)
    return settlement.reverse(
        m.db, m.who, req.psn_no, req.setl_id, m.msgid, m.infno, m.when, req.mdtrt_id
    )


def _statement(m: Message) -> dict:
    req = parse_input(StatementQuery, m.data)
    claimed = req.model_dump(include={"medfee_sumamt", "fund_pay_sumamt", "acct_pay"})
    claimed["fixmedins_setl_cnt"] = req.fixmedins_setl_cnt
    return reconcile.statement(
        m.db,
        m.who,
        req.stmt_begndate,
        req.stmt_enddate,
        m.fixmedins_code,
        claimed,
        reconcile.Selection(insutype=req.insutype, clr_type=req.clr_type),
    )


def _write(use_case: Callable[..., dict]) -> Callable[[Message], dict]:
    """A national-flow write: (db, who, input, fixmedins_code, msgid, infno)."""
    return lambda m: use_case(m.db, m.who, m.data, m.fixmedins_code, m.msgid, m.infno)


@dataclass(frozen=True)
class Trade:
    title: str
    run: Callable[[Message], dict]
    node: str | None = "data"  # the national input node holding the fields; None: all of input
    read_only: bool = False  # auditors may call it
    as_institution: bool = True  # acts for an institution: a bureau key names fixmedins_code


TRADES: dict[str, Trade] = {
    "9001": Trade(
        "签到 sign in",
        lambda m: visits.sign_in(m.db, m.who, m.data, m.fixmedins_code, m.msgid, m.infno, m.when),
        node="signIn",
        as_institution=False,
    ),
    "1101": Trade("人员信息获取 person info", _person_info, read_only=True, as_institution=False),
    "2201": Trade("门诊挂号 outpatient registration", _write(visits.register)),
    "2202": Trade("门诊挂号撤销 cancel registration", _write(visits.cancel_visit)),
    "2203": Trade("就诊信息上传 visit information", _write(visits.record_visit_info), node=None),
    "2204": Trade("门诊费用明细上传 outpatient fee upload", _upload_fees, node=None),
    "2205": Trade("门诊费用明细撤销 cancel outpatient fees", _write(visits.cancel_fees)),
    "2206": Trade("门诊预结算 outpatient pre-settlement", _pre_settle),
    "2207": Trade("门诊结算 outpatient settlement", _settle),
    "2208": Trade("门诊结算撤销 reverse outpatient settlement", _reverse),
    "2301": Trade("住院费用明细上传 inpatient fee upload", _upload_fees, node=None),
    "2302": Trade("住院费用明细撤销 cancel inpatient fees", _write(visits.cancel_fees)),
    "2303": Trade("住院预结算 inpatient pre-settlement", _pre_settle),
    "2304": Trade("住院结算 inpatient settlement", _settle),
    "2305": Trade("住院结算撤销 reverse inpatient settlement", _reverse),
    "2401": Trade("入院办理 admission", _write(visits.admit), node=None),
    "2402": Trade("出院办理 discharge", _write(visits.discharge), node=None),
    "2404": Trade("入院撤销 cancel admission", _write(visits.cancel_visit)),
    "3201": Trade("对总账 reconcile totals", _statement, read_only=True, as_institution=False),
}


# --- the envelope ---------------------------------------------------------------------------

# the whole text: a zone offset after the time (-05:00, Z) was dropped silently (QA)
_INF_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}")


def _inf_time(value: Any) -> Any:
    if not isinstance(value, str) or not _INF_TIME.fullmatch(value):
        raise ValueError("must be a date-time yyyy-MM-dd HH:mm:ss")
    return value


InfTime = Annotated[
    dt.datetime,
    BeforeValidator(_inf_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}$",
            "description": "交易时间 yyyy-MM-dd HH:mm:ss (the caller's clock; its date is "
            "the outpatient settlement date of the national flow)",
            "examples": ["2023-03-01 10:00:00"],
        }
    ),
]
Infno = Literal[tuple(TRADES)]  # type: ignore[valid-type]
Extra = StrictStr | StrictInt | None


class Envelope(BaseModel):
    """The national request envelope (nhsa.md §1.1); fields yibao does not use are optional."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "infno": "1101",
                    "msgid": "H00120230301100000001",
                    "fixmedins_code": "H001",
                    "inf_time": "2023-03-01 10:00:00",
                    "input": {"psn_no": "P001"},
                }
            ]
        }
    )
    infno: Infno = Field(description="交易编号")
    msgid: str = Field(
        min_length=1,
        max_length=60,
        description="发送方报文ID: unique per message; a write trade sent again with it gets the "
        "first answer (reads — 1101, 2206, 3201 — are answered afresh)",
    )
    fixmedins_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=30,
        description="定点医药机构编号: an institution key acts only as itself (may be omitted); "
        "a bureau key names the institution it acts for",
    )
    inf_time: InfTime
    input: dict[str, Any] = Field(
        description="交易输入 (required, as nhsa.md marks it): the trade's fields, flat or "
        "under the national node "
        "(`data`, `signIn`, `mdtrtinfo` + `diseinfo`, `feedetail`, `dscginfo`)",
    )
    mdtrtarea_admvs: Extra = None
    insuplc_admdvs: Extra = None
    recer_sys_code: Extra = None
    dev_no: Extra = None
    dev_safe_info: Extra = None
    cainfo: Extra = None
    signtype: Extra = None
    infver: Extra = None
    opter_type: Extra = None
    opter: Extra = None
    opter_name: Extra = None
    fixmedins_name: Extra = None
    sign_no: Extra = None


class TransactionAnswer(BaseModel):
    infcode: int = Field(description="0 success, -1 business error (see err_msg)")
    err_msg: str | None = Field(description="one line naming the field path and the reason")
    output: dict[str, Any] | None = Field(description="交易输出; money as exact JSON numbers")


def _trade_table() -> str:
    rows = "\n".join(f"| `{infno}` | {trade.title} |" for infno, trade in TRADES.items())
    return (
        "National-style transactions. `2206`/`2207`/`2303`/`2304` take either "
        "`{psn_no, claim}` (a claim-file claim) or `{psn_no, mdtrt_id, ...}` (the visit's "
        "uploaded fee lines). `2208`/`2305` take `{psn_no, setl_id}`; `3201` "
        "`{stmt_begndate, stmt_enddate}`, optionally `insutype` and `clr_type`.\n\n"
        "| infno | trade |\n| --- | --- |\n" + rows
    )


@router.post(
    "/api/transactions",
    response_model=TransactionAnswer,
    response_class=MoneyJSONResponse,
    responses=ERROR_RESPONSES,
    summary="National-style transaction (infno)",
    description=_trade_table(),
)
def transaction(envelope: Envelope, who: Caller, request: Request) -> MoneyJSONResponse:
    return answer(envelope, who, db_of(request))


def answer(envelope: Envelope, who: Principal, db: Database) -> MoneyJSONResponse:
    """The trade's answer to an authenticated envelope (the route's, and `lane.py`'s)."""
    trade = TRADES[envelope.infno]
    if who.role == "auditor" and not trade.read_only:
        raise ApiError(403, f"role auditor may not call {envelope.infno} (read-only)")
    if who.role == "institution" and envelope.fixmedins_code not in (None, who.institution_code):
        raise ApiError(403, f"fixmedins_code {envelope.fixmedins_code} is not the caller's")
    node = envelope.input.get(trade.node) if trade.node else None
    message = Message(
        db=db,
        who=who,
        infno=envelope.infno,
        msgid=MessageId(
            envelope.msgid,
            envelope.infno,
            {"fixmedins_code": envelope.fixmedins_code, "input": envelope.input},
        ),
        fixmedins_code=envelope.fixmedins_code or who.institution_code,
        when=envelope.inf_time,
        data=node if isinstance(node, dict) else envelope.input,
    )
    try:
        if trade.as_institution and message.fixmedins_code is None:
            raise ServiceError(
                f"fixmedins_code: required when a {who.role} key calls {trade.title}"
            )
        reply = {"infcode": 0, "err_msg": None, "output": trade.run(message)}
    except Forbidden as exc:
        raise ApiError(403, exc.message) from None
    except ServiceError as exc:
        reply = {"infcode": -1, "err_msg": exc.message, "output": None}
    log.info(
        "%s %s msgid=%s caller=%s infcode=%s%s",
        envelope.infno,
        trade.title,
        envelope.msgid,
        who.name,
        reply["infcode"],
        f" err_msg={reply['err_msg']}" if reply["err_msg"] else "",
    )
    return MoneyJSONResponse(reply)
