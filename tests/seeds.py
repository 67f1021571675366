"""Where the seed documents live: `../shared/seeds` beside the repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


def nodes(node: Any, kind: type, found: list | None = None) -> list:
    """Every object of `kind` inside a loaded policy tree (models, lists, dicts), in order."""
    found = [] if found is None else found
    if isinstance(node, kind):
        found.append(node)
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            nodes(getattr(node, name), kind, found)
    elif isinstance(node, list | tuple | dict):
        for item in node.values() if isinstance(node, dict) else node:
            nodes(item, kind, found)
    return found
