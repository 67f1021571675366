"""A message id (msgid) together with the fingerprint of the request it came with.

A msgid sent again gets the first answer back; a msgid sent again with another request (a
HIS whose sequence restarted) must be refused instead, or it is told its new request was
settled when it was not. The fingerprint travels with the msgid, so every place that stores
or replays an answer by msgid compares it without another parameter.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


class MessageId(str):
    fingerprint: str | None

    def __new__(cls, msgid: str, infno: str, request: Any) -> MessageId:
        value = super().__new__(cls, msgid)
        value.fingerprint = fingerprint(infno, request)
        return value


def fingerprint(infno: str, request: Any) -> str:
    """The trade and its input, whatever the order of its keys (inf_time is left out: a
    retry may be stamped anew)."""
    text = json.dumps([infno, request], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_of(msgid: str) -> str | None:
    """The request's fingerprint when the msgid carries one (the national envelope's)."""
    return getattr(msgid, "fingerprint", None)
