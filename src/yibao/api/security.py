"""Who is calling: the `X-API-Key` header → a Principal; roles; the bad-key rate limit.

Missing or unknown key → 401. A client (by address) that sent `limit` bad keys within
`window` seconds gets 429 for every further bad or missing key until the oldest of them
leaves the window. A key that authenticates is still served from that address: dozens of
workstations share one hospital's NAT address, and one of them retrying a stale key must
not stop the others' settlements. Answering a right key at once does not help guessing:
a key is 256 random bits (`new_api_key`), and wrong guesses stay limited.

The address is the TCP peer's (`yibao serve` does not trust `X-Forwarded-For`); behind a
proxy all clients share its address, so put the limit in the proxy then. The counts live
in each worker process: with `--workers N` a client may send up to N × `limit` bad keys
per window before every worker refuses it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from yibao.api.errors import ApiError
from yibao.service.institutions import authenticate
from yibao.service.principal import Principal, Role, hash_key

API_KEY = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="Key of an institution, a bureau user or an auditor (`yibao institution add`, "
    "`yibao user add`, `POST /institutions`).",
    auto_error=False,
)


class KeyGuard:
    def __init__(
        self, limit: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float | None:
        """Seconds this client must wait, or None when it may try a key."""
        with self._lock:
            failures = self._recent(client)
            if len(failures) < self.limit:
                return None
            return failures[-self.limit] + self.window - self.clock()

    def failed(self, client: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # many addresses: forget the stale ones
                for other in list(self._failures):
                    self._recent(other)
            self._recent(client)
            self._failures.setdefault(client, deque()).append(self.clock())

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client)
        if failures is None:
            return deque()
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[client]
        return failures


class KeyCache:
    """Recently authenticated keys (by their hash), so a busy client costs no key lookup on
    every request. A revoked or suspended key stops working within `ttl` seconds."""

    def __init__(self, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._known: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        with self._lock:
            found = self._known.get(hash_key(key))
            if found is None or found[1] <= self.clock():
                return None
            return found[0]

    def put(self, key: str, who: Principal) -> None:
        with self._lock:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[hash_key(key)] = (who, self.clock() + self.ttl)


async def _authenticate(request: Request, key: str) -> Principal | None:
    cache: KeyCache = request.app.state.key_cache
    who = cache.get(key)
    if who is None:  # the database lookup blocks: on a worker thread, off the event loop
        who = await run_in_threadpool(authenticate, request.app.state.db, key)
        if who is not None:
            cache.put(key, who)
    return who


async def caller(
    request: Request, key: Annotated[str | None, Security(API_KEY)] = None
) -> Principal:
    """The calling principal. Async: a cached key is checked on the event loop itself, which
    spares each request a hop to a worker thread and back (FastAPI runs a plain `def`
    dependency on one)."""
    guard: KeyGuard = request.app.state.key_guard
    client = request.client.host if request.client else "unknown"
    who = await _authenticate(request, key) if key else None
    if who is not None:  # a valid key is served even from an address over the limit
        return who
    wait = guard.retry_after(client)
    if wait is not None:
        seconds = str(max(1, math.ceil(wait)))
        raise ApiError(429, "too many bad API keys: retry later", {"Retry-After": seconds})
    guard.failed(client)
    # a revoked key, or one of a suspended institution, is not known to be valid either
    raise ApiError(
        401, "X-API-Key: missing" if not key else "X-API-Key: unknown, revoked or suspended"
    )


def role(*allowed: Role) -> Callable[..., Principal]:
    """A dependency admitting only keys of the given roles (403 for the others)."""

    async def check(who: Annotated[Principal, Depends(caller)]) -> Principal:
        if who.role not in allowed:
            raise ApiError(403, f"role {who.role} may not do this (needs {' or '.join(allowed)})")
        return who

    return check


Caller = Annotated[Principal, Depends(caller)]
Bureau = Annotated[Principal, Depends(role("bureau"))]
Overseer = Annotated[Principal, Depends(role("bureau", "auditor"))]
