"""The national flow (nhsa.md): sign in, register a visit, describe it, upload its fee lines,
then pre-settle / settle the visit by `mdtrt_id`.

9001 签到 · 2201 门诊挂号 / 2401 入院办理 → a Visit and its `mdtrt_id` · 2203 就诊信息上传 /
2402 出院办理 · 2204 / 2301 费用明细上传 (each line answered with its buckets) · 2205 / 2302
费用明细撤销 · 2202 / 2404 挂号 / 入院撤销 · 2206 / 2207 and 2303 / 2304 by `mdtrt_id`: the
visit's unsettled lines become a claim of the claim file and go through `settlement`.

The claim built from a visit (`visit_claim`):
- `med_type` from the national code through the region's code table (`codes`), diagnoses
  from `diseinfo[].diag_code` (main diagnosis first, invalid ones dropped), `disease` from
  `dise_codg`; hospital level from the Institution row (pharmacies: the engine's default);
  `out_of_region` when the institution's region is not the person's.
- Dates: an outpatient claim is dated the day of the settling message (`inf_time`); an
  inpatient claim runs from the admission (`begntime` of 2401) to the discharge: the
  `endtime` sent with 2303 / 2304, else the one recorded by 2402, else the message's day.
- Lines: class and price limit come from the region's catalogue by `med_list_codg`; a code
  outside the catalogue uses its `chrgitm_lv` (01 甲 A, 02 乙 B, 03 丙 C), and with none it is
  outside the catalogue (fully self-paid). A unit price with more than two decimals is
  settled as the line total (quantity 1, the price limit scaled to the quantity).

Every write is idempotent by `msgid` (the first answer is stored and replayed) and audited.
A settlement first reserves the lines it takes under its msgid, so two messages can never
settle one line twice; a line is free again when its settlement is reversed, or when the
message that reserved it failed.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.catalog.model import Catalog
from yibao.engine.buckets import selfpay_ratio, split_lines
from yibao.engine.funds import INSUTYPE
from yibao.errors import first_error
from yibao.money import (
    ABOVE_MAX_CLAIM,
    MAX_CLAIM_YUAN,
    MoneyError,
    fen_to_yuan,
    ratio4,
    round_half_up,
    to_decimal,
    yuan_to_fen,
)
from yibao.service import audit, codes, settlement
from yibao.service.errors import Conflict, NotFound, ServiceError
from yibao.service.principal import Principal
from yibao.service.settlement import (
    PHARMACY_MED_TYPES,
    enrolled_person,
    parse_claim,
    replay,
    replay_after_race,
    settling_institution,
    still_to_come,
    stored_answer,
)
from yibao.settling import policy_and_catalogs
from yibao.store.db import Database
from yibao.store.models import Idempotency, Institution, Person, Settlement, Visit

INPATIENT_TRADES = frozenset({"2301", "2302", "2303", "2304", "2401", "2402", "2404"})
# A line reserved by a settling message that neither finished nor failed cleanly (a crash)
# is free again after this long.
RESERVATION_TIMEOUT = dt.timedelta(minutes=5)


# --- inputs (national field names; the many fields yibao does not use are ignored) --------


# nhsa.md 日期时间型: yyyy-MM-dd HH:mm:ss (a date alone: midnight). Anything else is refused:
# pydantic's lax datetime read "20260401" as Unix seconds, 1970-08-23 (QA)
NATIONAL_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?")


def _timestamp(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str) or not NATIONAL_TIMESTAMP.fullmatch(text := value.strip()):
        raise ValueError("must be a date-time string yyyy-MM-dd HH:mm:ss")
    return text if len(text) > 10 else text + " 00:00:00"


MAX_COUNT = Decimal(10) ** 12  # a quantity (cnt); any real one is far below


def _decimal(places: int, positive: bool = False, money: bool = True) -> Callable[[Any], Decimal]:
    def parse(value: Any) -> Decimal:
        try:
            number = to_decimal(value)
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        if positive and number <= 0:
            raise ValueError("must be > 0 (a refund cancels the upload: 2205 / 2302)")
        if number < 0:
            raise ValueError("must be >= 0")
        if money and number > MAX_CLAIM_YUAN:  # it could never be settled
            raise ValueError(ABOVE_MAX_CLAIM)
        if not money and number >= MAX_COUNT:  # nor could this, and its decimals overflow
            raise ValueError(f"must be below {MAX_COUNT:,}")
        if number != number.quantize(Decimal(1).scaleb(-places)):
            raise ValueError(f"has more than {places} decimals")
        return number

    return parse


def _not_ahead(value: dt.datetime) -> dt.datetime:
    """Every time of the visit flow is of something that happened (a registration, a fee, a
    discharge): one still to come would be settled before the care (QA: 2402 took a
    discharge a fortnight ahead)."""
    if (ahead := still_to_come(value.date())) is not None:
        raise ValueError(ahead)
    return value


Timestamp = Annotated[dt.datetime, BeforeValidator(_timestamp), AfterValidator(_not_ahead)]
Yuan = Annotated[Decimal, BeforeValidator(_decimal(2))]
Count = Annotated[Decimal, BeforeValidator(_decimal(4, positive=True, money=False))]
UnitPrice = Annotated[Decimal, BeforeValidator(_decimal(6))]
Id = Annotated[str, Field(min_length=1, max_length=30)]
Code = Annotated[str, Field(min_length=1, max_length=50)]
M = TypeVar("M", bound=BaseModel)


class Node(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class SignIn(Node):
    opter_no: str | None = None
    mac: str | None = None
    ip: str | None = None


class Registration(Node):
    """2201 data."""

    psn_no: Id
    insutype: str | None = None
    begntime: Timestamp
    ipt_otp_no: Id
    med_type: str | None = None
    mdtrt_cert_type: str | None = None
    atddr_no: str | None = None
    dr_name: str | None = None
    dept_code: str | None = None
    dept_name: str | None = None
    caty: str | None = None


class Diagnosis(Node):
    """One `diseinfo` row."""

    diag_code: Annotated[str, Field(min_length=1, max_length=20)]
    diag_name: str | None = None
    diag_type: str | None = None
    diag_srt_no: int | str | None = None
    maindiag_flag: str | None = None
    vali_flag: str | None = None


class AdmissionInfo(Node):
    psn_no: Id
    insutype: str | None = None
    begntime: Timestamp
    med_type: Code
    ipt_no: Id
    mdtrt_cert_type: str | None = None
    adm_dept_codg: str | None = None
    adm_dept_name: str | None = None
    adm_bed: str | None = None
    atddr_no: str | None = None
    chfpdr_name: str | None = None
    adm_diag_dscr: str | None = None
    dscg_maindiag_code: str | None = None
    dise_codg: str | None = None


class Admission(Node):
    """2401 input."""

    mdtrtinfo: AdmissionInfo
    diseinfo: list[Diagnosis] = Field(default_factory=list, max_length=100)


class VisitDetails(Node):
    mdtrt_id: Id
    psn_no: Id
    med_type: Code
    begntime: Timestamp | None = None
    dise_codg: str | None = None
    dise_name: str | None = None
    main_cond_dscr: str | None = None


class VisitInfo(Node):
    """2203 input."""

    mdtrtinfo: VisitDetails
    diseinfo: list[Diagnosis] = Field(default_factory=list, max_length=100)


class DischargeDetails(Node):
    mdtrt_id: Id
    psn_no: Id
    endtime: Timestamp
    dise_codg: str | None = None
    dscg_way: str | None = None


class Discharge(Node):
    """2402 input."""

    dscginfo: DischargeDetails
    diseinfo: list[Diagnosis] = Field(default_factory=list, max_length=100)


class FeeLine(Node):
    """One `feedetail` row of 2204 / 2301."""

    feedetl_sn: Id
    mdtrt_id: Id
    psn_no: Id
    fee_ocur_time: Timestamp
    med_list_codg: Code
    medins_list_codg: Annotated[str, Field(min_length=1, max_length=150)]
    det_item_fee_sumamt: Yuan
    cnt: Count
    pric: UnitPrice
    chrgitm_lv: str | None = None
    chrg_bchno: str | None = None
    hilist_name: str | None = None
    medins_list_name: str | None = None
    med_chrgitm_type: str | None = None
    init_feedetl_sn: str | None = None


class FeeUpload(Node):
    feedetail: list[FeeLine] = Field(min_length=1, max_length=2000)


class VisitRef(Node):
    """2202 / 2404 data, and 2205 / 2302 data (`chrg_bchno` or `feedetl_sn`; none: all)."""

    mdtrt_id: Id
    psn_no: Id
    chrg_bchno: str | None = None
    feedetl_sn: str | None = None


class VisitSettlement(Node):
    """2206 / 2207 / 2303 / 2304 data when the visit's uploaded lines are settled."""

    psn_no: Id
    mdtrt_id: Id
    med_type: str | None = None
    medfee_sumamt: Yuan | None = None
    acct_used_flag: Literal["0", "1"] | None = None  # 个人账户使用标志
    insutype: str | None = None
    chrg_bchno: str | None = None
    endtime: Timestamp | None = None
    mid_setl_flag: Literal["0", "1"] | None = None  # 中途结算标志


def parse_input(model: type[M], raw: Any) -> M:
    """Validate a trade's input; the first problem as `path: reason` (a ServiceError)."""
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise ServiceError(first_error(exc)) from None


# --- use cases --------------------------------------------------------------------------


def sign_in(
    db: Database,
    who: Principal,
    raw: Any,
    fixmedins_code: str | None,
    msgid: str,
    infno: str,
    when: dt.datetime,
) -> dict[str, Any]:
    """9001 签到: a sign number for the operator; `sign_time` is the message's own time."""
    data = parse_input(SignIn, raw)

    def work(session: Session) -> dict[str, Any]:
        code = fixmedins_code or who.institution_code
        if code or who.role == "institution":
            code = settling_institution(session, who, code).code
        sign_no = "SN" + uuid.uuid4().hex[:24].upper()
        audit.record(
            session, who, "signin", code or who.name, opter_no=data.opter_no, sign_no=sign_no
        )
        return {"signinoutb": {"sign_time": f"{when:%Y-%m-%d %H:%M:%S}", "sign_no": sign_no}}

    return _once(db, who, msgid, infno, work)


def register(
    db: Database, who: Principal, raw: Any, fixmedins_code: str | None, msgid: str, infno: str
) -> dict[str, Any]:
    """2201 门诊挂号: open an outpatient visit (med_type 11 until 2203 says otherwise)."""
    data = parse_input(Registration, raw)

    def work(session: Session) -> dict[str, Any]:
        inst = settling_institution(session, who, fixmedins_code)
        person = enrolled_person(session, data.psn_no)
        _check_insutype(person, data.insutype)
        med_type = data.med_type or ("41" if inst.kind == "pharmacy" else "11")
        _med_type(person, med_type, "med_type", inpatient=False, at=inst)
        visit = _open_visit(session, inst, person, med_type, data.begntime, "outpatient")
        visit.info = {
            **visit.info,
            "ipt_otp_no": data.ipt_otp_no,
            "dept_code": data.dept_code,
            "dept_name": data.dept_name,
            "atddr_no": data.atddr_no,
            "dr_name": data.dr_name,
        }
        audit.record(
            session, who, "visit.register", visit.mdtrt_id, psn_no=person.id, institution=inst.code
        )
        return {
            "data": {
                "mdtrt_id": visit.mdtrt_id,
                "psn_no": person.id,
                "ipt_otp_no": data.ipt_otp_no,
            }
        }

    return _once(db, who, msgid, infno, work)


def admit(
    db: Database, who: Principal, raw: Any, fixmedins_code: str | None, msgid: str, infno: str
) -> dict[str, Any]:
    """2401 入院办理: open an inpatient stay from its admission time."""
    data = parse_input(Admission, raw)
    info = data.mdtrtinfo

    def work(session: Session) -> dict[str, Any]:
        inst = settling_institution(session, who, fixmedins_code)
        person = enrolled_person(session, info.psn_no)
        _check_insutype(person, info.insutype)
        _med_type(person, info.med_type, "mdtrtinfo.med_type", inpatient=True, at=inst)
        visit = _open_visit(session, inst, person, info.med_type, info.begntime, "inpatient")
        diagnoses = _diagnoses(data.diseinfo)
        if not diagnoses and info.dscg_maindiag_code:
            diagnoses = [info.dscg_maindiag_code.upper()]
        visit.info = {
            **visit.info,
            "ipt_no": info.ipt_no,
            "adm_dept_codg": info.adm_dept_codg,
            "adm_dept_name": info.adm_dept_name,
            "adm_bed": info.adm_bed,
            "diagnoses": diagnoses,
            "disease": info.dise_codg,
        }
        audit.record(
            session, who, "visit.admit", visit.mdtrt_id, psn_no=person.id, institution=inst.code
        )
        return {"result": {"mdtrt_id": visit.mdtrt_id, "psn_no": person.id, "ipt_no": info.ipt_no}}

    return _once(db, who, msgid, infno, work)


def record_visit_info(
    db: Database, who: Principal, raw: Any, fixmedins_code: str | None, msgid: str, infno: str
) -> dict[str, Any]:
    """2203 就诊信息上传: the visit's medical type, diagnoses and chronic-disease code."""
    data = parse_input(VisitInfo, raw)
    info = data.mdtrtinfo

    def work(session: Session) -> dict[str, Any]:
        inst = settling_institution(session, who, fixmedins_code)
        visit = _visit(session, inst, info.mdtrt_id, info.psn_no)
        person = enrolled_person(session, visit.person_id)
        _med_type(person, info.med_type, "mdtrtinfo.med_type", _is_inpatient(visit), at=inst)
        visit.med_type = info.med_type
        visit.info = {
            **visit.info,
            "diagnoses": _diagnoses(data.diseinfo),
            "disease": info.dise_codg,
            "dise_name": info.dise_name,
        }
        audit.record(session, who, "visit.info", visit.mdtrt_id, med_type=info.med_type)
        return {}

    return _once(db, who, msgid, infno, work)


def discharge(
    db: Database, who: Principal, raw: Any, fixmedins_code: str | None, msgid: str, infno: str
) -> dict[str, Any]:
    """2402 出院办理: the discharge time (the inpatient settlement date) and final diagnoses."""
    data = parse_input(Discharge, raw)
    info = data.dscginfo

    def work(session: Session) -> dict[str, Any]:
        inst = settling_institution(session, who, fixmedins_code)
        visit = _visit(session, inst, info.mdtrt_id, info.psn_no, inpatient=True)
        if info.endtime.date() < visit.begin_date:
            raise ServiceError(f"dscginfo.endtime: before the admission on {visit.begin_date}")
        visit.end_date = info.endtime.date()
        changes: dict[str, Any] = {"discharged_at": f"{info.endtime:%Y-%m-%d %H:%M:%S}"}
        if data.diseinfo:
            changes["diagnoses"] = _diagnoses(data.diseinfo)
        if info.dise_codg:
            changes["disease"] = info.dise_codg
        visit.info = {**visit.info, **changes}
        audit.record(session, who, "visit.discharge", visit.mdtrt_id, end=str(visit.end_date))
        return {}

    return _once(db, who, msgid, infno, work)


def cancel_visit(
    db: Database, who: Principal, raw: Any, fixmedins_code: str | None, msgid: str, infno: str
) -> dict[str, Any]:
    """2202 挂号撤销 / 2404 入院撤销: only a visit with nothing settled can be cancelled."""
    data = parse_input(VisitRef, raw)

    def work(session: Session) -> dict[str, Any]:
        inst = settling_institution(session, who, fixmedins_code)
        visit = _visit(session, inst, data.mdtrt_id, data.psn_no, inpatient=infno == "2404")
        states = _states(session, visit)
        if any(state != "free" for state, _ in states.values()):
            raise Conflict(f"visit {visit.mdtrt_id} has settled fee lines: reverse them first")
        visit.status = "cancelled"
        audit.record(session, who, "visit.cancel", visit.mdtrt_id)
        return {}

    return _once(db, who, msgid, infno, work)


def upload_fees(
    db: Database,
    who: Principal,
    raw: Any,
    fixmedins_code: str | None,
    msgid: str,
    infno: str,
    day: dt.date,
) -> dict[str, Any]:
    """2204 / 2301 费用明细上传: store the lines; answer each with its class and buckets."""
    data = parse_input(FeeUpload, raw)
    first = data.feedetail[0]
    seen: set[str] = set()
    for i, line in enumerate(data.feedetail):
        where = f"feedetail[{i}]"
        if (line.mdtrt_id, line.psn_no) != (first.mdtrt_id, first.psn_no):
            raise ServiceError(f"{where}.mdtrt_id: one upload belongs to one visit and person")
        if line.feedetl_sn in seen:
            raise ServiceError(f"{where}.feedetl_sn: {line.feedetl_sn} appears twice")
        seen.add(line.feedetl_sn)
        total = round_half_up(line.pric * line.cnt * 100)
        if total != yuan_to_fen(line.det_item_fee_sumamt):
            raise ServiceError(
                f"{where}.det_item_fee_sumamt: {line.det_item_fee_sumamt} is not "
                f"pric × cnt ({fen_to_yuan(total)})"
            )

    def work(session: Session) -> dict[str, Any]:
        inst = settling_institution(session, who, fixmedins_code)
        visit = _visit(session, inst, first.mdtrt_id, first.psn_no, infno in INPATIENT_TRADES)
        person = enrolled_person(session, visit.person_id)
        uploaded = {line["feedetl_sn"] for line in visit.items}
        for i, line in enumerate(data.feedetail):
            if line.feedetl_sn in uploaded:
                raise ServiceError(
                    f"feedetail[{i}].feedetl_sn: {line.feedetl_sn} was already uploaded "
                    f"for visit {visit.mdtrt_id}"
                )
            if line.chrgitm_lv and codes.item_class(person.region, line.chrgitm_lv) is None:
                raise ServiceError(
                    f"feedetail[{i}].chrgitm_lv: {line.chrgitm_lv} is not a 收费项目等级 "
                    f"of region {person.region}"
                )
        new = [_stored_line(line, msgid) for line in data.feedetail]
        result = _line_buckets(visit, inst, person, new, day)
        visit.items = [*visit.items, *new]
        audit.record(
            session,
            who,
            "visit.upload_fees",
            visit.mdtrt_id,
            lines=len(new),
            amount=str(sum(line.det_item_fee_sumamt for line in data.feedetail)),
        )
        return {"result": result}

    return _once(db, who, msgid, infno, work)


def cancel_fees(
    db: Database, who: Principal, raw: Any, fixmedins_code: str | None, msgid: str, infno: str
) -> dict[str, Any]:
    """2205 / 2302 费用明细撤销: drop unsettled lines (one batch, one line, or all)."""
    data = parse_input(VisitRef, raw)
    everything = data.feedetl_sn in (None, "0000") and data.chrg_bchno is None

    def work(session: Session) -> dict[str, Any]:
        inst = settling_institution(session, who, fixmedins_code)
        visit = _visit(session, inst, data.mdtrt_id, data.psn_no, infno in INPATIENT_TRADES)
        states = _states(session, visit)

        def chosen(line: dict[str, Any]) -> bool:
            return (
                everything
                or line["feedetl_sn"] == data.feedetl_sn
                or (data.chrg_bchno is not None and line.get("chrg_bchno") == data.chrg_bchno)
            )

        dropped = [line for line in visit.items if chosen(line)]
        if not dropped:
            raise NotFound(f"visit {visit.mdtrt_id} has no such fee lines")
        busy = [line["feedetl_sn"] for line in dropped if states[line["feedetl_sn"]][0] != "free"]
        if busy:
            raise Conflict(f"fee lines {', '.join(busy)} are settled: reverse the settlement first")
        visit.items = [line for line in visit.items if not chosen(line)]
        audit.record(
            session,
            who,
            "visit.cancel_fees",
            visit.mdtrt_id,
            lines=[line["feedetl_sn"] for line in dropped],
        )
        return {"result": {"mdtrt_id": visit.mdtrt_id, "cancelled": len(dropped)}}

    return _once(db, who, msgid, infno, work)


def pre_settle_visit(
    db: Database,
    who: Principal,
    raw: Any,
    fixmedins_code: str | None,
    infno: str,
    when: dt.datetime,
) -> dict[str, Any]:
    """2206 / 2303 by mdtrt_id: pre-settle the visit's unsettled lines; nothing is written.
    `when`: the message's time (inf_time)."""
    data = parse_input(VisitSettlement, raw)
    with db.sessions() as session:
        inst = settling_institution(session, who, fixmedins_code)
        visit = _visit(session, inst, data.mdtrt_id, data.psn_no, infno in INPATIENT_TRADES)
        person = enrolled_person(session, visit.person_id)
        lines = _lines_to_settle(visit, _states(session, visit), data.chrg_bchno)
        claim = visit_claim(visit, inst, person, lines, data, when.date())
    return settlement.pre_settle(
        db, who, person.id, claim, inst.code, visit.mdtrt_id, when, from_catalogue=True
    )


def settle_visit(
    db: Database,
    who: Principal,
    raw: Any,
    fixmedins_code: str | None,
    msgid: str,
    infno: str,
    when: dt.datetime,
) -> dict[str, Any]:
    """2207 / 2304 by mdtrt_id: reserve the unsettled lines under msgid, then settle them.
    `when`: the message's time (inf_time)."""
    data = parse_input(VisitSettlement, raw)
    with db.transaction() as session:
        if (stored := replay(session, msgid, who, infno)) is not None:
            return stored
        inst = settling_institution(session, who, fixmedins_code)
        visit = _visit(session, inst, data.mdtrt_id, data.psn_no, infno in INPATIENT_TRADES)
        person = enrolled_person(session, visit.person_id)
        settled = _settlements_by_msgid(session, visit)
        states = _states(session, visit, settled)
        _msgid_not_anothers(session, visit, states, settled, msgid, who)
        lines = _lines_to_settle(visit, states, data.chrg_bchno, msgid)
        claim = visit_claim(visit, inst, person, lines, data, when.date())
        now = _now().isoformat()
        taken = {line["feedetl_sn"] for line in lines}
        visit.items = [
            {**line, "reserved_by": msgid, "reserved_caller": who.name, "reserved_at": now}
            if line["feedetl_sn"] in taken
            else line
            for line in visit.items
        ]
        audit.record(session, who, "visit.reserve", visit.mdtrt_id, lines=sorted(taken))
    try:
        answer = settlement.settle(
            db,
            who,
            person.id,
            claim,
            inst.code,
            msgid,
            infno,
            visit.mdtrt_id,
            when,
            from_catalogue=True,
        )
    except ServiceError:
        _release(db, visit.mdtrt_id, msgid)
        raise
    return answer


def visit_view(db: Database, who: Principal, mdtrt_id: str) -> dict[str, Any]:
    """A visit and its fee lines, each with its state (free / reserved / settled)."""
    with db.sessions() as session:
        visit = session.get(Visit, mdtrt_id)
        if visit is None or not who.can_see(visit.institution_code):
            raise NotFound(f"visit {mdtrt_id} not found")
        states = _states(session, visit)
        return {
            "mdtrt_id": visit.mdtrt_id,
            "psn_no": visit.person_id,
            "fixmedins_code": visit.institution_code,
            "kind": visit.info.get("kind"),
            "med_type": visit.med_type,
            "begin_date": visit.begin_date.isoformat(),
            "end_date": visit.end_date.isoformat() if visit.end_date else None,
            "status": visit.status,
            "diagnoses": visit.info.get("diagnoses", []),
            "disease": visit.info.get("disease"),
            "feedetail": [
                {
                    "feedetl_sn": line["feedetl_sn"],
                    "med_list_codg": line["med_list_codg"],
                    "medins_list_codg": line["medins_list_codg"],
                    "name": line["name"],
                    "chrgitm_lv": line.get("chrgitm_lv"),
                    "chrg_bchno": line.get("chrg_bchno"),
                    "fee_ocur_time": line["fee_ocur_time"],
                    "cnt": Decimal(line["cnt"]),
                    "pric": Decimal(line["pric"]),
                    "det_item_fee_sumamt": Decimal(line["det_item_fee_sumamt"]),
                    "state": states[line["feedetl_sn"]][0],
                    "setl_id": states[line["feedetl_sn"]][1],
                }
                for line in visit.items
            ],
        }


def visit_claim(
    visit: Visit,
    inst: Institution,
    person: Person,
    lines: list[dict[str, Any]],
    data: VisitSettlement,
    day: dt.date,
) -> dict[str, Any]:
    """The claim-file claim that settles `lines` of the visit (dates: see the module text)."""
    inpatient = _is_inpatient(visit)
    med = _med_type(person, data.med_type or visit.med_type, "med_type", inpatient)
    _check_insutype(person, data.insutype)
    if data.medfee_sumamt is not None:
        uploaded = sum(yuan_to_fen(line["det_item_fee_sumamt"]) for line in lines)
        if yuan_to_fen(data.medfee_sumamt) != uploaded:
            raise ServiceError(
                f"medfee_sumamt: {data.medfee_sumamt} is not the total of the visit's "
                f"unsettled fee lines ({fen_to_yuan(uploaded)})"
            )
    if data.mid_setl_flag == "1":
        raise ServiceError(
            "mid_setl_flag: 1 (中途结算) is not settled here: a stay settled in parts would be "
            "charged its per-admission deductible once per part; settle it once, at discharge"
        )
    discharge = data.endtime.date() if data.endtime is not None else None
    if discharge is not None and visit.end_date is not None and discharge != visit.end_date:
        # the fees after the recorded discharge, or the year, would move with it (QA)
        raise ServiceError(
            f"endtime: {discharge} is not the discharge 2402 recorded ({visit.end_date})"
        )
    claim = _claim(visit, inst, person, lines, day, med, data.acct_used_flag != "0", discharge)
    _check_settles_after_care(visit, lines, claim)
    return claim


def _check_settles_after_care(
    visit: Visit, lines: list[dict[str, Any]], claim: dict[str, Any]
) -> None:
    """A visit settles on its day (an outpatient claim: inf_time's date; a stay: its
    discharge), which cannot come before the registration or any fee line: it would take
    the year-to-date deductible and cap of an earlier year, and land in a period already
    reconciled (QA: a 2207 dated a year back settled a visit registered today)."""
    inpatient = "discharge_date" in claim
    settles_on = dt.date.fromisoformat(claim["discharge_date" if inpatient else "date"])
    field = "endtime" if inpatient else "inf_time"
    if settles_on < visit.begin_date:
        raise ServiceError(
            f"{field}: {settles_on} is before the visit's registration ({visit.begin_date})"
        )
    for line in lines:
        if dt.date.fromisoformat(line["fee_ocur_time"][:10]) > settles_on:
            raise ServiceError(
                f"{field}: {settles_on} is before fee line {line['feedetl_sn']} "
                f"(fee_ocur_time {line['fee_ocur_time']})"
            )


def _msgid_not_anothers(
    session: Session,
    visit: Visit,
    states: dict[str, tuple[str, str | None]],
    settled: dict[str, tuple[str, str]],
    msgid: str,
    who: Principal,
) -> None:
    """A msgid is its caller's own (the stored answers are keyed by both), but a visit's
    lines know the message that settles them by msgid: the same msgid from the bureau and
    the hospital would resume the other's lines and settle them twice (QA). So on one visit
    a msgid settles for one caller: one that already made a settlement of the visit (even a
    reversed one) is another caller's, since this caller's own would have been replayed —
    its reversed row would otherwise make this caller's reservation read as free (QA) —
    unless the copy of this caller's message raced past its replay check.
    Lines reserved before the caller was kept name none: refused only once settled."""
    # ours only when a copy raced past its replay check: the answer was stored with it
    if msgid in settled and session.get(Idempotency, (who.name, msgid)) is None:
        raise Conflict(
            f"msgid {msgid} settled visit {visit.mdtrt_id} for another caller "
            f"({settled[msgid][1]}): a new settlement needs a msgid of its own"
        )
    for line in visit.items:
        if line.get("reserved_by") != msgid:
            continue
        caller = line.get("reserved_caller")
        if caller == who.name or (caller is None and states[line["feedetl_sn"]][0] != "settled"):
            continue
        raise Conflict(
            f"msgid {msgid} settles visit {visit.mdtrt_id} for another caller: a new "
            "settlement needs a msgid of its own"
        )


def _lines_to_settle(
    visit: Visit,
    states: dict[str, tuple[str, str | None]],
    batch: str | None,
    msgid: str | None = None,
) -> list[dict[str, Any]]:
    """The lines a pre-settlement (`msgid` None) or a settlement takes: those `msgid`
    reserved already (a retry resumes them), else the free ones of `batch` — a stay's all
    at once, and a stay only while none of its lines is settled."""
    _check_stay_unsettled(visit, states, msgid)
    reserved = [line for line in visit.items if msgid and line.get("reserved_by") == msgid]
    return reserved or _free_lines(visit, states, _batch(visit, states, batch))


def _check_stay_unsettled(
    visit: Visit, states: dict[str, tuple[str, str | None]], msgid: str | None = None
) -> None:
    """A stay is one admission: settled once (its per-admission deductible and admission
    count once); more fee lines after a settlement need the settlement reversed first. The
    settlement of `msgid` itself is no other one: a copy of the message replays it."""
    if not _is_inpatient(visit):
        return
    settled = sorted(
        {
            setl_id
            for line in visit.items
            for state, setl_id in [states[line["feedetl_sn"]]]
            if state == "settled" and (msgid is None or line.get("reserved_by") != msgid)
        }
    )
    if settled:
        raise ServiceError(
            f"mdtrt_id: stay {visit.mdtrt_id} is already settled ({settled[0]}): a second "
            "settlement would count a second admission; reverse it (2305) and settle the "
            "whole stay once"
        )


def _batch(
    visit: Visit, states: dict[str, tuple[str, str | None]], batch: str | None
) -> str | None:
    """The batch (`chrg_bchno`) to settle: an outpatient visit settles batch by batch; a stay
    settles all its lines at once, so a batch that leaves some out is refused (QA: the rest
    of the stay could then never settle)."""
    if batch is None or not _is_inpatient(visit):
        return batch
    outside = [
        line["feedetl_sn"]
        for line in visit.items
        if states[line["feedetl_sn"]][0] == "free" and line.get("chrg_bchno") != batch
    ]
    if outside:
        raise ServiceError(
            f"chrg_bchno: stay {visit.mdtrt_id} has unsettled fee lines outside batch {batch} "
            f"({', '.join(outside[:5])}{', …' if len(outside) > 5 else ''}): a stay settles "
            "all its fee lines at once"
        )
    return batch


# --- helpers ----------------------------------------------------------------------------


def _once(
    db: Database, who: Principal, msgid: str, infno: str, work: Callable[[Session], dict]
) -> dict[str, Any]:
    """Run a write once per msgid: a retry gets the stored first answer back (a msgid used
    for another trade is refused, never answered with that trade's output)."""
    try:
        with db.transaction() as session:
            if (stored := replay(session, msgid, who, infno)) is not None:
                return stored
            answer = work(session)
            session.add(stored_answer(msgid, who, infno, answer))
            return answer
    except IntegrityError:
        return replay_after_race(db, msgid, who, infno)
    except ServiceError:
        # a twin of this msgid may have done the work while this one waited on the visit's
        # lock, which then refuses it (lines already uploaded): the twin's answer is the answer
        with db.sessions() as session:
            if (stored := replay(session, msgid, who, infno)) is not None:
                return stored
        raise


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _open_visit(
    session: Session,
    inst: Institution,
    person: Person,
    med_type: str,
    begin: dt.datetime,
    kind: str,
) -> Visit:
    visit = Visit(
        mdtrt_id=f"M{begin:%Y%m%d}{uuid.uuid4().hex[:16].upper()}",
        person_id=person.id,
        institution_code=inst.code,
        med_type=med_type,
        begin_date=begin.date(),
        end_date=None,
        status="open",
        info={"kind": kind, "begntime": f"{begin:%Y-%m-%d %H:%M:%S}", "diagnoses": []},
        items=[],
    )
    session.add(visit)
    return visit


def _visit(
    session: Session,
    inst: Institution,
    mdtrt_id: str,
    psn_no: str,
    inpatient: bool | None = None,
) -> Visit:
    """The caller's open visit, locked for this transaction."""
    query = select(Visit).where(Visit.mdtrt_id == mdtrt_id).with_for_update()
    visit = session.scalars(query.execution_options(populate_existing=True)).first()
    if visit is None or visit.institution_code != inst.code:
        raise NotFound(f"visit {mdtrt_id} not found at institution {inst.code}")
    if visit.person_id != psn_no:
        raise ServiceError(f"psn_no: visit {mdtrt_id} is not person {psn_no}'s")
    if visit.status == "cancelled":
        raise Conflict(f"visit {mdtrt_id} is cancelled")
    if inpatient is not None and inpatient != _is_inpatient(visit):
        kind = "an inpatient stay (2301–2305)" if _is_inpatient(visit) else "an outpatient visit"
        raise ServiceError(f"mdtrt_id: {mdtrt_id} is {kind}; use the trades for it")
    return visit


def _is_inpatient(visit: Visit) -> bool:
    return visit.info.get("kind") == "inpatient"


def _med_type(
    person: Person, code: str, path: str, inpatient: bool, at: Institution | None = None
) -> codes.MedType:
    """The medical type `code` means in the person's region; `at`: the institution opening
    or describing the visit, where a pharmacy takes its purchase types only (refused when the
    visit is registered, not first at settlement)."""
    med = codes.medical_type(person.region, code)
    if med is None:
        raise ServiceError(f"{path}: {code} is not a medical type settled in {person.region}")
    if med.inpatient != inpatient:
        kind = "an inpatient" if med.inpatient else "an outpatient"
        raise ServiceError(f"{path}: {code} ({med.name}) is {kind} type; this visit is not")
    if at is not None and at.kind == "pharmacy" and med.engine not in PHARMACY_MED_TYPES:
        raise ServiceError(
            f"{path}: {code} ({med.name}) cannot be settled at pharmacy {at.code} (a pharmacy "
            f"settles only {', '.join(sorted(PHARMACY_MED_TYPES))} 定点药店购药)"
        )
    return med


def _check_insutype(person: Person, insutype: str | None) -> None:
    expected = INSUTYPE[person.scheme]
    if insutype and insutype != expected:
        raise ServiceError(f"insutype: person {person.id} is insured under {expected}")


def _diagnoses(rows: list[Diagnosis]) -> list[str]:
    """Valid diagnoses, the main one first, then by their sequence number."""

    def order(pair: tuple[int, Diagnosis]) -> tuple[bool, int, int]:
        i, row = pair
        number = str(row.diag_srt_no or "")
        return (row.maindiag_flag != "1", int(number) if number.isdigit() else i, i)

    valid = [(i, row) for i, row in enumerate(rows) if row.vali_flag != "0"]
    return [row.diag_code.upper() for _, row in sorted(valid, key=order)]


def _stored_line(line: FeeLine, msgid: str) -> dict[str, Any]:
    return {
        "feedetl_sn": line.feedetl_sn,
        "med_list_codg": line.med_list_codg,
        "medins_list_codg": line.medins_list_codg,
        "name": line.hilist_name or line.medins_list_name or "",
        "chrgitm_lv": line.chrgitm_lv,
        "chrg_bchno": line.chrg_bchno,
        "med_chrgitm_type": line.med_chrgitm_type,
        "fee_ocur_time": f"{line.fee_ocur_time:%Y-%m-%d %H:%M:%S}",
        "cnt": str(line.cnt),
        "pric": str(line.pric),
        "det_item_fee_sumamt": str(line.det_item_fee_sumamt),
        "uploaded_by": msgid,
        "reserved_by": None,
        "reserved_at": None,
    }


def _settlements_by_msgid(session: Session, visit: Visit) -> dict[str, tuple[str, str]]:
    """The visit flow's settlements of the visit (`_settlements_of_lines`): msgid → (status,
    setl_id)."""
    rows = session.execute(
        select(Settlement.msgid, Settlement.status, Settlement.setl_id).where(
            *_settlements_of_lines(visit)
        )
    ).all()
    return {msgid: (status, setl_id) for msgid, status, setl_id in rows}


def _states(
    session: Session, visit: Visit, by_msgid: dict[str, tuple[str, str]] | None = None
) -> dict[str, tuple[str, str | None]]:
    """Each line's state: settled (with setl_id), reserved (a message is settling it) or free.
    `by_msgid`: the visit's settlements, when the caller has read them already."""
    if by_msgid is None:
        by_msgid = _settlements_by_msgid(session, visit)
    now = _now()
    states: dict[str, tuple[str, str | None]] = {}
    for line in visit.items:
        msgid = line.get("reserved_by")
        state: tuple[str, str | None] = ("free", None)
        if msgid in by_msgid:
            status, setl_id = by_msgid[msgid]
            if status == "settled":
                state = ("settled", setl_id)
        elif msgid and now - dt.datetime.fromisoformat(line["reserved_at"]) < RESERVATION_TIMEOUT:
            state = ("reserved", None)
        states[line["feedetl_sn"]] = state
    return states


def _settlements_of_lines(visit: Visit) -> list[Any]:
    """What picks the settlements that settle a visit's lines by msgid: the visit flow's own
    at its institution, not a reversal, nor a claim-path claim that echoed the mdtrt_id (QA:
    another caller's claim under the same msgid text, then reversed, freed settled lines for
    a second settlement; unreversed, it kept reversed lines from settling again)."""
    return [
        Settlement.person_id == visit.person_id,
        Settlement.mdtrt_id == visit.mdtrt_id,
        Settlement.institution_code == visit.institution_code,
        Settlement.claim_key.is_(None),
        Settlement.reverses_setl_id.is_(None),
    ]


def _free_lines(
    visit: Visit, states: dict[str, tuple[str, str | None]], batch: str | None
) -> list[dict[str, Any]]:
    lines = [
        line
        for line in visit.items
        if states[line["feedetl_sn"]][0] == "free"
        and (batch is None or line.get("chrg_bchno") == batch)
    ]
    if lines:
        return lines
    reserved = {
        line["reserved_by"]
        for line in visit.items
        if states[line["feedetl_sn"]][0] == "reserved"
        and (batch is None or line.get("chrg_bchno") == batch)
    }
    if reserved:
        raise Conflict(f"visit {visit.mdtrt_id} is being settled by message {min(reserved)}")
    where = f" in batch {batch}" if batch is not None else ""
    raise ServiceError(
        f"mdtrt_id: visit {visit.mdtrt_id} has no unsettled fee lines{where} (upload them first)"
    )


def _release(db: Database, mdtrt_id: str, msgid: str) -> None:
    """A settlement that failed gives its reserved lines back at once."""
    with db.transaction() as session:
        visit = session.scalars(
            select(Visit).where(Visit.mdtrt_id == mdtrt_id).with_for_update()
        ).first()
        if visit is None:
            return
        # this visit's settlement by msgid: the msgid may have settled another visit (a
        # sender reusing it), whose settlement must not keep these lines reserved (QA)
        settled = session.scalars(
            select(Settlement.setl_id).where(
                *_settlements_of_lines(visit), Settlement.msgid == msgid
            )
        ).first()
        if settled is not None:
            return
        visit.items = [
            {**line, "reserved_by": None, "reserved_caller": None, "reserved_at": None}
            if line.get("reserved_by") == msgid
            else line
            for line in visit.items
        ]


def _catalogue(region: str, day: dt.date) -> tuple[Any, Catalog]:
    """The policy version in force on `day` and its catalogue."""
    policy, catalogs = policy_and_catalogs(region)
    try:
        version = policy.version_on(day)
    except LookupError as exc:
        raise ServiceError(f"claim: {exc}") from None
    return version, catalogs[policy.version_id(version)]


def _claim(
    visit: Visit,
    inst: Institution,
    person: Person,
    lines: list[dict[str, Any]],
    day: dt.date,
    med: codes.MedType,
    acct_used: bool = True,
    discharge: dt.date | None = None,
) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "id": visit.mdtrt_id,
        "date": day.isoformat(),
        "med_type": med.engine,
        "hospital_level": inst.level if inst.kind == "hospital" else None,
        "out_of_region": inst.region != person.region,
        "referral": med.referral,
        "diagnoses": visit.info.get("diagnoses", []),
        "disease": visit.info.get("disease"),
        "institution": inst.code,
        "acct_used": acct_used,
    }
    settles_on = day
    if med.inpatient:
        settles_on = discharge or visit.end_date or day
        claim |= {
            "date": visit.begin_date.isoformat(),
            "admit_date": visit.begin_date.isoformat(),
            "discharge_date": settles_on.isoformat(),
        }
    _, catalog = _catalogue(person.region, settles_on)
    claim["items"] = [_item(line, catalog, person.region) for line in lines]
    return claim


def _item(line: dict[str, Any], catalog: Catalog, region: str) -> dict[str, Any]:
    entry = catalog.get(line["med_list_codg"])
    pric, cnt = Decimal(line["pric"]), Decimal(line["cnt"])
    item: dict[str, Any] = {
        "code": line["med_list_codg"],
        "name": line["name"],
        "date": line["fee_ocur_time"][:10],
    }
    if pric == pric.quantize(Decimal("0.01")):
        item |= {"price": str(pric.quantize(Decimal("0.01"))), "quantity": line["cnt"]}
    else:  # a unit price finer than the fen: settle the line total, limit scaled alike
        item |= {"price": line["det_item_fee_sumamt"], "quantity": "1"}
        if entry is not None and entry.price_limit_fen is not None:
            limit = round_half_up(Decimal(entry.price_limit_fen) * cnt)
            item["price_limit"] = str(fen_to_yuan(limit))
    if entry is None and line.get("chrgitm_lv"):
        item["category"] = codes.item_class(region, line["chrgitm_lv"])
    return item


def _line_buckets(
    visit: Visit, inst: Institution, person: Person, lines: list[dict[str, Any]], day: dt.date
) -> list[dict[str, Any]]:
    """2204 / 2301 answer rows: each line split as the settlement will split it."""
    med = _med_type(person, visit.med_type, "med_type", _is_inpatient(visit))
    raw = _claim(visit, inst, person, lines, day, med)
    claim = parse_claim(raw)
    version, catalog = _catalogue(person.region, claim.settle_date)
    age = _age(person.birth_date, claim.settle_date)
    split = split_lines(claim, catalog, version.catalog, person.sex, age)
    rows = []
    for line, item, part in zip(lines, claim.items, split, strict=True):
        entry = catalog.get(item.code)
        if part.category == "C" or 0 < part.amount == part.fulamt_ownpay_amt:
            ratio = Decimal(1)
        else:
            ratio = selfpay_ratio(item, entry, part.category, version.catalog)
        limit = entry.price_limit_fen if entry is not None else None
        rows.append(
            {
                "feedetl_sn": line["feedetl_sn"],
                "det_item_fee_sumamt": fen_to_yuan(part.amount),
                "cnt": Decimal(line["cnt"]),
                "pric": Decimal(line["pric"]),
                "pric_uplmt_amt": fen_to_yuan(limit) if limit is not None else None,
                "selfpay_prop": ratio4(ratio),
                "fulamt_ownpay_amt": fen_to_yuan(part.fulamt_ownpay_amt),
                "overlmt_amt": fen_to_yuan(part.overlmt_selfpay),
                "preselfpay_amt": fen_to_yuan(part.preselfpay_amt),
                "inscp_scp_amt": fen_to_yuan(part.inscp_scp_amt),
                "chrgitm_lv": codes.CLASS_TO_CHRGITM_LV[part.category],
                "med_chrgitm_type": line.get("med_chrgitm_type"),
                "lmt_used_flag": "1" if entry is not None and entry.restricted else "0",
                "memo": _memo(part.note, entry is None, line.get("chrgitm_lv")),
            }
        )
    return rows


def _memo(note: str, unlisted: bool, chrgitm_lv: str | None) -> str:
    """The line's note; a code outside the catalogue says so, and whose word its class is."""
    if not unlisted or not chrgitm_lv:
        return note
    said = f"目录外: class from the sender's chrgitm_lv {chrgitm_lv}"
    return f"{said}; {note}" if note else said


def _age(born: dt.date | None, day: dt.date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
