"""Where the seed documents live: `../shared/seeds` beside the repository."""

from __future__ import annotations

from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
