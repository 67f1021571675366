"""The FastAPI application: `create_app(database_url)` (migrations are `yibao serve`'s job).

Limits: request bodies over 1 MiB → 413; a client sending 20 bad keys within 60 s → 429
until the window passes (`app.state.key_guard`). Every error is JSON; tracebacks go only to
the server log, where ID numbers are masked like everywhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from yibao import __version__
from yibao.api import (
    cases,
    cross_region,
    errors,
    funding,
    logmask,
    ltc,
    payment,
    resources,
    transactions,
)
from yibao.api.lane import TransactionLane
from yibao.api.limits import MAX_BODY_BYTES, BodySizeLimit
from yibao.api.rendering import MoneyJSONResponse
from yibao.api.security import KeyCache, KeyGuard
from yibao.store.db import Database

DESCRIPTION = """\
医保 settlement service. Every request carries `X-API-Key`.

* `POST /api/transactions`: the national-style envelope (`infno`, `msgid`, `fixmedins_code`,
  `inf_time`, `input`) answering `{"infcode": 0, "err_msg": null, "output": {...}}`.
* REST resources for enrollment, accounts, institutions, settlements and reconciliation.

Money is yuan as exact JSON numbers with two decimals.
"""


def create_app(database_url: str | None = None) -> FastAPI:
    """The API over the database at `database_url` (`--database-url`, else
    `YIBAO_DATABASE_URL`, else `yibao.db`); the schema must already be migrated."""
    db = Database(database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        db.dispose()

    app = FastAPI(
        title="yibao",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=MoneyJSONResponse,
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.key_guard = KeyGuard()
    app.state.key_cache = KeyCache()
    logmask.install()
    app.add_middleware(TransactionLane, state=app.state)  # innermost: inside the two below
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.include_router(transactions.router)
    app.include_router(resources.router)
    for area in (cases, funding, payment, cross_region, ltc):
        app.include_router(area.router)
    return app
