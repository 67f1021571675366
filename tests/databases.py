"""Fresh databases for tests: a SQLite file, or a PostgreSQL database of the test's own.

PostgreSQL (127.0.0.1:5432, user postgres) is used for real: one migrated template per test
session, then a new database per test cloned from it and dropped afterwards. When the server
is absent the PostgreSQL variant is skipped with the reason shown.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from yibao.store.db import Database
from yibao.store.migrate import upgrade

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True, connect_timeout=3
    ) as conn:
        conn.execute(sql)


def postgres_problem() -> str | None:
    try:
        _admin("SELECT 1")
    except Exception as exc:  # any failure to connect means: skip, and say why
        return f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(exc).__name__}: {exc})"
    return None


def empty_database_url(kind: str, tmp_path: Path, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database of `kind` (sqlite, postgresql: dropped afterwards;
    skipped, saying why, when PostgreSQL is not reachable) — for migration tests, which
    start from no schema rather than from the migrated templates."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    if problem := postgres_problem():
        pytest.skip(problem)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _admin(f"CREATE DATABASE {name}")
    try:
        yield PG_URL.format(name=name)
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Templates:
    """Migrated template databases, made once per test session."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.sqlite: Path | None = None
        self.pg: str | None = None

    def sqlite_template(self) -> Path:
        if self.sqlite is None:
            self.sqlite = self.tmp / "template.db"
            upgrade(f"sqlite:///{self.sqlite}")
        return self.sqlite

    def pg_template(self) -> str:
        if self.pg is None:
            self.pg = f"yibao_tpl_{uuid.uuid4().hex[:8]}"
            _admin(f"CREATE DATABASE {self.pg}")
            upgrade(PG_URL.format(name=self.pg))
        return self.pg

    def drop(self) -> None:
        if self.pg is not None:
            _admin(f"DROP DATABASE IF EXISTS {self.pg} WITH (FORCE)")


def fresh_database(kind: str, templates: Templates, tmp: Path) -> Iterator[Database]:
    if kind == "sqlite":
        path = tmp / f"{uuid.uuid4().hex[:8]}.db"
        shutil.copy(templates.sqlite_template(), path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    name = f"yibao_test_{uuid.uuid4().hex[:10]}"
    _admin(f"CREATE DATABASE {name} TEMPLATE {templates.pg_template()}")
    db = Database(PG_URL.format(name=name))
    try:
        yield db
    finally:
        db.dispose()
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
