"""Load a region's contribution policy (`<region>.yaml` beside this module), validated.

A bad file fails here, naming the file, the path inside it and the reason.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pydantic import ValidationError

from yibao.contributions.schema import ContributionRates
from yibao.errors import first_error
from yibao.policy.loader import PolicyError, fill_seed, packaged_text, read_yaml, yaml_names

PACKAGE = "yibao.contributions"


def contribution_regions() -> list[str]:
    """Regions that have a packaged contribution policy."""
    return yaml_names(resources.files(PACKAGE))


@cache
def load_rates(region: str) -> ContributionRates:
    """The packaged contribution policy of `region` (cached: policies are immutable)."""
    text = packaged_text(resources.files(PACKAGE), region)
    return parse_rates(text, f"{region}.yaml")


def parse_rates(text: str, file: str) -> ContributionRates:
    """Validate one contribution policy file's text."""
    raw = read_yaml(text, file)
    if not isinstance(raw, dict) or "seed" not in raw:
        raise PolicyError(file, "", "a contribution file needs region, name, seed, description")
    fill_seed(raw, raw["seed"])
    try:
        return ContributionRates.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(file, "", first_error(exc)) from None
