"""An API over a fresh database (SQLite and PostgreSQL) with institutions, bureau, auditors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import decimal_json
from tests.service.world import build_world
from yibao.api.app import create_app
from yibao.service import institutions
from yibao.store.db import Database


@dataclass
class CasesApi:
    client: TestClient
    db: Database
    keys: dict[str, str]

    def post(self, path: str, body: dict[str, Any], who: str) -> httpx.Response:
        return self.client.post(path, json=body, headers={"X-API-Key": self.keys[who]})

    def get(self, path: str, who: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params, headers={"X-API-Key": self.keys[who]})

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return decimal_json(response)


@pytest.fixture
def cases_api(db) -> Iterator[CasesApi]:
    """Keys: hospital (H001), other (H002), bureau (clerk), auditor (inspector), auditor2."""
    world = build_world(db)
    keys = {**world.keys, "auditor2": institutions.add_user(db, "inspector-2", "auditor")}
    app = create_app(db.url)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield CasesApi(client, db, keys)
    app.state.db.dispose()
