"""Run Alembic migrations programmatically (`yibao db upgrade`, `yibao serve`)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.util import CommandError


class UnknownRevision(Exception):
    """The database's schema revision is not one of this release's migrations."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("yibao.store") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    try:
        command.upgrade(alembic_config(url), revision)
    except CommandError as exc:
        # a newer release migrated the database (or it was rolled back under a newer one)
        raise UnknownRevision(
            f"{exc}: the database was migrated by another yibao release; run that release, "
            "or restore the backup taken before it"
        ) from None
