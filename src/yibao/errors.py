"""Errors that name a place in the input (`claims[1].items[0].price: must be >= 0`)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError


def format_loc(loc: Iterable[str | int]) -> str:
    """('claims', 1, 'items', 0, 'price') → 'claims[1].items[0].price'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def first_error(exc: ValidationError, prefix: str = "") -> str:
    """The first pydantic error as 'path: reason', the one line a user needs."""
    err = exc.errors(include_url=False)[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    path = format_loc(loc)
    if prefix:
        path = f"{prefix}.{path}" if path and not path.startswith("[") else f"{prefix}{path}"
    message = err["msg"].removeprefix("Value error, ")
    return f"{path}: {message}" if path else message


class InputError(ValueError):
    """Bad user input: one line, naming the field path and the reason."""
