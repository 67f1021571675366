"""SQLAlchemy Core statements of the settlement path: few round trips, no ORM unit of work.

A settlement reads everything it needs to start in one statement (`read_context`: the stored
answer to its msgid, the institution, the person, their categories on the day and family
bindings, an earlier settlement of the same claim), locks and reads the person's accumulator
row with one upsert, locks the accounts it may debit with one `SELECT … FOR UPDATE`, and
then writes everything (`send`): in one statement on PostgreSQL, one per table on SQLite.
The ORM models stay the schema's one description: every statement here runs on their tables.

On PostgreSQL the statements go to psycopg directly (`_rows`): each is compiled once and
prepared by the server, and rows come back as named tuples. SQLAlchemy's execution layer
(parameter processing, result wrapping) cost more CPU than psycopg itself on this path.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import (
    ARRAY,
    Connection,
    Executable,
    String,
    Table,
    TextClause,
    and_,
    any_,
    bindparam,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from yibao.store.models import (
    Account,
    AccountEntry,
    Accumulator,
    AuditEntry,
    FamilyBinding,
    Idempotency,
    Institution,
    Person,
    PersonCategory,
    Settlement,
    SettlementFund,
    SettlementLine,
)

ACCOUNTS = Account.__table__
ENTRIES = AccountEntry.__table__
ACCUMULATORS = Accumulator.__table__
AUDIT = AuditEntry.__table__
BINDINGS = FamilyBinding.__table__
IDEMPOTENCY = Idempotency.__table__
INSTITUTIONS = Institution.__table__
PERSONS = Person.__table__
CATEGORIES = PersonCategory.__table__
SETTLEMENTS = Settlement.__table__
LINES = SettlementLine.__table__
FUNDS = SettlementFund.__table__

PERSON_FIELDS = (
    "id",
    "region",
    "scheme",
    "employment",
    "birth_date",
    "sex",
    "certno",
    "name",
    "flags",
    "products",
)


@dataclass(frozen=True)
class PersonRecord:
    """The enrolled person as the settlement reads it (the attribute names of `Person`)."""

    id: str
    region: str
    scheme: str
    employment: str | None
    birth_date: dt.date | None
    sex: str | None
    certno: str | None
    name: str | None
    flags: list[Any]
    products: list[Any]


@dataclass(frozen=True)
class Stored:
    """The first answer to a msgid, as stored for replay."""

    caller: str
    infno: str
    response: str
    fingerprint: str | None


@dataclass(frozen=True)
class Context:
    """What a settlement reads before it locks anything; None where the row is absent."""

    stored: Stored | None
    institution_status: str | None
    institution_region: str | None
    institution_level: int | None
    institution_kind: str | None
    person: PersonRecord | None
    settled_as: str | None  # setl_id of the claim's settlement not reversed, if any
    categories: frozenset[str]
    links: tuple[tuple[str, str], ...]  # (holder, relation), by holder

    @property
    def holders(self) -> list[str]:
        return [holder for holder, _ in self.links]


def _context_query():
    """One row per (category valid on the day, family binding) of the person, at least one.

    Every lookup hangs off a one-row derived table with LEFT JOINs, so a missing msgid,
    institution, person or earlier settlement of the claim is a NULL, not a missing row. A
    person has few categories and fewer bindings, so the product of the two stays a handful
    of rows; the claim's settlement adds none (at most one row is `settled`)."""
    one = select(literal(1).label("one")).subquery("one")
    day = bindparam("day", type_=CATEGORIES.c.valid_from.type)
    psn = bindparam("psn_no", type_=PERSONS.c.id.type)
    code = bindparam("code", type_=INSTITUTIONS.c.code.type)
    joined = (
        one.outerjoin(
            IDEMPOTENCY,
            and_(
                IDEMPOTENCY.c.caller == bindparam("caller", type_=IDEMPOTENCY.c.caller.type),
                IDEMPOTENCY.c.msgid == bindparam("msgid"),
            ),
        )
        .outerjoin(INSTITUTIONS, INSTITUTIONS.c.code == code)
        .outerjoin(PERSONS, PERSONS.c.id == psn)
        .outerjoin(
            CATEGORIES,
            and_(
                CATEGORIES.c.person_id == PERSONS.c.id,
                CATEGORIES.c.valid_from <= day,
                or_(CATEGORIES.c.valid_to.is_(None), CATEGORIES.c.valid_to >= day),
            ),
        )
        .outerjoin(BINDINGS, BINDINGS.c.person_id == PERSONS.c.id)
        .outerjoin(
            SETTLEMENTS,
            and_(
                SETTLEMENTS.c.institution_code == code,
                SETTLEMENTS.c.person_id == psn,
                SETTLEMENTS.c.claim_key == bindparam("claim_key", type_=String),
                # literal SQL, not a parameter: a prepared statement's generic plan can
                # then use the partial unique index (ux_settlements_claim_once)
                SETTLEMENTS.c.status == literal_column("'settled'"),
                SETTLEMENTS.c.claim_key.is_not(None),
            ),
        )
    )
    return select(
        IDEMPOTENCY.c.caller.label("stored_caller"),
        IDEMPOTENCY.c.infno.label("stored_infno"),
        IDEMPOTENCY.c.response.label("stored_response"),
        IDEMPOTENCY.c.fingerprint.label("stored_fingerprint"),
        INSTITUTIONS.c.status.label("institution_status"),
        INSTITUTIONS.c.region.label("institution_region"),
        INSTITUTIONS.c.level.label("institution_level"),
        INSTITUTIONS.c.kind.label("institution_kind"),
        SETTLEMENTS.c.setl_id.label("settled_as"),
        *(PERSONS.c[name].label(f"person_{name}") for name in PERSON_FIELDS),
        CATEGORIES.c.category,
        BINDINGS.c.holder_id,
        BINDINGS.c.relation,
    ).select_from(joined)


CONTEXT = _context_query()


def read_context(
    conn: Connection,
    caller: str,
    msgid: str | None,
    code: str | None,
    psn_no: str,
    day: dt.date,
    claim_key: str | None = None,
) -> Context:
    """The stored answer to the caller's `msgid`, the institution (status, region, level,
    kind), the person on `day`, and the settlement of `claim_key` there not reversed, if any."""
    params = {
        "caller": caller,
        "msgid": msgid,
        "code": code,
        "psn_no": psn_no,
        "day": day,
        "claim_key": claim_key,
    }
    rows = _rows(conn, CONTEXT, params)
    first = rows[0]
    stored = None
    if first.stored_caller is not None:
        stored = Stored(
            first.stored_caller,
            first.stored_infno,
            first.stored_response,
            first.stored_fingerprint,
        )
    person = None
    if first.person_id is not None:
        person = PersonRecord(*(getattr(first, f"person_{name}") for name in PERSON_FIELDS))
    links = {row.holder_id: row.relation for row in rows if row.holder_id is not None}
    return Context(
        stored=stored,
        institution_status=first.institution_status,
        institution_region=first.institution_region,
        institution_level=first.institution_level,
        institution_kind=first.institution_kind,
        person=person,
        settled_as=first.settled_as,
        categories=frozenset(row.category for row in rows if row.category is not None),
        links=tuple(sorted(links.items())),
    )


def _accumulator_upsert(insert: Any) -> Any:
    acc = ACCUMULATORS.c
    stmt = insert(ACCUMULATORS).values(
        person_id=bindparam("psn_no"),
        year=bindparam("acc_year"),
        # literal SQL, not parameters: psycopg would need them wrapped as JSON
        amounts=literal_column("'{}'"),
        counts=literal_column("'{}'"),
        groups_seen=literal_column("'[]'"),
        settlements=literal_column("0"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[acc.person_id, acc.year], set_={"settlements": acc.settlements}
    ).returning(acc.amounts, acc.counts, acc.groups_seen, acc.settlements)


# Statements are built once: building one per call (values() on dicts) costs more than
# running it. Rows go in as parameters (a list of rows as one executemany).
ACCUMULATOR_UPSERT = {
    "postgresql": _accumulator_upsert(pg_insert),
    "sqlite": _accumulator_upsert(sqlite_insert),
}
ACCUMULATOR_READ = select(
    ACCUMULATORS.c.amounts,
    ACCUMULATORS.c.counts,
    ACCUMULATORS.c.groups_seen,
    ACCUMULATORS.c.settlements,
).where(
    ACCUMULATORS.c.person_id == bindparam("psn_no"), ACCUMULATORS.c.year == bindparam("acc_year")
)
ACCUMULATOR_STORE = (
    ACCUMULATORS.update()
    .where(
        ACCUMULATORS.c.person_id == bindparam("psn_no"),
        ACCUMULATORS.c.year == bindparam("acc_year"),
    )
    .values(
        amounts=bindparam("new_amounts"),
        counts=bindparam("new_counts"),
        groups_seen=bindparam("new_groups_seen"),
        settlements=bindparam("new_settlements"),
    )
)


def _balances(ids: Any, lock: bool) -> Any:
    by_id = select(ACCOUNTS.c.person_id, ACCOUNTS.c.balance).where(ids)
    by_id = by_id.order_by(ACCOUNTS.c.person_id)
    return by_id.with_for_update() if lock else by_id


# PostgreSQL takes the ids as one array parameter, where an expanding IN would be compiled
# anew for every count of ids
_IDS = {
    "postgresql": ACCOUNTS.c.person_id == any_(bindparam("ids", type_=ARRAY(String))),
    "sqlite": ACCOUNTS.c.person_id.in_(bindparam("ids", expanding=True)),
}
BALANCES = {
    (name, lock): _balances(ids, lock) for name, ids in _IDS.items() for lock in (False, True)
}
BALANCE_MOVE = (
    ACCOUNTS.update()
    .where(ACCOUNTS.c.person_id == bindparam("holder"))
    .values(balance=ACCOUNTS.c.balance + bindparam("fen", type_=ACCOUNTS.c.balance.type))
)


def lock_accumulator(conn: Connection, psn_no: str, year: int) -> Any:
    """The person's accumulator row for `year`, created if new, locked until commit.

    One upsert does both: ON CONFLICT DO UPDATE takes the row lock `SELECT … FOR UPDATE`
    would, and on PostgreSQL reads the newest committed version, so a settlement waiting
    for a concurrent one sees its result. On SQLite, BEGIN IMMEDIATE already serializes."""
    upsert = ACCUMULATOR_UPSERT.get(conn.dialect.name)
    if upsert is None:
        raise NotImplementedError(f"no settlement fast path for {conn.dialect.name}")
    (row,) = _rows(conn, upsert, {"psn_no": psn_no, "acc_year": year})
    return row


def read_accumulator(conn: Connection, psn_no: str, year: int) -> Any:
    """The accumulator row without a lock (pre-settlement); None before the first claim."""
    rows = _rows(conn, ACCUMULATOR_READ, {"psn_no": psn_no, "acc_year": year})
    return rows[0] if rows else None


def balances(conn: Connection, person_ids: list[str], lock: bool) -> dict[str, int]:
    """Account balances (fen) of `person_ids`; with `lock`, locked in id order (no deadlock)."""
    query = BALANCES[conn.dialect.name, lock]
    rows = _rows(conn, query, {"ids": sorted(set(person_ids))})
    return {row.person_id: row.balance for row in rows}


def _rows(conn: Connection, statement: Executable, params: dict[str, Any]) -> list[Any]:
    """The statement's rows (attributes by column label). On PostgreSQL through psycopg
    itself, in the transaction `conn` holds: the SQL compiled once per statement, prepared
    on the server, and errors raised as SQLAlchemy's (an IntegrityError stays one)."""
    if conn.dialect.name != "postgresql":
        return list(conn.execute(statement, params))
    sql, defaults = _pg_compiled(statement, conn.dialect)
    params = {**defaults, **params}
    driver = conn.connection.driver_connection
    shape = _SHAPES.get(sql)
    try:
        with driver.cursor(row_factory=shape.rows if shape else namedtuple_row) as cursor:
            # the engine's cursor events still fire: tracing and statement counts see these
            conn.dispatch.before_cursor_execute(conn, cursor, sql, params, None, False)
            cursor.execute(sql, params, prepare=True)
            conn.dispatch.after_cursor_execute(conn, cursor, sql, params, None, False)
            if shape is None:
                shape = _SHAPES[sql] = _Shape.of(cursor.description)
            return cursor.fetchall() if shape.returns_rows else []
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc


@dataclass(frozen=True)
class _Shape:
    """What a statement's result looks like, learnt from its first execution: psycopg's
    `namedtuple_row` reads the column descriptions again on every execution, which cost
    more than the rest of fetching these one-to-few-row results."""

    returns_rows: bool
    make: Callable[[Sequence[Any]], Any]

    @classmethod
    def of(cls, description: Sequence[Any] | None) -> _Shape:
        names = [column.name for column in description or ()]
        return cls(description is not None, namedtuple("Row", names, rename=True)._make)

    def rows(self, _cursor: Any) -> Callable[[Sequence[Any]], Any]:
        return self.make


_SHAPES: dict[str, _Shape] = {}  # by SQL text


@lru_cache(maxsize=64)
def _pg_compiled(statement: Executable, dialect: Any) -> tuple[str, dict[str, Any]]:
    """The statement's SQL for psycopg and the values of its literal parameters."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


@dataclass
class SettlementWrites:
    """Everything one settlement writes, collected first and then sent by `send`.

    `answer`: the idempotency row (msgid, caller, infno, response); `settlement`, `lines`,
    `funds`, `entries`, `audit`: rows of their tables; `accumulator`: the new values of the
    locked accumulator row (`amounts`, `counts`, `groups_seen`, `settlements`); `moves`:
    (holder, fen) added to locked account balances (negative for a payment)."""

    answer: dict[str, Any]
    psn_no: str
    year: int
    settlement: dict[str, Any] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)
    funds: list[dict[str, Any]] = field(default_factory=list)
    accumulator: dict[str, Any] = field(default_factory=dict)
    moves: list[tuple[str, int]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)


def send(conn: Connection, writes: SettlementWrites) -> None:
    """Write it all in the caller's transaction: on PostgreSQL as one statement (a
    data-modifying WITH: one round trip, one parse, one plan), elsewhere one per table.
    A msgid whose twin committed first fails here with an IntegrityError (the caller rolls
    back and replays the twin's answer)."""
    if conn.dialect.name == "postgresql":
        _rows(conn, _pg_statement(writes), _pg_params(writes))
        return
    conn.execute(IDEMPOTENCY.insert(), writes.answer)
    conn.execute(SETTLEMENTS.insert(), writes.settlement)
    for table, rows in ((LINES, writes.lines), (FUNDS, writes.funds)):
        if rows:
            conn.execute(table.insert(), rows)
    params = {f"new_{name}": value for name, value in writes.accumulator.items()}
    conn.execute(ACCUMULATOR_STORE, {"psn_no": writes.psn_no, "acc_year": writes.year, **params})
    for holder, fen in writes.moves:
        conn.execute(BALANCE_MOVE, {"holder": holder, "fen": fen})
    if writes.entries:
        conn.execute(ENTRIES.insert(), writes.entries)
    conn.execute(AUDIT.insert(), writes.audit)


# --- PostgreSQL: all writes in one statement --------------------------------------------
# Rows travel as one JSON parameter per table, expanded by json_to_recordset into typed
# columns, so the SQL text depends only on the column names and has few parameters: psycopg
# then caches its conversion and prepares it once per connection. The settlement's lines
# reference it by a foreign key that is checked at the end of the statement, once the
# sibling INSERT has run.

_PG = postgresql.dialect()


def _pg_type(table: Table, column: str) -> str:
    """The column's type for json_to_recordset; strings as text (the INSERT's assignment
    cast still checks a varchar's length), so the statement stays short."""
    kind = table.c[column].type
    return "text" if isinstance(kind, String) else kind.compile(dialect=_PG)


def _pg_recordset_insert(table: Table, columns: tuple[str, ...], param: str) -> str:
    quote = _PG.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    spec = ", ".join(f"{quote(c)} {_pg_type(table, c)}" for c in columns)
    return (
        f"INSERT INTO {table.name} ({names}) SELECT * "
        f"FROM json_to_recordset(CAST(:{param} AS json)) AS x({spec})"
    )


@lru_cache(maxsize=16)
def _pg_sql(
    answer: tuple[str, ...],
    settlement: tuple[str, ...],
    line: tuple[str, ...],
    fund: tuple[str, ...],
    entry: tuple[str, ...],
    audit: tuple[str, ...],
) -> TextClause:
    parts = [
        _pg_recordset_insert(IDEMPOTENCY, answer, "answer"),
        _pg_recordset_insert(SETTLEMENTS, settlement, "settlement"),
        _pg_recordset_insert(LINES, line, "lines"),
        _pg_recordset_insert(FUNDS, fund, "funds"),
        "UPDATE accumulators SET amounts = CAST(:new_amounts AS json), "
        "counts = CAST(:new_counts AS json), groups_seen = CAST(:new_groups_seen AS json), "
        "settlements = :new_settlements WHERE person_id = :psn_no AND year = :acc_year",
        "UPDATE accounts SET balance = accounts.balance + m.fen "
        "FROM json_to_recordset(CAST(:moves AS json)) "
        f"AS m(holder {_pg_type(ACCOUNTS, 'person_id')}, fen BIGINT) "
        "WHERE accounts.person_id = m.holder",
        _pg_recordset_insert(ENTRIES, entry, "entries"),
    ]
    ctes = ",\n".join(f"w{i} AS ({part})" for i, part in enumerate(parts, 1))
    return text(f"WITH {ctes}\n{_pg_recordset_insert(AUDIT, audit, 'audit')}")


def _columns(rows: list[dict[str, Any]], table: Table, default: tuple[str, ...]) -> tuple:
    keys = tuple(rows[0]) if rows else default
    if any(tuple(row) != keys for row in rows):
        raise ValueError(f"{table.name}: rows with different columns")
    return keys


# Columns of an empty list (the same as the service's rows, so the SQL text is the same).
_LINE_COLUMNS = (
    "setl_id",
    "line_no",
    "code",
    "name",
    "category",
    "amount",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "note",
)
_FUND_COLUMNS = (
    "setl_id",
    "fund_pay_type",
    "fund_pay_type_name",
    "inscp_scp_amt",
    "fund_payamt",
    "setl_proc_info",
)
_ENTRY_COLUMNS = ("person_id", "amount", "kind", "setl_id", "beneficiary_id", "note")


def _pg_statement(w: SettlementWrites) -> TextClause:
    return _pg_sql(
        tuple(w.answer),
        tuple(w.settlement),
        _columns(w.lines, LINES, _LINE_COLUMNS),
        _columns(w.funds, FUNDS, _FUND_COLUMNS),
        _columns(w.entries, ENTRIES, _ENTRY_COLUMNS),
        tuple(w.audit),
    )


def _scalar_text(value: Any) -> str:
    """Decimals and dates as JSON strings: PostgreSQL reads them back with the column's
    type (numeric, date) exactly. Anything else unknown is an error, never a guess."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _json(value: Any) -> str:
    return json.dumps(value, default=_scalar_text)


def _pg_params(w: SettlementWrites) -> dict[str, Any]:
    return {
        "psn_no": w.psn_no,
        "acc_year": w.year,
        "answer": _json([w.answer]),
        "settlement": _json([w.settlement]),
        "lines": _json(w.lines),
        "funds": _json(w.funds),
        "new_amounts": _json(w.accumulator["amounts"]),
        "new_counts": _json(w.accumulator["counts"]),
        "new_groups_seen": _json(w.accumulator["groups_seen"]),
        "new_settlements": w.accumulator["settlements"],
        "moves": _json([{"holder": h, "fen": fen} for h, fen in w.moves]),
        "entries": _json(w.entries),
        "audit": _json([w.audit]),
    }
