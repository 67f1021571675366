"""Request limits: the body's size (413 before the application reads anything too large),
and no NUL character nor lone UTF-16 surrogate anywhere (400): PostgreSQL text cannot hold
the one and UTF-8 cannot encode the other, so an id carrying either would fail deep inside a
write (or the msgid's fingerprint) instead of being refused with a reason."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yibao.api.errors import error_response

MAX_BODY_BYTES = 1 << 20  # 1 MiB: a visit's fee lines fit many times over


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await error_response(400, "Content-Length: not a number")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
        body = await read_body(receive, self.max_bytes)
        if body is None:
            await self._too_large(scope, receive, send)
            return
        if (where := nul_character(scope, body)) is not None:
            message = f"{where}: a NUL character (\\u0000) is not accepted"
            await error_response(400, message)(scope, receive, send)
            return
        if lone_surrogate(body):
            message = "body: a lone UTF-16 surrogate (\\ud800–\\udfff) is not text"
            await error_response(400, message)(scope, receive, send)
            return
        await self.app(scope, replaying(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body larger than {self.max_bytes} bytes"
        await error_response(413, message)(scope, receive, send)


# the JSON escape \u0000 not itself escaped (an even run of backslashes before it)
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


# \uD800–\uDBFF not followed by \uDC00–\uDFFF, or one of those not after the first kind
_HIGH, _LOW = rb"\\u[dD][89abAB][0-9a-fA-F]{2}", rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE_SURROGATE = re.compile(
    rb"(?<!\\)(?:\\\\)*(?:" + _HIGH + rb"(?!" + _LOW + rb")|(?<!" + _HIGH + rb")" + _LOW + rb")"
)


def lone_surrogate(body: bytes) -> bool:
    """Whether a JSON string escape in `body` is half a surrogate pair (Python reads it into a
    str that UTF-8 cannot encode)."""
    return b"\\u" in body and _LONE_SURROGATE.search(body) is not None


def nul_character(scope: Scope, body: bytes) -> str | None:
    """Where the request carries a NUL character (path, query or body), or None."""
    if "\x00" in scope.get("path", ""):
        return "path"
    if b"%00" in scope.get("query_string", b"") or b"\x00" in scope.get("query_string", b""):
        return "query"
    if b"\x00" in body or _NUL_ESCAPE.search(body):
        return "body"
    return None


async def read_body(receive: Receive, max_bytes: int | None = None) -> bytes | None:
    """The request body, message by message; None as soon as it grows past `max_bytes`.
    A disconnect ends it early: the application then sees the disconnect itself."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the application the body already read, then the rest."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
