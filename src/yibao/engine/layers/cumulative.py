"""Shared arithmetic of annual cumulative thresholds (起付线 on a running yearly total)."""

from __future__ import annotations


def above_threshold(before: int, added: int, threshold: int) -> int:
    """How much of `added` lies above `threshold` once the year's running total was `before`."""
    after = before + added
    return max(0, after - max(before, threshold))
