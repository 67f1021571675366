"""ID numbers (身份证号) never reach a log line in clear: a filter masks them everywhere."""

from __future__ import annotations

import logging
import re
from typing import Any

from yibao.service.identity import is_first_generation, mask

LOGGER = "yibao.api"
# An 18-character run, or a 15-digit one (first-generation), standing alone. The ids the
# service prints are never cut into: msgids have 30 characters, setl_ids and mdtrt_ids start
# with a letter (S / M, the date, 16 hex), the demo's psn_nos have 16 digits.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")


def scrub(text: str) -> str:
    return _ID_NUMBER.sub(_masked, text)


def _masked(found: re.Match[str]) -> str:
    """Any 18-character run is masked (a mistyped ID number is still one); a 15-digit run only
    when it reads as a first-generation ID number (a valid YYMMDD birth date), since other
    numbers of 15 digits are not personal."""
    number = found.group()
    if len(number) == 15 and not is_first_generation(_in_ascii(number)):
        return number
    return mask(number) or ""


def _in_ascii(digits: str) -> str:
    """`\\d` also matches fullwidth and other Unicode decimal digits: read them as 0-9."""
    return "".join(str(int(d)) for d in digits)


class MaskIdNumbers(logging.Filter):
    """Masks ID numbers in the message, its arguments and any traceback of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _scrub_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def _scrub_arg(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    text = str(value)
    cleaned = scrub(text)
    return cleaned if cleaned != text else value


def install() -> logging.Logger:
    """Put the filter on yibao's API logger and uvicorn's (once, however many apps)."""
    for name in (LOGGER, "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskIdNumbers) for f in logger.filters):
            logger.addFilter(MaskIdNumbers())
    return logging.getLogger(LOGGER)
