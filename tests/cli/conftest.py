"""What the online-service command tests share: the CLI invoked in-process, a SQLite URL."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from yibao.cli.main import app

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    """`yibao ARGS` with YIBAO_DATABASE_URL cleared unless `env` sets it."""
    return runner.invoke(app, list(args), env={"YIBAO_DATABASE_URL": "", **(env or {})})


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"
