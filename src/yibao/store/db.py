"""Database connections: SQLite file by default, PostgreSQL when the URL says so.

On SQLite every transaction starts with BEGIN IMMEDIATE, so writers are serialized and two
settlements for one person can never interleave; on PostgreSQL the service locks the
person's accumulator row with SELECT … FOR UPDATE instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///yibao.db"


class BadDatabaseUrl(ValueError):
    """A database URL that cannot be parsed; the message never repeats a password."""


def database_url(explicit: str | None = None) -> str:
    """`--database-url`, else `YIBAO_DATABASE_URL`, else `yibao.db` in the working directory."""
    url = explicit or os.environ.get("YIBAO_DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    _check_url(url)
    return url


def _check_url(url: str) -> None:
    """Refuse what SQLAlchemy would fail on later with a traceback: a plain file path, a
    port that is not a number from 1 to 65535, anything else it cannot parse. The message
    does not repeat a URL that may hold a password."""
    where = "--database-url (or YIBAO_DATABASE_URL)"
    if "://" not in url:
        raise BadDatabaseUrl(f"{where}: {url!r} is not a URL; a SQLite file is sqlite:///{url}")
    try:
        port = make_url(url).port
    except (ArgumentError, ValueError):
        raise BadDatabaseUrl(
            f"{where}: cannot be parsed as a URL like postgresql://user:password@host:5432/name"
            " (is the port a number?)"
        ) from None
    if port is not None and not 1 <= port <= 65535:
        raise BadDatabaseUrl(f"{where}: port {port} is not a TCP port (1–65535)")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        create_private_sqlite(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _serialize_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip on every checkout, i.e. every settlement. After a
    # database restart the first statement on a stale connection fails instead; SQLAlchemy
    # then discards every pooled connection of that age, and the caller's retry (same msgid,
    # so nothing is settled twice) gets a fresh one.
    return create_engine(url, pool_size=20, max_overflow=20)


def create_private_sqlite(url: str) -> None:
    """Create a new SQLite file readable by its owner only: it holds names and ID numbers.
    SQLite gives its -wal and -shm files the database file's permissions. Other URLs: no-op."""
    if not url.startswith("sqlite"):
        return
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    # an existing file keeps the permissions its owner gave it; a missing or denied folder
    # is reported by SQLite itself, as one clean error
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _serialize_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One engine and its sessions; `transaction()` commits or rolls back as a whole."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
