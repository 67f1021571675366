"""Which reform overlays apply to which region's persons.

A run over many persons (a `.jsonl`, a batch directory) may hold several regions; a reform
overlay is written for one (`region:`) or for any (no `region:`). Each person takes the
overlays of their region, and an overlay for a region no person is in is refused: it would
change nothing, silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from yibao.errors import InputError


def overlays_for(region: str, overlays: tuple[Path, ...]) -> tuple[Path, ...]:
    """The overlays a region takes: those naming it, and those naming no region."""
    return tuple(path for path in overlays if overlay_region(path) in (None, region))


@lru_cache(maxsize=64)
def overlay_region(path: Path) -> object:
    """The `region:` an overlay names, or None (an unreadable file too: the policy loader
    reports it with its own message). Read once per process, as the merged policy is
    (`settling.policy_and_catalogs`): `overlays_for` runs for every person of a file."""
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return raw.get("region") if isinstance(raw, dict) else None


def check_overlay_regions(overlays: tuple[Path, ...], regions: Iterable[str]) -> None:
    """Refuse an overlay written for a region no person of the data is in."""
    present = set(regions)
    for path in overlays:
        named = overlay_region(path)
        if named is not None and named not in present:
            listed = ", ".join(sorted(present)) or "none"
            raise InputError(
                f"{path}: the overlay is for {named!r}, which no person in the data is in "
                f"(regions: {listed})"
            )
