"""Load a region's contribution policy (`<region>.yaml` beside this module), validated.

A bad file fails here, naming the file, the path inside it and the reason.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError

from yibao.contributions.schema import ContributionRates
from yibao.errors import first_error
from yibao.policy.loader import PolicyError

PACKAGE = "yibao.contributions"


def contribution_regions() -> list[str]:
    """Regions that have a packaged contribution policy."""
    folder = resources.files(PACKAGE)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@cache
def load_rates(region: str) -> ContributionRates:
    """The packaged contribution policy of `region` (cached: policies are immutable)."""
    if region not in contribution_regions():
        known = ", ".join(contribution_regions())
        raise PolicyError(f"{region}.yaml", "", f"unknown region {region!r} (known: {known})")
    text = (resources.files(PACKAGE) / f"{region}.yaml").read_text("utf-8")
    return parse_rates(text, f"{region}.yaml")


def parse_rates(text: str, file: str) -> ContributionRates:
    """Validate one contribution policy file's text."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(file, "", f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict) or "seed" not in raw:
        raise PolicyError(file, "", "a contribution file needs region, name, seed, description")
    _fill_seed(raw, raw["seed"])
    try:
        return ContributionRates.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(file, "", first_error(exc)) from None


def _fill_seed(node: Any, seed: str) -> None:
    """A `source:` without `seed:` quotes the region's own seed file."""
    if isinstance(node, list):
        for item in node:
            _fill_seed(item, seed)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "source":
                for src in value if isinstance(value, list) else [value]:
                    if isinstance(src, dict):
                        src.setdefault("seed", seed)
            else:
                _fill_seed(value, seed)
