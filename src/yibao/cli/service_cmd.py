"""Online-service commands: serve, institution add / suspend / resume, user add, key revoke
/ rotate, db upgrade, demo-load.

Each command brings the schema to the newest revision first (as `yibao serve` must), so a
fresh database file or an empty PostgreSQL database works without a separate step.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from yibao.cli.common import fail
from yibao.service.errors import ServiceError
from yibao.service.principal import CLI
from yibao.store.db import BadDatabaseUrl, Database, create_private_sqlite, database_url
from yibao.store.migrate import UnknownRevision, upgrade

# A database that cannot be reached is not bad input: exit 1, still one line on stderr.
DATABASE_UNAVAILABLE = 1


def shown(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def reported_errors(url: str) -> Iterator[None]:
    """Service refusals → exit 2; database failures → exit 1; each as one line."""
    try:
        yield
    except ServiceError as exc:
        fail(exc.message)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"database {shown(url)}: {reason}", DATABASE_UNAVAILABLE)


def migrated(explicit_url: str | None) -> str:
    """The database URL to use, with its schema upgraded to head."""
    try:
        url = database_url(explicit_url)
    except BadDatabaseUrl as exc:
        fail(str(exc))
    create_private_sqlite(url)  # before Alembic, whose engine would create it world-readable
    with reported_errors(url):
        try:
            upgrade(url)
        except UnknownRevision as exc:
            fail(f"database {shown(url)}: {exc}", DATABASE_UNAVAILABLE)
    return url


@contextmanager
def migrated_database(explicit_url: str | None) -> Iterator[Database]:
    """A migrated database whose refusals and failures become one-line errors, disposed after."""
    url = migrated(explicit_url)
    db = Database(url)
    try:
        with reported_errors(url):
            yield db
    finally:
        db.dispose()


def run_db_upgrade(explicit_url: str | None) -> None:
    url = migrated(explicit_url)
    typer.echo(f"database {shown(url)} is at the newest schema revision")


def run_institution_add(
    code: str, name: str, level: int, kind: str, region: str, explicit_url: str | None
) -> None:
    from yibao.service.institutions import add_institution

    url = migrated(explicit_url)
    db = Database(url)
    with reported_errors(url):
        key = add_institution(db, code, name, level, kind, region)
    db.dispose()
    typer.echo(f"registered {code} {name} (level {level} {kind}, {region}) in {shown(url)}")
    typer.echo("its API key (only its hash is stored; keep it now):")
    typer.echo(key)


def run_user_add(name: str, role: str, explicit_url: str | None) -> None:
    from yibao.service.institutions import add_user

    url = migrated(explicit_url)
    db = Database(url)
    with reported_errors(url):
        key = add_user(db, name, role)
    db.dispose()
    typer.echo(f"created {role} user {name} in {shown(url)}")
    typer.echo("their API key (only its hash is stored; keep it now):")
    typer.echo(key)


def run_institution_status(code: str, change: str, explicit_url: str | None) -> None:
    from yibao.service.institutions import INSTITUTION_STATUS, set_institution_status

    with migrated_database(explicit_url) as db:
        set_institution_status(db, code, change, CLI)
    typer.echo(f"institution {code} is {INSTITUTION_STATUS[change]} in {shown(db.url)}")


def run_key_revoke(name: str, explicit_url: str | None) -> None:
    from yibao.service.institutions import revoke_key

    with migrated_database(explicit_url) as db:
        revoke_key(db, name, CLI)
    typer.echo(f"revoked the key named {name} in {shown(db.url)}")


def run_key_rotate(name: str, explicit_url: str | None) -> None:
    from yibao.service.institutions import rotate_key

    with migrated_database(explicit_url) as db:
        key = rotate_key(db, name, CLI)
    typer.echo(f"replaced the key named {name} in {shown(db.url)}; the old key is revoked")
    typer.echo("the new API key (only its hash is stored; keep it now):")
    typer.echo(key)


def run_demo_load(explicit_url: str | None, persons: int, seed: int) -> None:
    from collections import Counter

    from yibao.service.demo import load_demo

    url = migrated(explicit_url)
    db = Database(url)
    with reported_errors(url):
        loaded = load_demo(db, persons, seed)
    db.dispose()
    by_region = Counter(p.region for p in loaded.persons)
    spread = ", ".join(f"{region} {n}" for region, n in sorted(by_region.items()))
    typer.echo(
        f"loaded {len(loaded.institutions)} institutions and {len(loaded.persons)} persons "
        f"(seed {seed}: {spread or 'none'}) into {shown(url)}",
        err=True,
    )
    for code, key in loaded.keys:
        typer.echo(f"{code} {key}")


def run_serve(
    host: str, port: int, explicit_url: str | None, workers: int, access_log: bool
) -> None:
    import uvicorn

    url = migrated(explicit_url)
    try:
        from yibao.api.app import create_app
    except ImportError as exc:
        fail(f"the HTTP API is not available: {exc}", 1)
    where = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    # Bound before the start-up line, so a busy port is one clean error (exit 1), however
    # many workers; uvicorn binding itself printed its own lines and exited 3.
    sockets = _listening(host, port, workers, where)
    plural = "s" if workers > 1 else ""
    typer.echo(
        f"yibao serving {where} (API docs {where}/docs) · database {shown(url)} · "
        f"{workers} worker{plural}"
    )
    sys.stdout.flush()
    options = uvicorn_options(host, port, access_log)
    if workers == 1:
        uvicorn.Server(uvicorn.Config(create_app(url), **options)).run(sockets=sockets)
        return
    _serve_workers(url, workers, options, sockets)


def uvicorn_options(host: str, port: int, access_log: bool) -> dict:
    """uvicorn's settings for `yibao serve`. `X-Forwarded-For` is not trusted: uvicorn would
    take the client address from it for any peer on 127.0.0.1, so a local client could pose
    as many addresses and never reach the bad-key limit (security.py)."""
    return {
        "host": host,
        "port": port,
        "access_log": access_log,
        "log_level": "info",
        "proxy_headers": False,
    }


def _listening(host: str, port: int, workers: int, where: str) -> list:
    """One listening socket per worker (SO_REUSEPORT); a taken address → exit 1, one line."""
    from yibao.cli.workers import listening_sockets

    try:
        return listening_sockets(host, port, workers)
    except OSError as exc:
        fail(f"{where}: cannot listen: {exc.strerror or exc}", 1)


def _serve_workers(url: str, workers: int, options: dict, sockets: list) -> None:
    """Several uvicorn worker processes, each accepting on its own socket (yibao.cli.workers).

    Worker processes build their own app from the import string; the URL reaches them
    through the environment, which create_app() reads when given no URL. The sockets carry
    TCP_NODELAY, which accepted connections inherit: uvicorn's own socket lacks it, and
    Nagle's algorithm then holds every small response for a delayed ACK (~40 ms).
    A worker busy settling on a saturated machine can be slow to answer the supervisor's
    health ping; it is given 30 s rather than uvicorn's 5 before being killed as hung, since
    killing it drops every connection it holds.
    """
    import uvicorn

    from yibao.cli.workers import serve_workers

    os.environ["YIBAO_DATABASE_URL"] = url
    config = uvicorn.Config(
        "yibao.api.app:create_app",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=30,
        **options,
    )
    serve_workers(config, sockets)
