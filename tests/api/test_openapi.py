"""Schemathesis against /openapi.json: generated requests (valid and invalid) never get a 500,
and every answer matches the documented schema (status code, content type, body).

The schema is read at import from an app that never touches its database; the requests go
to an app over a migrated SQLite database with a small enrolled world, as the bureau.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.databases import fresh_database
from tests.service.world import build_world
from yibao.api.app import create_app

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app("sqlite://"))
# The key is sent explicitly (below), so schemathesis neither generates nor drops it; and
# unknown query parameters, which the API ignores as HTTP APIs do, are not generated.
schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)


@pytest.fixture(scope="module")
def served(db_templates, tmp_path_factory) -> Iterator[dict[str, Any]]:
    for db in fresh_database("sqlite", db_templates, tmp_path_factory.mktemp("openapi")):
        world = build_world(db)
        app = create_app(db.url)
        app.state.key_guard.limit = 1_000_000  # schemathesis tries bad keys on purpose
        yield {"app": app, "headers": {"X-API-Key": world.keys["bureau"]}}
        app.state.db.dispose()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_conform(case, served):
    # Schema-valid data may still be refused on meaning (an ID number's check character, an
    # unknown person for a credit): that is a 4xx by design, so positive_data_acceptance is off.
    case.call_and_validate(
        app=served["app"], headers=served["headers"], excluded_checks=[positive_data_acceptance]
    )
