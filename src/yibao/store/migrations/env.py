"""Alembic environment: migrations run against the URL the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine, event, text

# every model module, so Base.metadata holds every table (autogenerate compares against it)
from yibao.store import cases, contributions, cross_region, ltc, payment  # noqa: F401
from yibao.store.models import Base

target_metadata = Base.metadata


# Two servers started at once on a database that needs migrating (a restart overlap, two
# nodes deploying): the second waits for the first one's migration, then finds nothing to do,
# instead of failing half-way ("table already exists", "expected to match one row").
MIGRATION_LOCK = 20_240_601_011  # the PostgreSQL advisory lock key of yibao's migrations


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _one_writer(engine)
    with engine.connect() as connection:
        locked = connection.dialect.name == "postgresql"
        if locked:  # a session lock: it outlives the commit that ends the statement's transaction
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                # Alembic commits after each migration on SQLite unless told its DDL is
                # transactional (it is): a second process then took the lock between two
                # migrations and ran one the first had not recorded yet ("trigger
                # audit_log_no_update already exists", 6 of 100 processes). One transaction
                # holds BEGIN IMMEDIATE over the whole run.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if locked:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                connection.commit()
    engine.dispose()


def _one_writer(engine: Engine) -> None:
    """SQLite: the migration's transaction starts with BEGIN IMMEDIATE, so a second process
    waits for the first one's commit before it reads the schema version."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below is the only one
        dbapi_connection.execute("PRAGMA busy_timeout=60000")

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


run_migrations()
