"""`POST /api/transactions` straight to its trade, past FastAPI's router and dependencies.

It is the request hospitals send all day, and on a small machine the framework's routing,
dependency solving and middleware layers cost about a tenth of the CPU a settlement takes.
Only the usual case takes this lane: a JSON envelope that validates, under a key that was
authenticated a moment ago (`KeyCache`), from a client the bad-key limit is not holding
back. Everything else — no key, an unknown key, a body that does not parse or validate —
goes on to the FastAPI route with its body replayed, which answers it as documented. Both
end in `transactions.answer`, so a request gets the same answer either way.

It sits inside the body-size limit and the catch-all error handler (`app.py`), so the body
it reads is whole and within the limit, and an unexpected error still becomes a JSON 500.
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from yibao.api.errors import ApiError, error_response
from yibao.api.limits import read_body, replaying
from yibao.api.security import KeyCache, KeyGuard
from yibao.api.transactions import Envelope, answer
from yibao.service.principal import Principal

PATH = "/api/transactions"


class TransactionLane:
    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_transaction(scope):
            await self.app(scope, receive, send)
            return
        who = self._known_caller(scope)
        if who is None:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive) or b""  # None only past a limit; none given here
        envelope = _envelope(body)
        if envelope is None:
            await self.app(scope, replaying(body, receive), send)
            return
        try:
            response = await run_in_threadpool(answer, envelope, who, self.state.db)
        except ApiError as exc:
            response = error_response(exc.status, exc.message, exc.headers)
        await response(scope, receive, send)

    def _known_caller(self, scope: Scope) -> Principal | None:
        """The principal of a recently authenticated key, if the client may send one now."""
        key = _header(scope, b"x-api-key")
        if not key:
            return None
        guard: KeyGuard = self.state.key_guard
        client = scope["client"][0] if scope.get("client") else "unknown"
        if guard.retry_after(client) is not None:
            return None
        cache: KeyCache = self.state.key_cache
        return cache.get(key.decode("latin-1"))


def _is_transaction(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
        return False
    kind = _header(scope, b"content-type") or b""
    return kind.split(b";", 1)[0].strip().lower() == b"application/json"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _envelope(body: bytes) -> Envelope | None:
    """The envelope as the route would read it (`json.loads`, then the model), or None
    for the route to refuse with its own message."""
    try:
        return Envelope.model_validate(json.loads(body))
    # JSONDecodeError and UnicodeDecodeError are ValueErrors; a deeply nested body
    # exhausts the parser's recursion (the route refuses that one with a 400)
    except (ValueError, ValidationError, RecursionError):
        return None
