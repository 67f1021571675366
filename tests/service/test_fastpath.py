"""The settlement fast path (store/fastpath.py) on SQLite and PostgreSQL: what it reads, what
it writes (PostgreSQL: one statement for all writes) and how few statements it takes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from tests.service.world import build_world, enroll, outpatient
from yibao.service import persons, settlement
from yibao.service.principal import SYSTEM
from yibao.store import fastpath
from yibao.store.models import (
    Account,
    AccountEntry,
    Accumulator,
    AuditEntry,
    Idempotency,
    Settlement,
    SettlementFund,
    SettlementLine,
)


@pytest.fixture
def world(db):
    return build_world(db)


def _family(db) -> None:
    """K1 (in service, 100.00 own) may draw on H1 (300.00) and H2 (2000.00) (EH-06)."""
    enroll(db, "H1", balance_fen=30_000)
    enroll(db, "H2", balance_fen=200_000)
    enroll(
        db,
        "K1",
        balance_fen=10_000,
        family=[{"holder": "H2", "relation": "parent"}, {"holder": "H1", "relation": "spouse"}],
    )


def _balances(db) -> dict[str, int]:
    with db.sessions() as s:
        return {a.person_id: a.balance for a in s.scalars(select(Account)).all()}


def test_family_mutual_aid_is_written_and_reversed_exactly(world):
    db, h = world.db, world.hospital
    _family(db)
    before = _balances(db)
    # EH-10/12, level 3, in service: 1500 in scope → 1000 deductible + 40% × 500 = 1200 for
    # the person. Own account 100.00 first, then relatives by holder id (EH-06): H1 300.00,
    # H2 the remaining 800.00; nothing in cash.
    answer = settlement.settle(
        db, h, "K1", outpatient("C1", "2023-03-01", "1500"), "H001", "fam-1", "2207"
    )
    info = answer["setlinfo"]
    assert (info["acct_pay"], info["acct_mulaid_pay"], info["psn_cash_pay"]) == (
        Decimal("1200.00"),
        Decimal("1100.00"),
        Decimal("0.00"),
    )
    after = _balances(db)
    assert (after["K1"], after["H1"], after["H2"]) == (0, 0, 120_000)
    with db.sessions() as s:
        entries = s.scalars(
            select(AccountEntry).where(AccountEntry.setl_id == info["setl_id"])
        ).all()
        moves = sorted((e.person_id, e.amount, e.kind, e.beneficiary_id) for e in entries)
        row = s.get(Settlement, info["setl_id"])
        assert row.ytd_delta["accounts"] == {"own": 10_000, "family": {"H1": 30_000, "H2": 80_000}}
    assert moves == [
        ("H1", -30_000, "mutual_aid", "K1"),
        ("H2", -80_000, "mutual_aid", "K1"),
        ("K1", -10_000, "settlement", None),
    ]
    settlement.reverse(db, h, "K1", info["setl_id"], "fam-2", "2208")
    assert _balances(db) == before


def test_every_row_of_a_settlement_is_written(world):
    db, h = world.db, world.hospital
    claim = outpatient("C1", "2023-03-01", "1500")
    claim["items"].append({"code": "C9", "name": "丙类", "category": "C", "price": "20.50"})
    answer = settlement.settle(db, h, "P1", claim, "H001", "rows-1", "2207")
    setl_id = answer["setlinfo"]["setl_id"]
    with db.sessions() as s:
        row = s.get(Settlement, setl_id)
        lines = s.scalars(select(SettlementLine).where(SettlementLine.setl_id == setl_id)).all()
        funds = s.scalars(select(SettlementFund).where(SettlementFund.setl_id == setl_id)).all()
        stored = s.scalars(select(Idempotency).where(Idempotency.msgid == "rows-1")).one()
        audit = s.scalars(select(AuditEntry).where(AuditEntry.target == setl_id)).one()
        acc = s.get(Accumulator, ("P1", 2023))
    assert (row.status, row.msgid, row.setl_date) == ("settled", "rows-1", dt.date(2023, 3, 1))
    assert row.medfee_sumamt == 152_050 and row.fulamt_ownpay_amt == 2_050  # 丙类 self-paid
    assert row.pool_prop_selfpay == Decimal(answer["setlinfo"]["pool_prop_selfpay"])
    assert [(x.line_no, x.code, x.category, x.amount) for x in lines] == [
        (1, "A1", "A", 150_000),
        (2, "C9", "C", 2_050),
    ]
    assert [(f.fund_pay_type, f.fund_payamt) for f in funds] == [("310100", 30_000)]
    assert row.trace and {"rule", "source", "detail"} <= set(row.trace[0])
    assert (stored.caller, stored.infno, stored.response) == ("H001", "2207", answer.json)
    assert audit.action == "settlement.settle" and audit.actor == "H001"
    assert audit.detail == {
        "psn_no": "P1",
        "institution": "H001",
        "claim_id": "C1",
        "msgid": "rows-1",
        "fund_pay_sumamt": 30_000,
        "acct_pay": 100_000,
        "acct_mulaid_pay": 0,
        "psn_cash_pay": 22_050,  # 152050 − 30000 − 100000
    }
    assert (acc.settlements, acc.amounts["deductible:general_outpatient"]) == (1, 100_000)


def test_the_context_is_read_in_one_statement(world):
    db = world.db
    persons.enroll(
        db,
        SYSTEM,
        "erenhot",
        persons.parse_person(
            {
                "id": "Q1",
                "scheme": "employee",
                "employment": "retired",
                "category_periods": [
                    {"category": "civil_servant", "valid_from": "2023-01-01"},
                    {"category": "dibao", "valid_from": "2023-03-01", "valid_to": "2023-10-31"},
                    {"category": "tekun", "valid_from": "2024-01-01"},
                ],
                "family": [
                    {"holder": "P2", "relation": "spouse"},
                    {"holder": "P1", "relation": "child"},
                ],
            }
        ),
    )
    day = dt.date(2023, 6, 1)
    with db.sessions() as s:
        ctx = fastpath.read_context(s.connection(), "h", "none", "H001", "Q1", day)
        missing = fastpath.read_context(s.connection(), "h", "none", "NOPE", "NOBODY", day)
    # Two categories × two bindings are four joined rows; each is read once.
    assert ctx.categories == {"civil_servant", "dibao"}
    assert ctx.links == (("P1", "child"), ("P2", "spouse"))
    assert (ctx.person.id, ctx.person.employment, ctx.institution_status) == (
        "Q1",
        "retired",
        "active",
    )
    assert ctx.stored is None
    assert (missing.person, missing.institution_status, missing.categories) == (
        None,
        None,
        frozenset(),
    )


def _count_statements(db):
    """SQL statements sent from now on (SQLite's BEGIN IMMEDIATE is not one of ours)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_rest) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    return seen


def test_a_settlement_takes_few_statements_and_a_replay_one(world):
    db, h = world.db, world.hospital
    seen = _count_statements(db)
    settlement.settle(db, h, "P1", outpatient("C1", "2023-03-01", "1500"), "H001", "n-1", "2207")
    # Context, accumulator upsert (the lock), accounts locked, then the writes: one
    # statement on PostgreSQL; on SQLite one per table (idempotency, settlement, lines,
    # funds, accumulator, balance, ledger, audit).
    assert len(seen) == (4 if db.is_postgres else 11), seen
    seen.clear()
    settlement.settle(db, h, "P1", outpatient("C1", "2023-03-01", "1500"), "H001", "n-1", "2207")
    assert len(seen) == 1


def test_json_parameters_refuse_values_they_cannot_send_exactly():
    assert fastpath._json([{"r": Decimal("0.3500"), "d": dt.date(2023, 3, 1)}]) == (
        '[{"r": "0.3500", "d": "2023-03-01"}]'
    )
    with pytest.raises(TypeError, match="cannot send object"):
        fastpath._json([{"x": object()}])


def test_the_postgresql_write_stays_short_enough_to_be_prepared():
    # psycopg caches (and so prepares once per connection) only statements up to these
    # sizes; past them it would parse the statement text again on every settlement.
    from psycopg import _queries

    from yibao.store.models import Settlement as Row

    columns = tuple(c.name for c in Row.__table__.c if c.name != "created_at")
    sql = fastpath._pg_sql(
        ("msgid", "caller", "infno", "response"),
        columns,
        fastpath._LINE_COLUMNS,
        fastpath._FUND_COLUMNS,
        fastpath._ENTRY_COLUMNS,
        ("actor", "role", "action", "target", "detail"),
    )
    compiled = sql.compile(dialect=fastpath._PG)
    assert len(str(compiled)) + 10 * len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
