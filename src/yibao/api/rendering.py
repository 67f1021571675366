"""JSON answers with exact money: Decimals are written as JSON numbers (805.00, 0.6500).

FastAPI's own encoder would turn Decimals into floats; money never becomes a float here.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from yibao.render.jsontext import dumps, plain
from yibao.service.output import Answer


class MoneyJSONResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _text(content).encode("utf-8")


def _text(content: Any) -> str:
    """The JSON text; a service answer that was rendered once (`Answer`, e.g. a settlement,
    whose text is also its stored replay) is sent as that text, not rendered again."""
    if isinstance(content, Answer):
        return content.json
    if isinstance(content, dict) and any(isinstance(v, Answer) for v in content.values()):
        fields = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{_text(v)}" for k, v in content.items()
        )
        return "{" + ",".join(fields) + "}"
    return dumps(plain(content), indent=None)


def respond(data: Any, shape: Any, status_code: int = 200) -> MoneyJSONResponse:
    """Check `data` against the documented response shape, then send it unchanged."""
    _adapter(shape).validate_python(data)
    return MoneyJSONResponse(data, status_code=status_code)


@cache
def _adapter(shape: Any) -> TypeAdapter:
    return TypeAdapter(shape)
