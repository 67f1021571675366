"""An API over a fresh database (SQLite and PostgreSQL) with a small enrolled world."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.service.world import World, build_world
from yibao.api.app import create_app

_msgids = itertools.count(1)


@dataclass
class Api:
    client: TestClient
    world: World

    def key(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.world.keys[who]}

    def call(
        self,
        infno: str,
        input: dict[str, Any],
        who: str = "hospital",
        msgid: str | None = None,
        fixmedins_code: str | None = "H001",
        inf_time: str = "2023-03-01 10:00:00",
    ) -> httpx.Response:
        envelope: dict[str, Any] = {
            "infno": infno,
            "msgid": msgid or f"MSG{next(_msgids):08d}",
            "inf_time": inf_time,
            "input": input,
        }
        if fixmedins_code is not None:
            envelope["fixmedins_code"] = fixmedins_code
        return self.client.post("/api/transactions", json=envelope, headers=self.key(who))

    def ok(self, infno: str, input: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """The output of a transaction that must succeed (exact decimals)."""
        response = self.call(infno, input, **kw)
        assert response.status_code == 200, response.text
        body = decimal_json(response)
        assert body["infcode"] == 0, body["err_msg"]
        return body["output"]


def decimal_json(response: httpx.Response) -> Any:
    import json

    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def api(db) -> Iterator[Api]:
    world = build_world(db)
    app = create_app(db.url)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, world)
    app.state.db.dispose()
