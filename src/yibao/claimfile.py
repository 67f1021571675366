"""Read claim files (`.json`, `.jsonl` or `-`) into validated `ClaimFile`s, or one-line errors."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from yibao.engine.inputs import ClaimFile
from yibao.errors import InputError, first_error

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_text(path: str) -> str:
    # a BOM is how Windows editors start UTF-8 text; it is not part of the JSON
    if path == "-":
        return sys.stdin.read().removeprefix("\ufeff")
    try:
        return Path(path).read_text("utf-8").removeprefix("\ufeff")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def read_json(path: str) -> Any:
    """The JSON value in `path` (or stdin for -), numbers with decimals as exact Decimals;
    InputError naming the file when it cannot be read or parsed."""
    return _json_value(read_text(path), f"{path}: ")


def read_json_object(path: str, refusal: str = "must be a JSON object") -> dict[str, Any]:
    """`read_json` for inputs that must be one object; `refusal` says why otherwise."""
    return _json_object(read_text(path), f"{path}: ", refusal)


def parse_claim_files(path: str, one_per_person: bool = False) -> list[ClaimFile]:
    """All claim files in `path`: one object for .json, one per line for .jsonl (stdin: either);
    `one_per_person`: see `claim_files_of`."""
    return read_claim_files(path, one_per_person)[0]


def read_claim_files(file: str, one_per_person: bool = False) -> tuple[list[ClaimFile], bool]:
    """The claim files of `file` and whether it holds one per line (errors name the line)."""
    found, by_line = claim_files_of(file, one_per_person)
    return list(found), by_line


def is_json_lines(file: str) -> bool:
    """A file named .jsonl (in any case: exports from Windows tools write .JSONL)."""
    return file.lower().endswith(".jsonl")


def claim_files_of(file: str, one_per_person: bool = False) -> tuple[Iterator[ClaimFile], bool]:
    """`read_claim_files`, each claim file parsed only when it is reached (a large .jsonl
    then needs no memory for the ones already used, but for the person ids when
    `one_per_person`). Stdin (-) may be JSON Lines too, when a second document follows the
    first. `one_per_person` (`yibao settle`, `yibao batch`): a person on two lines is refused,
    naming both, since a person's claims settle as one history — two lines settled apart would
    each start the year afresh (two annual caps). Supervision reads monthly exports, where a
    person is on a line of each, and leaves it off."""
    text = read_text(file)
    lines = is_json_lines(file) or (file == "-" and several_documents(text))
    found = _claim_files_in(text, lines, file)
    if lines and one_per_person:
        found = _once_per_person(found)
    return (claim_file for _, claim_file in found), lines


def _claim_files_in(text: str, by_line: bool, file: str) -> Iterator[tuple[int, ClaimFile]]:
    """Each claim file with its line (1 when the text is one document, whose text that is
    not a JSON object is said of the file: a field's path needs no file name)."""
    if not text.strip():
        return  # the caller says the input holds no claim file
    if not by_line:
        yield 1, _parse(text, "", "" if file == "-" else f"{file}: ")
        return
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield i, _parse(line, f"line {i}: ")


def _once_per_person(found: Iterator[tuple[int, ClaimFile]]) -> Iterator[tuple[int, ClaimFile]]:
    """`found`, refused at the second line of a person (by id: the batch's persons table
    holds one row per id), and at the second line of a personal account: a relative's
    account (`family_accounts`) on two lines, or of a person who has a line, would be spent
    once in each history — more than it holds."""
    first: dict[str, int] = {}
    accounts: dict[str, int] = {}  # holder → line naming the account
    for i, claim_file in found:
        pid = claim_file.person.id
        if (earlier := first.setdefault(pid, i)) != i:
            raise InputError(
                f"person {pid} is on lines {earlier} and {i}: one line per person, their "
                "claims settle as one history"
            )
        for holder in [pid, *(a.holder for a in claim_file.person.family_accounts)]:
            if (earlier := accounts.setdefault(holder, i)) != i:
                raise InputError(
                    f"the personal account of {holder} is on lines {earlier} and {i}: each "
                    "line settles as a history of its own and would spend it again (settle "
                    "a family sharing an account through the online service, which keeps "
                    "one balance)"
                )
        yield i, claim_file


def several_documents(text: str) -> bool:
    """Whether a second JSON document follows the first (JSON Lines given on stdin)."""
    text = text.lstrip()
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        return False  # not JSON at all: reported as one document
    return bool(text[end:].strip())


CLAIM_FILE_OBJECT = "a claim file must be a JSON object"


def _parse(text: str, where: str, text_where: str | None = None) -> ClaimFile:
    raw = _json_object(text, where if text_where is None else text_where, CLAIM_FILE_OBJECT)
    if _SURROGATE_ESCAPE.search(text) and (path := _lone_surrogate(raw)) is not None:
        # json accepts "\ud800" alone; no UTF-8 output could carry it
        raise InputError(f"{where}{path}: not valid Unicode text (a lone surrogate escape)")
    try:
        return ClaimFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(where + first_error(exc)) from None


def _json_value(text: str, where: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InputError(f"{where}not valid input: JSON nested too deeply") from None


def _lone_surrogate(value: Any, path: str = "") -> str | None:
    """The path of the first string holding a lone surrogate, or None."""
    if isinstance(value, str):
        return path if any("\ud800" <= c <= "\udfff" for c in value) else None
    if isinstance(value, dict):
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    return next((p for key, v in items if (p := _lone_surrogate(v, key)) is not None), None)


def _json_object(text: str, where: str, refusal: str) -> dict[str, Any]:
    raw = _json_value(text, where)
    if not isinstance(raw, dict):
        raise InputError(f"{where}{refusal}")
    return raw
