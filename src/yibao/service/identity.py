"""Chinese resident ID numbers (GB 11643-1999): checksum validation and masking for logs."""

from __future__ import annotations

import datetime as dt

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# str.isdigit() and int() also take fullwidth, Arabic-Indic and superscript digits: a
# fullwidth copy of an enrolled number would be a second person (QA), a superscript one a 500
_ASCII_DIGITS = frozenset("0123456789")


def _ascii_digits(text: str) -> bool:
    return bool(text) and all(c in _ASCII_DIGITS for c in text)


def certno_problem(certno: str) -> str | None:
    """Why `certno` is not a valid 18-digit ID number, or None when it is: ASCII digits 0-9,
    the last one 0-9 or X."""
    if len(certno) != 18 or not _ascii_digits(certno[:17]) or certno[17] not in "0123456789Xx":
        return "must be 17 digits and a check character"
    try:
        dt.date(int(certno[6:10]), int(certno[10:12]), int(certno[12:14]))
    except ValueError:
        return "has an impossible birth date"
    expected = _CHECK[sum(int(d) * w for d, w in zip(certno[:17], _WEIGHTS, strict=True)) % 11]
    if certno[17].upper() != expected:
        return "check character does not match"
    return None


def is_first_generation(number: str) -> bool:
    """A 15-digit first-generation ID number (一代身份证, GB 11643-1989): 6 digits of area,
    the birth date as YYMMDD (19YY) and 3 digits of sequence, no check character."""
    if len(number) != 15 or not _ascii_digits(number):
        return False
    try:
        dt.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return True


def is_id_number(text: str) -> bool:
    """Whether `text` is an ID number of either generation (to be masked wherever it shows)."""
    return certno_problem(text) is None or is_first_generation(text)


def with_check_digit(first17: str) -> str:
    """Complete 17 digits into a valid ID number (for synthetic persons)."""
    return first17 + _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def mask(certno: str | None) -> str | None:
    """Keep the region and the last digit only: 150102********123X → 1501**********3X style."""
    if not certno:
        return certno
    return certno[:4] + "*" * (len(certno) - 6) + certno[-2:]


def shown_id(person_id: str) -> str:
    """A person id as messages and the audit log show it: masked when it is an ID number
    (persons enrolled before such ids were refused)."""
    return str(mask(person_id)) if is_id_number(person_id) else person_id
