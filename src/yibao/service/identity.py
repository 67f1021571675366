"""Chinese resident ID numbers (GB 11643-1999): checksum validation and masking for logs."""

from __future__ import annotations

import datetime as dt

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def certno_problem(certno: str) -> str | None:
    """Why `certno` is not a valid 18-digit ID number, or None when it is."""
    if len(certno) != 18 or not certno[:17].isdigit():
        return "must be 17 digits and a check character"
    try:
        dt.date(int(certno[6:10]), int(certno[10:12]), int(certno[12:14]))
    except ValueError:
        return "has an impossible birth date"
    expected = _CHECK[sum(int(d) * w for d, w in zip(certno[:17], _WEIGHTS, strict=True)) % 11]
    if certno[17].upper() != expected:
        return "check character does not match"
    return None


def with_check_digit(first17: str) -> str:
    """Complete 17 digits into a valid ID number (for synthetic persons)."""
    return first17 + _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def mask(certno: str | None) -> str | None:
    """Keep the region and the last digit only: 150102********123X → 1501**********3X style."""
    if not certno:
        return certno
    return certno[:4] + "*" * (len(certno) - 6) + certno[-2:]
