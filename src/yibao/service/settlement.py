"""Real-time settlement (一站式结算) against the store: pre-settle, settle, reverse.

A settlement is one transaction: lock the person's accumulator row for the claim's year
(and the accounts it may debit), run the pure engine, write the settlement, its lines, its
fund details, the new accumulators, the account ledger and the audit entry, then commit.
A message id (msgid) makes every write idempotent: a retry gets the first answer back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.catalog.model import Catalog
from yibao.crossregion.filings import filing_in_force
from yibao.crossregion.rules import load_rules
from yibao.crossregion.settle import cross_claim, pieces, referral_of
from yibao.engine.inputs import Claim
from yibao.engine.result import Settlement as EngineSettlement
from yibao.engine.settle import SettlementError, settle_claim
from yibao.engine.state import YearToDate
from yibao.errors import first_error
from yibao.money import fen_to_yuan
from yibao.render.settlement_json import fund_detail_dict, line_dict
from yibao.service import audit
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.service.identity import shown_id
from yibao.service.messages import fingerprint_of
from yibao.service.output import freeze, national_time, rendered, settlement_output, thaw
from yibao.service.persons import engine_view
from yibao.service.principal import Principal
from yibao.service.reconcile import check_period
from yibao.service.warnings import may_warn, readmission_warnings
from yibao.store import fastpath
from yibao.store.cross_region import ClearingRun
from yibao.store.db import Database
from yibao.store.models import (
    AMOUNT_COLUMNS,
    Account,
    AccountEntry,
    Accumulator,
    Idempotency,
    Institution,
    Person,
    Settlement,
    SettlementFund,
    SettlementLine,
)

CLAIM_ID_LENGTH = 60  # the settlements.claim_id column's; PostgreSQL refuses longer


def parse_claim(raw: Any) -> Claim:
    try:
        claim = Claim.model_validate(raw)
    except ValidationError as exc:
        raise ServiceError(first_error(exc, "claim")) from None
    if len(claim.id) > CLAIM_ID_LENGTH:
        raise ServiceError(f"claim.id: at most {CLAIM_ID_LENGTH} characters, got {len(claim.id)}")
    return claim


def settling_code(who: Principal, code: str | None) -> str | None:
    """The institution settling: an institution key may only settle as itself."""
    code = code or who.institution_code
    if who.role == "institution" and code != who.institution_code:
        raise Forbidden(f"fixmedins_code {code} is not the caller's institution")
    if who.role == "auditor":
        raise Forbidden("auditors cannot settle")
    return code


def check_active(code: str | None, status: str | None) -> None:
    """An institution settles only when registered (NotFound) and active (Forbidden)."""
    if status is None:
        raise NotFound(f"institution {code} is not registered")
    if status != "active":
        raise Forbidden(f"institution {code} is {status}")


def settling_institution(session: Session, who: Principal, code: str | None) -> Institution:
    """The institution settling, checked as `settling_code` and `check_active` do."""
    code = settling_code(who, code)
    inst = session.get(Institution, code) if code else None
    check_active(code, inst.status if inst is not None else None)
    return inst


def enrolled_person(session: Session, psn_no: str) -> Person:
    person = session.get(Person, psn_no)
    if person is None:
        raise NotFound(f"person {shown_id(psn_no)} is not enrolled")
    return person


def _settling_context(
    conn: Connection,
    who: Principal,
    msgid: str | None,
    psn_no: str,
    fixmedins_code: str | None,
    claim: Claim,
    claim_key: str | None = None,
) -> tuple[fastpath.Context, str, Claim, list[dict]]:
    """The context read in one statement, checked in the order the rules are given: a
    stored answer first, then the caller's right to settle there, the person, a claim
    settled before, and the claim's level and type at this institution; with the warnings
    the claim as settled there carries (an unfiled cross-region visit)."""
    code = fixmedins_code or who.institution_code
    ctx = fastpath.read_context(conn, who.name, msgid, code, psn_no, claim.settle_date, claim_key)
    if ctx.stored is not None:
        return ctx, code, claim, []
    code = settling_code(who, fixmedins_code)
    check_active(code, ctx.institution_status)
    if ctx.person is None:
        raise NotFound(f"person {shown_id(psn_no)} is not enrolled")
    if ctx.settled_as is not None:
        raise _settled_before(claim.id, ctx.settled_as)
    claim = at_institution(claim, code, ctx.institution_level, ctx.institution_kind)
    claim, warnings = _referred_as_filed(conn, ctx, psn_no, claim)
    return ctx, code, claim, warnings


def _referred_as_filed(
    conn: Connection, ctx: fastpath.Context, psn_no: str, claim: Claim
) -> tuple[Claim, list[dict]]:
    """Treatment outside the insured region counts as referred by the person's filing in
    force on the day (备案, docs/cross-region.md), never by the hospital's `referral`: a
    referral pays more, and an unfiled visit pays what the rules give it, and says so.
    At home neither flag is the hospital's to set: out of region pays by other rules."""
    treating = ctx.institution_region
    if treating is None or ctx.person is None:
        return claim, []
    if treating == ctx.person.region:
        return claim.model_copy(update={"out_of_region": False, "referral": False}), []
    rules = load_rules()
    filing = filing_in_force(conn, psn_no, treating, claim.settle_date)
    referral, flags = referral_of(filing, rules)
    warnings = [_unfiled(treating, claim, rules) for flag in flags if flag == "unfiled"]
    return claim.model_copy(update={"referral": referral}), warnings


def _unfiled(treating: str, claim: Claim, rules) -> dict:
    cited = rules.filing.unfiled_counts_as_referral
    return {
        "rule": "unfiled",
        "name_zh": "异地就医未备案",
        "severity": "info",
        "message": f"no filing for treatment in {treating} is in force on {claim.settle_date}: "
        f"settled as {'referred' if cited.value else 'not referred'}",
        "evidence": {"treating_region": treating, "settle_date": claim.settle_date.isoformat()},
        "basis": cited.cite(),
    }


# 定点零售药店 settle pharmacy purchases (41) only. The seeds' 双通道 (EH-32: an external
# prescription 外配处方 dispensed at a designated pharmacy) is such a purchase; no region's
# policy settles 门诊慢特病 (14) or any other type at a pharmacy.
PHARMACY_MED_TYPES = frozenset({"41"})
# G-ALL-7: a pharmacy purchase counts as level 3 (its prescriber's level is not known here)
PHARMACY_LEVEL = 3


def at_institution(claim: Claim, code: str, level: int | None, kind: str | None) -> Claim:
    """The claim as settled at the registered institution `code`: a hospital's level is
    the registered one (omitted: filled in; another level: refused, since a lower level
    pays more); a pharmacy settles only its purchase types, at the pharmacy level."""
    if kind == "pharmacy":
        if claim.med_type not in PHARMACY_MED_TYPES:
            raise ServiceError(
                f"claim.med_type: {claim.med_type} cannot be settled at pharmacy {code} "
                f"(a pharmacy settles only {', '.join(sorted(PHARMACY_MED_TYPES))} 定点药店购药)"
            )
        if claim.hospital_level not in (None, PHARMACY_LEVEL):
            raise ServiceError(
                f"claim.hospital_level: {claim.hospital_level} is not level "
                f"{PHARMACY_LEVEL}, at which a purchase at pharmacy {code} settles (G-ALL-7)"
            )
        return claim
    if claim.hospital_level not in (None, level):
        raise ServiceError(
            f"claim.hospital_level: {claim.hospital_level} is not the registered "
            f"level {level} of {code}"
        )
    return claim.model_copy(update={"hospital_level": level})


def _settled_before(claim_id: str, setl_id: str) -> Conflict:
    return Conflict(
        f"claim {claim_id} already settled as {setl_id}: reverse it first to settle it again"
    )


def _run(
    ctx: fastpath.Context,
    claim: Claim,
    acc: Any,
    balances: dict[str, int],
    from_catalogue: bool = False,
) -> tuple[EngineSettlement, YearToDate, YearToDate]:
    """The pure engine on the person's stored state (`acc`: accumulator row, or None). A
    claim the national flow built `from_catalogue` is not checked against it again: its
    line with a unit price finer than the fen carries the limit scaled to its quantity."""
    person_row = ctx.person
    person = engine_view(person_row, ctx.categories, ctx.links, balances)
    before = YearToDate.for_person(person)
    if acc is not None:
        before.year = claim.settle_date.year
        before.amounts = {k: int(v) for k, v in acc.amounts.items()}
        before.counts = {k: int(v) for k, v in acc.counts.items()}
        before.groups_seen = set(acc.groups_seen)
    treating = ctx.institution_region or person_row.region
    try:
        policy, catalogs = pieces(person_row.region, treating, claim.settle_date)
        if treating != person_row.region:
            claim = cross_claim(claim, claim.referral, load_rules())
        settled, after = settle_claim(policy, catalogs, person, claim, before)
    except SettlementError as exc:
        raise ServiceError(f"claim: {exc}") from None
    if not from_catalogue and (catalog := catalogs.get(settled.policy_version)) is not None:
        _check_catalogue(claim, catalog)
    return settled, before, after


def _check_catalogue(claim: Claim, catalog: Catalog) -> None:
    """Online, a listed item's class and price limit are the catalogue's: a hospital's claim
    may not re-class a 丙类 item as 甲类 nor lift its 限价 (`yibao settle` trusts its file)."""
    for k, item in enumerate(claim.items):
        entry = catalog.get(item.code)
        if entry is None:
            continue
        where = f"claim.items[{k}]"
        if item.category is not None and item.category != entry.category:
            raise ServiceError(
                f"{where}.category: {item.category}, but the catalogue lists {item.code} as "
                f"{entry.category}"
            )
        if item.selfpay_ratio is not None:
            raise ServiceError(
                f"{where}.selfpay_ratio: {item.code} is listed: its 先行自付 ratio is the "
                "catalogue's or the region's, not the claim's"
            )
        limit = entry.price_limit_fen
        if item.price_limit is not None and limit is not None and item.price_limit > limit:
            raise ServiceError(
                f"{where}.price_limit: {fen_to_yuan(item.price_limit)} is above the catalogue's "
                f"{fen_to_yuan(limit)} for {item.code}"
            )


def pre_settle(
    db: Database,
    who: Principal,
    psn_no: str,
    raw_claim: Any,
    fixmedins_code: str | None,
    mdtrt_id: str | None = None,
    when: dt.datetime | None = None,
    from_catalogue: bool = False,
) -> dict[str, Any]:
    """Pre-settlement (预结算): the same numbers as a settlement, and nothing is written.
    A claim-path claim already settled is refused as its settlement would be.
    `when`: the request's time (inf_time); its time of day goes into `setl_time`."""
    claim = parse_claim(raw_claim)
    _check_not_ahead(claim)
    claim_key = claim.id if mdtrt_id is None else None
    with db.sessions() as session:
        conn = session.connection()
        ctx, _, claim, warnings = _settling_context(
            conn, who, None, psn_no, fixmedins_code, claim, claim_key
        )
        acc = fastpath.read_accumulator(conn, psn_no, claim.settle_date.year)
        balances = fastpath.balances(conn, [psn_no, *ctx.holders], lock=False)
        settled, *_ = _run(ctx, claim, acc, balances, from_catalogue)
        answer = settlement_output(
            settled, ctx.person, None, mdtrt_id, None, ctx.categories, _message_time(when).time()
        )
        if found := warnings + readmission_warnings(session, ctx.person.region, psn_no, claim):
            answer["warnings"] = found
        session.rollback()
        return answer


def settle(
    db: Database,
    who: Principal,
    psn_no: str,
    raw_claim: Any,
    fixmedins_code: str | None,
    msgid: str,
    infno: str,
    mdtrt_id: str | None = None,
    when: dt.datetime | None = None,
    claim_once: bool | None = None,
    from_catalogue: bool = False,
) -> dict[str, Any]:
    """Settle one claim for real; a repeated msgid returns the first answer unchanged.

    A claim settles once per institution and person while not reversed: another msgid
    for it is refused (the database's `ux_settlements_claim_once` decides a race). That
    holds for a claim-path claim (`claim_once`; by default when there is no `mdtrt_id`),
    not for the national visit flow, whose claims are batches of a visit's lines named by
    its mdtrt_id. `when`: the request's time (inf_time); its time of day is `setl_time`'s.

    Statements: the context (`fastpath.read_context`), the accumulator upsert that locks
    it, the accounts locked, then the writes (`fastpath.send`: one statement on
    PostgreSQL). The answer is rendered once: the stored replay text is also the text the
    API sends (`output.Answer`)."""
    claim = parse_claim(raw_claim)
    _check_not_ahead(claim)
    year = claim.settle_date.year
    once = mdtrt_id is None if claim_once is None else claim_once
    claim_key = claim.id if once else None
    try:
        # A plain connection, not an ORM session: every statement here is Core. On SQLite
        # its BEGIN is the engine's BEGIN IMMEDIATE all the same (store/db.py).
        with db.engine.begin() as conn:
            ctx, code, claim, warnings = _settling_context(
                conn, who, msgid, psn_no, fixmedins_code, claim, claim_key
            )
            if ctx.stored is not None:
                return _replayed(ctx.stored, msgid, who, infno)
            acc = fastpath.lock_accumulator(conn, psn_no, year)
            balances = fastpath.balances(conn, [psn_no, *ctx.holders], lock=True)
            settled, before, after = _run(ctx, claim, acc, balances, from_catalogue)
            setl_id = new_setl_id(claim.settle_date)
            delta = _delta(before, after, ctx.holders, settled.groups_claimed)
            answer = settlement_output(
                settled,
                ctx.person,
                setl_id,
                mdtrt_id,
                msgid,
                ctx.categories,
                _message_time(when).time(),
            )
            if found := warnings + _warnings(conn, ctx.person.region, psn_no, claim):
                answer["warnings"] = found
            answer = rendered(answer)
            writes = fastpath.SettlementWrites(
                answer={
                    "msgid": msgid,
                    "caller": who.name,
                    "infno": infno,
                    "response": answer.json,
                    "fingerprint": fingerprint_of(msgid),
                },
                psn_no=psn_no,
                year=year,
                audit=audit.row(
                    who,
                    "settlement.settle",
                    setl_id,
                    psn_no=psn_no,
                    institution=code,
                    claim_id=claim.id,
                    msgid=msgid,
                    # the money that moved, in fen: the fund's, the accounts', the cash
                    fund_pay_sumamt=settled.setlinfo.fund_pay_sumamt,
                    acct_pay=settled.setlinfo.acct_pay,
                    acct_mulaid_pay=settled.setlinfo.acct_mulaid_pay,
                    psn_cash_pay=settled.setlinfo.psn_cash_pay,
                ),
            )
            _write_settlement(writes, settled, setl_id, code, msgid, mdtrt_id, delta)
            writes.settlement["claim_key"] = claim_key
            _store_accumulators(writes, acc, after)
            _debit_accounts(writes, psn_no, delta["accounts"], setl_id)
            fastpath.send(conn, writes)
            return answer
    except IntegrityError:
        return _after_race(db, msgid, who, infno, (fixmedins_code, psn_no, claim_key))


def _after_race(
    db: Database,
    msgid: str,
    who: Principal,
    infno: str,
    claim: tuple[str | None, str, str | None],
) -> dict[str, Any]:
    """A unique index refused the writes of a settlement that raced another one: a twin
    with this msgid committed first (its answer is replayed), or another msgid settled the
    claim (institution, person, claim key) first (refused, naming that settlement)."""
    code, psn_no, claim_key = claim
    with db.sessions() as session:
        if (stored := replay(session, msgid, who, infno)) is not None:
            return stored
        settled_as = None
        if claim_key is not None:
            settled_as = session.scalars(
                select(Settlement.setl_id).where(
                    Settlement.institution_code == (code or who.institution_code),
                    Settlement.person_id == psn_no,
                    Settlement.claim_key == claim_key,
                    Settlement.status == "settled",
                )
            ).first()
    if settled_as is not None:
        raise _settled_before(claim_key, settled_as)
    raise Conflict(f"msgid {msgid}: concurrent request failed, retry")


def _message_time(when: dt.datetime | None) -> dt.datetime:
    """The request's time (inf_time), or the server's clock for a direct service call."""
    return when or dt.datetime.now()


def reverse(
    db: Database,
    who: Principal,
    psn_no: str,
    setl_id: str,
    msgid: str,
    infno: str,
    when: dt.datetime | None = None,
    mdtrt_id: str | None = None,
) -> dict[str, Any]:
    """Reverse (撤销) a settlement: accumulators and accounts restored exactly, once.

    The reversal is dated when it happens (`when`: the request's inf_time; see
    `_message_time`), so a period already reconciled stays as it was. The year-to-date it
    gives back is the original's year. An `mdtrt_id` sent with it must be the settlement's
    (a HIS that picked the wrong row is refused, not obeyed)."""
    when = _message_time(when)
    try:
        with db.transaction() as session:
            if (stored := replay(session, msgid, who, infno)) is not None:
                return stored
            row = session.get(Settlement, setl_id)
            if row is None or row.person_id != psn_no or not who.can_see(row.institution_code):
                raise NotFound(f"settlement {setl_id} not found for person {psn_no}")
            if who.role == "auditor":
                raise Forbidden("auditors cannot reverse settlements")
            if who.role == "institution":  # a suspended one, while its key is still cached
                inst = session.get(Institution, who.institution_code)
                check_active(who.institution_code, inst.status if inst else None)
            acc = _lock_accumulator(db, session, psn_no, row.setl_date.year)
            session.refresh(row)
            if (stored := replay(session, msgid, who, infno)) is not None:
                return stored
            if row.status != "settled":
                raise Conflict(f"settlement {setl_id} is {row.status}: it cannot be reversed")
            _check_reversal_trade(row, infno)
            _check_reversal_day(row, when.date())
            _check_month_open(session, row, when.date())
            if mdtrt_id and mdtrt_id != row.mdtrt_id:  # "" is none given
                made = f"visit {row.mdtrt_id}" if row.mdtrt_id else "no mdtrt_id"
                raise ServiceError(
                    f"mdtrt_id: {mdtrt_id} is not the visit of settlement {setl_id} ({made})"
                )
            answer = _write_reversal(session, row, acc, msgid, when)
            session.add(stored_answer(msgid, who, infno, answer))
            audit.record(
                session,
                who,
                "settlement.reverse",
                setl_id,
                psn_no=psn_no,
                reversal=answer["setlinfo"]["setl_id"],
                msgid=msgid,
                fund_pay_sumamt=row.fund_pay_sumamt,  # given back, in fen
                acct_pay=row.acct_pay,
                acct_mulaid_pay=row.acct_mulaid_pay,
            )
            return answer
    except IntegrityError:
        return replay_after_race(db, msgid, who, infno)


# 2208 reverses outpatient settlements (门诊结算撤销), 2305 inpatient ones (住院结算撤销)
REVERSAL_TRADES = {"2208": False, "2305": True}  # infno → reverses inpatient
INPATIENT_MED_TYPE = "21"


def _check_reversal_trade(row: Settlement, infno: str | None) -> None:
    inpatient = row.med_type == INPATIENT_MED_TYPE
    if infno in REVERSAL_TRADES and REVERSAL_TRADES[infno] != inpatient:
        kind, use = ("an inpatient", "2305") if inpatient else ("an outpatient", "2208")
        raise Conflict(f"settlement {row.setl_id} is {kind} settlement: reverse it with {use}")


# a sender's clock may run ahead of ours a little; a message dated later is a typo
CLOCK_SLACK = dt.timedelta(days=1)


def still_to_come(day: dt.date) -> str | None:
    """Why `day` cannot date something that has happened (a care, a discharge, a reversal),
    or None: it is later than today and a sender's clock slack."""
    today = dt.date.today()
    return f"{day} is in the future (today is {today})" if day > today + CLOCK_SLACK else None


def _check_reversal_day(row: Settlement, day: dt.date) -> None:
    """A reversal is dated by its inf_time: not before the settlement it reverses, nor in the
    future (it would land in a period of the sender's choosing)."""
    if day < row.setl_date:
        raise ServiceError(
            f"inf_time: {day} is before the date {row.setl_date} of settlement {row.setl_id}"
        )
    if (ahead := still_to_come(day)) is not None:
        raise ServiceError(f"inf_time: {ahead}")


def _check_month_open(session: Session, row: Settlement, day: dt.date) -> None:
    """A cross-region settlement's reversal may not be dated in a month already cleared:
    clearing counts a reversal in its own month and never revisits a done one, so the fund
    part would stay paid to the treating region (QA: 5,400.00 for a reversed stay)."""
    month = f"{day:%Y-%m}"
    run = session.get(ClearingRun, month)
    if run is None or run.status != "done":
        return
    insured = session.get(Person, row.person_id)
    treating = session.get(Institution, row.institution_code)
    if insured is not None and treating is not None and insured.region != treating.region:
        raise ServiceError(
            f"inf_time: {day} is in {month}, whose cross-region clearing is done: date the "
            "reversal in a month not yet cleared"
        )


def _check_not_ahead(claim: Claim) -> None:
    """A claim settles on its discharge or visit day: one still to come, or a line of care
    still to come, cannot be settled nor pre-settled (its money would be paid before the
    care, and land in a period of the sender's choosing)."""
    dates = [
        ("discharge_date" if claim.discharge_date is not None else "date", claim.settle_date),
        ("date", claim.date),
        *((f"items[{k}].date", item.date) for k, item in enumerate(claim.items) if item.date),
    ]
    for field, day in dates:
        if (ahead := still_to_come(day)) is not None:
            raise ServiceError(f"claim.{field}: {ahead}")


def new_setl_id(day: dt.date) -> str:
    return f"S{day:%Y%m%d}{uuid.uuid4().hex[:16].upper()}"


def stored_answer(msgid: str, who: Principal, infno: str, answer: dict[str, Any]) -> Idempotency:
    """The row that answers `msgid` again (`replay`), with its request's fingerprint."""
    return Idempotency(
        msgid=msgid,
        caller=who.name,
        infno=infno,
        response=freeze(answer),
        fingerprint=fingerprint_of(msgid),
    )


def replay(
    session: Session, msgid: str, who: Principal, infno: str | None = None
) -> dict[str, Any] | None:
    """The stored first answer to `msgid`, if any; a msgid is never reused for another trade."""
    stored = session.get(Idempotency, (who.name, msgid), populate_existing=True)
    if stored is None:
        return None
    return _replayed(stored, msgid, who, infno)


def _replayed(stored: Any, msgid: str, who: Principal, infno: str | None) -> dict[str, Any]:
    if infno is not None and stored.infno != infno:
        raise Conflict(f"msgid {msgid} was already used for transaction {stored.infno}")
    mine = fingerprint_of(msgid)
    if mine is not None and stored.fingerprint is not None and stored.fingerprint != mine:
        raise Conflict(
            f"msgid {msgid} was already used for another {stored.infno} request (the same "
            "msgid must carry the same input; a new request needs a new msgid)"
        )
    return thaw(stored.response)


def replay_after_race(
    db: Database, msgid: str, who: Principal, infno: str | None = None
) -> dict[str, Any]:
    with db.sessions() as session:
        stored = replay(session, msgid, who, infno)
    if stored is None:
        raise Conflict(f"msgid {msgid}: concurrent request failed, retry")
    return stored


def _lock_accumulator(db: Database, session: Session, psn_no: str, year: int) -> Accumulator:
    """The person's accumulator row for the year, locked until commit (created if new)."""
    if db.is_postgres:
        session.execute(
            pg_insert(Accumulator)
            .values(
                person_id=psn_no, year=year, amounts={}, counts={}, groups_seen=[], settlements=0
            )
            .on_conflict_do_nothing()
        )
        query = (
            select(Accumulator)
            .where(Accumulator.person_id == psn_no, Accumulator.year == year)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return session.scalars(query).one()
    acc = session.get(Accumulator, (psn_no, year))  # SQLite: BEGIN IMMEDIATE serializes
    if acc is None:
        acc = Accumulator(
            person_id=psn_no, year=year, amounts={}, counts={}, groups_seen=[], settlements=0
        )
        session.add(acc)
        session.flush()
    return acc


def _delta(
    before: YearToDate, after: YearToDate, holders: list[str], claimed: frozenset[str]
) -> dict[str, Any]:
    """What this settlement changed: reversing it subtracts exactly this. The disease groups
    the claim showed (`groups_claimed`) are kept too: a group first seen here stays seen
    after a reversal while a later standing settlement showed it."""
    keys = before.amounts.keys() | after.amounts.keys()
    counts = before.counts.keys() | after.counts.keys()
    return {
        "amounts": {
            k: after.amount(k) - before.amount(k)
            for k in sorted(keys)
            if after.amount(k) != before.amount(k)
        },
        "counts": {
            k: after.count(k) - before.count(k)
            for k in sorted(counts)
            if after.count(k) != before.count(k)
        },
        "groups_added": sorted(after.groups_seen - before.groups_seen),
        "groups_claimed": sorted(claimed),
        "accounts": {
            "own": before.account_balance - after.account_balance,
            "family": {
                h: before.family_balances.get(h, 0) - after.family_balances.get(h, 0)
                for h in holders
                if before.family_balances.get(h, 0) != after.family_balances.get(h, 0)
            },
        },
    }


def _warnings(conn: Connection, region: str, psn_no: str, claim: Claim) -> list[dict]:
    """Real-time supervision warnings, read in the settlement's own transaction."""
    if not may_warn(claim):
        return []
    with Session(conn) as session:  # joins the transaction; leaves its end to the caller
        return readmission_warnings(session, region, psn_no, claim)


def _store_accumulators(writes: fastpath.SettlementWrites, acc: Any, after: YearToDate) -> None:
    writes.accumulator = {
        "amounts": dict(after.amounts),
        "counts": dict(after.counts),
        "groups_seen": sorted(after.groups_seen),
        "settlements": (acc.settlements or 0) + 1,
    }


def _debit_accounts(
    writes: fastpath.SettlementWrites, psn_no: str, moves: dict, setl_id: str
) -> None:
    """Ledger entries for what the accounts paid (own, then relatives' mutual aid)."""
    changes = [(psn_no, moves["own"], "settlement", None)]
    changes += [(holder, fen, "mutual_aid", psn_no) for holder, fen in moves["family"].items()]
    for holder, fen, kind, beneficiary in changes:
        if fen:
            writes.moves.append((holder, -fen))
            writes.entries.append(
                {
                    "person_id": holder,
                    "amount": -fen,
                    "kind": kind,
                    "setl_id": setl_id,
                    "beneficiary_id": beneficiary,
                    "note": None,
                }
            )


def _write_settlement(
    writes: fastpath.SettlementWrites,
    s: EngineSettlement,
    setl_id: str,
    code: str,
    msgid: str | None,
    mdtrt_id: str | None,
    delta: dict,
) -> None:
    info = s.setlinfo
    writes.settlement = {
        "setl_id": setl_id,
        "person_id": writes.psn_no,
        "institution_code": code,
        "mdtrt_id": mdtrt_id,
        "claim_id": s.claim_id,
        "msgid": msgid,
        "med_type": s.med_type,
        "insutype": s.insutype,
        "setl_date": dt.date.fromisoformat(s.setl_date),
        "policy_version": s.policy_version,
        "status": "settled",
        "reverses_setl_id": None,
        "pool_prop_selfpay": info.pool_prop_selfpay,
        "balc": info.balc,
        "ytd_delta": delta,
        "trace": [{"rule": t.rule, "source": t.source, "detail": t.detail} for t in s.trace],
        **{name: getattr(info, name) for name in AMOUNT_COLUMNS},
    }
    writes.lines = [
        {
            "setl_id": setl_id,
            "line_no": i,
            "code": line.code,
            "name": line.name,
            "category": line.category,
            "amount": line.amount,
            "fulamt_ownpay_amt": line.fulamt_ownpay_amt,
            "overlmt_selfpay": line.overlmt_selfpay,
            "preselfpay_amt": line.preselfpay_amt,
            "inscp_scp_amt": line.inscp_scp_amt,
            "note": line.note,
        }
        for i, line in enumerate(s.lines, 1)
    ]
    writes.funds = [
        {
            "setl_id": setl_id,
            "fund_pay_type": d.fund_pay_type,
            "fund_pay_type_name": d.fund_pay_type_name,
            "inscp_scp_amt": d.inscp_scp_amt,
            "fund_payamt": d.fund_payamt,
            "setl_proc_info": d.setl_proc_info,
        }
        for d in s.setldetail
    ]


def _write_reversal(
    session: Session, row: Settlement, acc: Accumulator, msgid: str, when: dt.datetime
) -> dict[str, Any]:
    """Reverse `row` (冲正): undo its year-to-date share, refund the accounts it debited and
    write a reversal settlement dated `when` with negated amounts and fund rows."""
    delta = row.ytd_delta
    _undo_year_to_date(acc, delta, _groups_still_shown(session, row))
    reversal_id = new_setl_id(when.date())
    _refund_accounts(session, row.person_id, delta["accounts"], reversal_id)
    row.status = "reversed"
    negated = {name: -getattr(row, name) for name in AMOUNT_COLUMNS}
    reversal = _add_reversal_row(session, row, reversal_id, msgid, negated, when.date())
    session.flush()
    funds = _add_negated_funds(session, row.setl_id, reversal_id)
    info: dict[str, Any] = {
        "setl_id": reversal_id,
        "mdtrt_id": row.mdtrt_id,
        "psn_no": row.person_id,
        "reversed_setl_id": row.setl_id,
        "setl_time": national_time(when.date(), when.time()),
    }
    info |= {name: fen_to_yuan(value) for name, value in negated.items()}
    # the rest of the national 2208 / 2305 setlinfo: the ratio applied, the account balance
    # after the refund, the reversal's own msgid (as a settlement's medins_setl_id is)
    info |= {
        "pool_prop_selfpay": reversal.pool_prop_selfpay,
        "balc": fen_to_yuan(reversal.balc),
        "medins_setl_id": msgid,
    }
    return {"setlinfo": info, "setldetail": [fund_detail_dict(f) for f in funds]}


def _undo_year_to_date(acc: Accumulator, delta: dict[str, Any], still_shown: set[str]) -> None:
    """Take the reversed settlement's own contribution back out of the accumulator; a disease
    group it saw first stays while another standing settlement of the year showed it (QA: a
    两病 visit's reversal took hypertension from a later diabetes-and-hypertension visit, and
    the next claim's cap fell from 600 to 500)."""
    acc.amounts = _minus(acc.amounts, delta["amounts"])
    acc.counts = _minus(acc.counts, delta["counts"])
    shown = set(delta["groups_added"]) | set(delta.get("groups_claimed", []))
    dropped = shown - still_shown  # also a group an earlier, already reversed one added
    acc.groups_seen = sorted(set(acc.groups_seen) - dropped)
    acc.settlements = max(0, (acc.settlements or 0) - 1)


def _groups_still_shown(session: Session, row: Settlement) -> set[str]:
    """The disease groups the person's other standing settlements of `row`'s year showed (a
    settlement stored before `groups_claimed` was kept counts the groups it added)."""
    year = row.setl_date.year
    deltas = session.scalars(
        select(Settlement.ytd_delta).where(
            Settlement.person_id == row.person_id,
            Settlement.status == "settled",
            Settlement.setl_id != row.setl_id,
            Settlement.setl_date >= dt.date(year, 1, 1),
            Settlement.setl_date <= dt.date(year, 12, 31),
        )
    )
    shown: set[str] = set()
    for delta in deltas:
        if delta:
            shown.update(delta.get("groups_claimed", delta.get("groups_added", [])))
    return shown


def _refund_accounts(
    session: Session, person_id: str, paid: dict[str, Any], reversal_id: str
) -> None:
    """Give back what the person's own account and each family account (共济) paid."""
    refunds = [(person_id, paid["own"], "reversal", None)]
    refunds += [(h, fen, "mutual_aid_reversal", person_id) for h, fen in paid["family"].items()]
    # locked in id order, as a settlement locks them: spouses bound both ways would
    # otherwise deadlock a reversal against the other's settlement (QA, PostgreSQL)
    for holder, fen, kind, beneficiary in sorted(refunds, key=lambda refund: refund[0]):
        if fen:
            account = session.scalars(
                select(Account).where(Account.person_id == holder).with_for_update()
            ).one()
            account.balance += fen
            session.add(
                AccountEntry(
                    person_id=holder,
                    amount=fen,
                    kind=kind,
                    setl_id=reversal_id,
                    beneficiary_id=beneficiary,
                )
            )


def _add_reversal_row(
    session: Session,
    row: Settlement,
    reversal_id: str,
    msgid: str,
    negated: dict[str, int],
    day: dt.date,
) -> Settlement:
    """The reversal settlement: the original's keys with negated amounts; `balc` is the
    person's balance after the refunds. It has no claim key: it settles no claim."""
    own = session.get(Account, row.person_id)
    reversal = Settlement(
        setl_id=reversal_id,
        person_id=row.person_id,
        institution_code=row.institution_code,
        mdtrt_id=row.mdtrt_id,
        claim_id=row.claim_id,
        msgid=msgid,
        med_type=row.med_type,
        insutype=row.insutype,
        setl_date=day,
        policy_version=row.policy_version,
        status="reversal",
        reverses_setl_id=row.setl_id,
        pool_prop_selfpay=row.pool_prop_selfpay,
        balc=own.balance if own else 0,
        ytd_delta={},
        trace=[],
        **negated,
    )
    session.add(reversal)
    return reversal


def _add_negated_funds(session: Session, setl_id: str, reversal_id: str) -> list[SettlementFund]:
    """One negated fund row per fund the original settlement paid from, in its order."""
    funds = session.scalars(
        select(SettlementFund).where(SettlementFund.setl_id == setl_id).order_by(SettlementFund.id)
    )
    negated = [
        SettlementFund(
            setl_id=reversal_id,
            fund_pay_type=fund.fund_pay_type,
            fund_pay_type_name=fund.fund_pay_type_name,
            inscp_scp_amt=-fund.inscp_scp_amt,
            fund_payamt=-fund.fund_payamt,
            setl_proc_info="撤销",
        )
        for fund in funds.all()
    ]
    session.add_all(negated)
    return negated


def _minus(current: dict[str, Any], delta: dict[str, int]) -> dict[str, int]:
    out = {k: int(v) for k, v in current.items()}
    for key, change in delta.items():
        out[key] = out.get(key, 0) - change
        if out[key] == 0:
            del out[key]
    return out


def settlement_view(db: Database, who: Principal, setl_id: str) -> dict[str, Any]:
    """One settlement (or reversal) as stored; another institution's is not found."""
    with db.sessions() as session:
        row = session.get(Settlement, setl_id)
        if row is None or not who.can_see(row.institution_code):
            raise NotFound(f"settlement {setl_id} not found")
        funds = session.scalars(
            select(SettlementFund)
            .where(SettlementFund.setl_id == setl_id)
            .order_by(SettlementFund.id)
        ).all()
        lines = session.scalars(
            select(SettlementLine)
            .where(SettlementLine.setl_id == setl_id)
            .order_by(SettlementLine.line_no)
        ).all()
        return {
            **_summary(row),
            "claim_id": row.claim_id,
            "msgid": row.msgid,
            "insutype": row.insutype,
            "policy_version": row.policy_version,
            "setlinfo": {
                **{name: fen_to_yuan(getattr(row, name)) for name in AMOUNT_COLUMNS},
                "pool_prop_selfpay": row.pool_prop_selfpay,
                "balc": fen_to_yuan(row.balc),
            },
            "setldetail": [fund_detail_dict(f) for f in funds],
            "lines": [line_dict(line) for line in lines],
        }


def list_settlements(
    db: Database,
    who: Principal,
    begin: dt.date,
    end: dt.date,
    institution: str | None = None,
    psn_no: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Settlements dated in [begin, end]; an institution sees only its own."""
    check_period(begin, end)
    if who.role == "institution":
        if institution not in (None, who.institution_code):
            raise NotFound(f"no settlements of institution {institution} for this caller")
        institution = who.institution_code
    where = [Settlement.setl_date >= begin, Settlement.setl_date <= end]
    if institution:
        where.append(Settlement.institution_code == institution)
    if psn_no:
        where.append(Settlement.person_id == psn_no)
    with db.sessions() as session:
        rows = session.scalars(
            select(Settlement)
            .where(*where)
            .order_by(Settlement.setl_date, Settlement.setl_id)
            .limit(limit)
        ).all()
        return [_summary(row) for row in rows]


def _summary(row: Settlement) -> dict[str, Any]:
    return {
        "setl_id": row.setl_id,
        "status": row.status,
        "reverses_setl_id": row.reverses_setl_id,
        "psn_no": row.person_id,
        "fixmedins_code": row.institution_code,
        "mdtrt_id": row.mdtrt_id,
        "med_type": row.med_type,
        "setl_time": row.setl_date.isoformat(),
        "medfee_sumamt": fen_to_yuan(row.medfee_sumamt),
        "fund_pay_sumamt": fen_to_yuan(row.fund_pay_sumamt),
        "psn_part_amt": fen_to_yuan(row.psn_part_amt),
        "acct_pay": fen_to_yuan(row.acct_pay),
        "psn_cash_pay": fen_to_yuan(row.psn_cash_pay),
    }
