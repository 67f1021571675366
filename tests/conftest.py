"""Shared fixtures: `db` is a fresh migrated database, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.databases import Templates, fresh_database

# CI replays the same examples every run (a failure there is reproducible, never luck);
# locally each run explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def db_templates(tmp_path_factory):
    templates = Templates(tmp_path_factory.mktemp("db"))
    yield templates
    templates.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, db_templates, tmp_path):
    yield from fresh_database(request.param, db_templates, tmp_path)
