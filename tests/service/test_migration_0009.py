"""Migration 0009 on SQLite and PostgreSQL: existing claim-path settlements get their claim
key (a settled duplicate keeps none, so the index can be built), the national flow's and
reversal rows get none, and the partial unique index then refuses a second settled row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from tests.databases import empty_database_url
from yibao.store.migrate import alembic_config
from yibao.store.models import AMOUNT_COLUMNS, Institution, Person, Settlement

# (setl_id, claim_id, status, mdtrt_id): the rows a 0008 database may hold
ROWS = [
    ("S1", "C1", "settled", None),
    ("S2", "C1", "settled", None),  # a claim settled twice before 0009
    ("S3", "C2", "reversed", None),
    ("S4", "C2", "reversal", None),
    ("S5", "V1", "settled", "V1"),  # national flow: two batches of visit V1
    ("S6", "V1", "settled", "V1"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Iterator[str]:
    yield from empty_database_url(request.param, tmp_path, "yibao_m9")


def _settlement(setl_id: str, claim_id: str, status: str, mdtrt_id: str | None) -> dict:
    return {
        "setl_id": setl_id,
        "person_id": "P1",
        "institution_code": "H001",
        "mdtrt_id": mdtrt_id,
        "claim_id": claim_id,
        "msgid": setl_id,
        "med_type": "11",
        "insutype": "310",
        "setl_date": dt.date(2023, 3, 1),
        "policy_version": "test",
        "status": status,
        "reverses_setl_id": None,
        "pool_prop_selfpay": 0,
        "balc": 0,
        "ytd_delta": {},
        "trace": [],
        **dict.fromkeys(AMOUNT_COLUMNS, 0),
    }


def test_0009_keys_claim_path_settlements_and_indexes_them(url):
    config = alembic_config(url)
    command.upgrade(config, "0008")
    engine = create_engine(url)
    try:
        settlements = Settlement.__table__
        before_0009 = [c.name for c in settlements.c if c.name not in ("claim_key", "created_at")]
        with engine.begin() as conn:
            conn.execute(
                insert(Institution.__table__),
                {"code": "H001", "name": "H", "level": 3, "kind": "hospital", "region": "erenhot"},
            )
            conn.execute(
                insert(Person.__table__),
                {
                    "id": "P1",
                    "region": "erenhot",
                    "scheme": "employee",
                    "flags": [],
                    "products": [],
                },
            )
            for row in ROWS:
                values = _settlement(*row)
                conn.execute(
                    insert(settlements).values({name: values[name] for name in before_0009})
                )
        command.upgrade(config, "0009")
        with engine.connect() as conn:
            keys = dict(conn.execute(select(settlements.c.setl_id, settlements.c.claim_key)).all())
        assert keys == {"S1": "C1", "S2": None, "S3": "C2", "S4": None, "S5": None, "S6": None}
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                insert(settlements), {**_settlement("S7", "C1", "settled", None), "claim_key": "C1"}
            )
        with engine.begin() as conn:  # a reversed claim may settle again
            conn.execute(
                insert(settlements), {**_settlement("S8", "C2", "settled", None), "claim_key": "C2"}
            )
        command.downgrade(config, "0008")
        columns = {c["name"] for c in inspect(engine).get_columns("settlements")}
        assert "claim_key" not in columns
    finally:
        engine.dispose()
