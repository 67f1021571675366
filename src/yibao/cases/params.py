"""The case workflow's parameters, read from `workflow.yaml` (every number cited)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import Field, field_validator

from yibao.policy.provenance import Cites, Provenance, Strict
from yibao.supervision.params import RULE_IDS


class CitedDays(Provenance):
    """A number of days with its provenance."""

    value: int = Field(ge=0, le=366)


class CitedRules(Provenance):
    """Supervision rule ids with their provenance."""

    value: tuple[str, ...]

    @field_validator("value")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(RULE_IDS))
        if unknown:
            raise ValueError(f"not supervision rules: {', '.join(unknown)}")
        return value


class WorkflowParams(Strict):
    basis: Cites
    appeal_window_days: CitedDays
    identity_rules: CitedRules


@cache
def workflow_params() -> WorkflowParams:
    """The packaged workflow parameters (validated once)."""
    text = (resources.files("yibao.cases") / "workflow.yaml").read_text("utf-8")
    return WorkflowParams.model_validate(yaml.safe_load(text))
