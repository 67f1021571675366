"""Servers started at once on a database that needs migrating (a restart overlap, two nodes
deploying): every one finishes, the schema is migrated once (QA: the second process failed
with "table audit_log already exists" or alembic's "expected to match one row")."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.databases import empty_database_url

UPGRADE = "import sys; from yibao.store.migrate import upgrade; upgrade(sys.argv[1])"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Iterator[str]:
    yield from empty_database_url(request.param, tmp_path, "yibao_lock")


def test_concurrent_upgrades_of_a_fresh_database_all_succeed(url):
    runs = [
        subprocess.Popen([sys.executable, "-c", UPGRADE, url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [run.communicate()[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], errors
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()
