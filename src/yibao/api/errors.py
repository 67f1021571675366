"""Every error is a small JSON body `{"infcode": -1, "err_msg": ...}`, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yibao.api.logmask import LOGGER
from yibao.api.rendering import MoneyJSONResponse
from yibao.errors import format_loc
from yibao.service.errors import ServiceError

log = logging.getLogger(LOGGER)


class ErrorBody(BaseModel):
    infcode: int = -1
    err_msg: str


class ApiError(Exception):
    """An HTTP-level refusal (authentication, authorization, limits)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> MoneyJSONResponse:
    return MoneyJSONResponse({"infcode": -1, "err_msg": message}, status, headers=headers)


UNREADABLE_BODY = "There was an error parsing the body"
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "refused: a rule of the bureau, or a body that cannot be read",
        401: "missing or unknown X-API-Key",
        403: "the key's role may not do this",
        404: "not found (or not visible to the caller)",
        409: "conflicts with the current state",
        413: "request body larger than the limit",
        422: "malformed request: the field path and the reason",
        429: "too many bad API keys from this client",
        500: "internal error (details only in the server log)",
    }.items()
}


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(CatchAll)


async def _api_error(_request: Request, exc: Exception) -> MoneyJSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.headers)


async def _service_error(_request: Request, exc: Exception) -> MoneyJSONResponse:
    assert isinstance(exc, ServiceError)
    return error_response(exc.status, exc.message)


async def _validation_error(_request: Request, exc: Exception) -> MoneyJSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, validation_message(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> MoneyJSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # every method of the path, not just the first route's
        headers["Allow"] = ", ".join(sorted(_methods(request)))
    detail = str(exc.detail)
    if detail == UNREADABLE_BODY:  # FastAPI's words for a body it could not decode
        detail = _unreadable(exc.__cause__)
    return error_response(exc.status_code, detail, headers or None)


def _unreadable(cause: BaseException | None) -> str:
    """Why the body could not be decoded, from the error FastAPI wrapped."""
    if isinstance(cause, RecursionError):  # json's parser recurses once per nesting level
        return "body: JSON nested too deeply to parse"
    return "body: cannot be read as JSON (not UTF-8, or a number too long to parse)"


def _methods(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return methods


def validation_message(errors: list | tuple) -> str:
    """The first error as `path: reason` (`input: Field required`, `query.begin: ...`)."""
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = list(first.get("loc", ()))
    if (body := _body_problem(first)) is not None:
        return body
    if loc[:1] == ["body"]:
        loc = loc[1:]
    path = format_loc(loc)
    reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{path}: {reason}" if path else reason


def _body_problem(error: dict) -> str | None:
    """The body as a whole is unusable: say so in words a client's developer acts on."""
    loc, kind = tuple(error.get("loc", ())), error.get("type")
    if kind == "json_invalid":
        detail = (error.get("ctx") or {}).get("error") or "JSON decode error"
        return f"body: not valid JSON ({detail})"
    if loc == ("body",) and kind == "missing":
        return "body: empty; a JSON object is required"
    if loc == ("body",) and kind in ("model_attributes_type", "dict_type"):
        return "body: a JSON object is required (send Content-Type: application/json)"
    return None


class CatchAll:
    """Last line of defence: an unexpected exception becomes a 500 with a fixed message;
    the traceback goes to the (ID-masking) server log only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.error(
                "internal error on %s %s", scope.get("method"), scope.get("path"), exc_info=True
            )
            if not started:
                await error_response(500, "internal error")(scope, receive, send)
