"""Shared fixtures: `db` is a fresh migrated database, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.databases import Templates, fresh_database


@pytest.fixture(scope="session")
def db_templates(tmp_path_factory):
    templates = Templates(tmp_path_factory.mktemp("db"))
    yield templates
    templates.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, db_templates, tmp_path):
    yield from fresh_database(request.param, db_templates, tmp_path)
