"""The case workflow's parameters, read from `workflow.yaml` (every number cited)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import Field

from yibao.policy.provenance import Cites, Provenance, Strict


class CitedDays(Provenance):
    """A number of days with its provenance."""

    value: int = Field(ge=0, le=366)


class WorkflowParams(Strict):
    basis: Cites
    appeal_window_days: CitedDays


@cache
def workflow_params() -> WorkflowParams:
    """The packaged workflow parameters (validated once)."""
    text = (resources.files("yibao.cases") / "workflow.yaml").read_text("utf-8")
    return WorkflowParams.model_validate(yaml.safe_load(text))
