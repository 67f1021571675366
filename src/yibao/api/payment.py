"""Institution agreements, budgets, payment methods and statements over HTTP."""

from __future__ import annotations

from fastapi import APIRouter

from yibao.api.errors import ERROR_RESPONSES
from yibao.api.rendering import MoneyJSONResponse

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=MoneyJSONResponse)
