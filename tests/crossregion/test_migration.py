"""Migration 0007 creates the cross-region and long-term care tables and drops them again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from yibao.store.migrate import alembic_config

TABLES = {
    "cross_region_filings",
    "cross_region_clearing_runs",
    "cross_region_clearing_lines",
    "ltc_assessments",
    "ltc_claims",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_and_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0006")
    assert not TABLES & _tables(url)
    command.upgrade(config, "0007")
    assert _tables(url) >= TABLES
    command.downgrade(config, "0006")
    assert not TABLES & _tables(url)
    command.upgrade(config, "0007")
    assert _tables(url) >= TABLES
