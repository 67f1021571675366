"""What the `yibao ltc` commands do (imported lazily by `yibao.cli.ltc_cmd`).

`assess` and `claim` act as the bureau user `cli` on a migrated database; `quote` is pure.
"""

from __future__ import annotations

import typer

from yibao.claimfile import read_json_object
from yibao.cli.common import fail
from yibao.cli.service_cmd import migrated_database
from yibao.crossregion.cli_run import CLI, located
from yibao.errors import InputError
from yibao.render.jsontext import dumps


def run_quote(file: str) -> None:
    from yibao.ltc.calc import parse_episode, quote, quote_dict
    from yibao.ltc.terms import load_terms

    try:
        episode = parse_episode(read_json_object(file))
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
        raw = read_json_object(file)
    except InputError as exc:
        fail(located(file, str(exc)))
    with migrated_database(explicit_url) as db:
        typer.echo(dumps(submit_claim(db, CLI, parse(ClaimIn, raw, "claim"))))
