"""What the `yibao ltc` commands do (imported lazily by `yibao.cli.ltc_cmd`).

`assess` and `claim` act as the bureau user `cli` on a migrated database; `quote` is pure.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import typer

from yibao.claimfile import read_text
from yibao.cli.common import fail
from yibao.cli.service_cmd import migrated_database
from yibao.crossregion.cli_run import CLI, located
from yibao.errors import InputError
from yibao.render.jsontext import dumps


def read_json(file: str) -> Any:
    """A JSON object from FILE (or - for stdin), as a one-line input error if it is not one."""
    text = read_text(file)
    try:
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(f"{file}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{file}: must be a JSON object")
    return raw


def run_quote(file: str) -> None:
    from yibao.ltc.calc import parse_episode, quote, quote_dict
    from yibao.ltc.terms import load_terms

    try:
        episode = parse_episode(read_json(file))
        terms = load_terms()
        answer = quote_dict(terms, episode, quote(terms, episode))
    except InputError as exc:
        fail(located(file, str(exc)))
    typer.echo(dumps(answer))


def run_assess(
    psn_no: str,
    level: int,
    assessor: str,
    assessed_on: str,
    valid_until: str,
    explicit_url: str | None,
) -> None:
    from yibao.ltc.service import AssessmentIn, assess, parse

    with migrated_database(explicit_url) as db:
        body = parse(
            AssessmentIn,
            {"psn_no": psn_no, "level": level, "assessor": assessor,
             "assessed_on": assessed_on, "valid_until": valid_until},
            "assessment",
        )  # fmt: skip
        typer.echo(dumps(assess(db, CLI, body)))


def run_claim(file: str, explicit_url: str | None) -> None:
    from yibao.ltc.service import ClaimIn, parse, submit_claim

    try:
        raw = read_json(file)
    except InputError as exc:
        fail(located(file, str(exc)))
    with migrated_database(explicit_url) as db:
        typer.echo(dumps(submit_claim(db, CLI, parse(ClaimIn, raw, "claim"))))
