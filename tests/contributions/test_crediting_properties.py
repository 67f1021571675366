"""For any population, batch size and crash point: a crashed and resumed crediting run ends
with the same ledger as an uninterrupted one, and running it again changes nothing."""

from __future__ import annotations

import contextlib
import shutil
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from yibao.contributions.service.bills import issue_unit_bill
from yibao.contributions.service.crediting import run_crediting
from yibao.money import fen_to_yuan
from yibao.service import persons
from yibao.service.principal import SYSTEM
from yibao.store.db import Database
from yibao.store.models import Account, AccountEntry


class Crash(RuntimeError):
    pass


people = st.lists(
    st.one_of(
        st.integers(0, 2_000_000).map(lambda fen: ("in_service", fen)),
        st.just(("retired", None)),
        st.just(("flexible", None)),
    ),
    min_size=1,
    max_size=14,
)


@pytest.fixture(scope="module")
def fresh(db_templates, tmp_path_factory):
    """A factory of fresh migrated SQLite databases (one per hypothesis example)."""
    made: list[Database] = []
    folder = tmp_path_factory.mktemp("crediting")

    def make() -> Database:
        path = folder / f"{uuid.uuid4().hex[:8]}.db"
        shutil.copy(db_templates.sqlite_template(), path)
        made.append(Database(f"sqlite:///{path}"))
        return made[-1]

    yield make
    for db in made:
        db.dispose()


def populate(db: Database, population: list[tuple[str, int | None]]) -> None:
    members = []
    for i, (status, base_fen) in enumerate(population):
        pid = f"E{i:03d}"
        raw = {"id": pid, "scheme": "employee", "employment": status}
        persons.enroll(db, SYSTEM, "erenhot", persons.parse_person(raw))
        if status == "in_service":
            base = fen_to_yuan(base_fen)
            members.append({"psn_no": pid, "status": status, "base": str(base)})
    raw_unit = {"region": "erenhot", "unit": {"id": "U"}, "members": members}
    issue_unit_bill(db, SYSTEM, raw_unit, "2023-01")


def snapshot(db: Database) -> tuple[list, dict]:
    with db.sessions() as session:
        entries = sorted(
            (e.person_id, e.amount, e.kind) for e in session.scalars(select(AccountEntry)).all()
        )
        accounts = {a.person_id: a.balance for a in session.scalars(select(Account)).all()}
    return entries, accounts


@settings(max_examples=12, deadline=None)
@given(people, st.integers(1, 5), st.integers(1, 4))
def test_resumed_run_equals_clean_run(fresh, population, batch_size, crash_at):
    clean, crashed = fresh(), fresh()
    for db in (clean, crashed):
        populate(db, population)
    run_crediting(clean, SYSTEM, "erenhot", "2023-01", batch_size)

    def crash(batch: int) -> None:
        if batch == crash_at:
            raise Crash

    # the crash point may lie beyond the last batch: then nothing crashed
    with contextlib.suppress(Crash):
        run_crediting(crashed, SYSTEM, "erenhot", "2023-01", batch_size, crash)
    resumed = run_crediting(crashed, SYSTEM, "erenhot", "2023-01", batch_size)
    assert resumed["status"] == "done"
    assert snapshot(crashed) == snapshot(clean)
    again = run_crediting(crashed, SYSTEM, "erenhot", "2023-01", batch_size)
    assert again["credited_now"] == 0 and snapshot(crashed) == snapshot(clean)
    # every in-service member and retiree is credited exactly once
    credited = [e for e in snapshot(clean)[0] if e[2] == "monthly_credit"]
    assert len(credited) == sum(1 for s, _ in population if s != "flexible")
