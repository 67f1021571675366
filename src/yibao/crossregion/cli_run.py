"""What the `yibao cross-region` commands do (imported lazily by `yibao.cli.crossregion_cmd`).

Database commands act as the bureau user `cli` and migrate the schema first, like every
online-service command; `settle` is pure and touches no database.
"""

from __future__ import annotations

import typer

from yibao.cli.common import fail
from yibao.cli.service_cmd import migrated_database
from yibao.errors import InputError
from yibao.render.jsontext import dumps
from yibao.service.principal import Principal

CLI = Principal("cli", "bureau")


def run_file(
    psn_no: str,
    kind: str,
    treating_region: str,
    valid_from: str,
    valid_to: str | None,
    note: str,
    explicit_url: str | None,
) -> None:
    from yibao.crossregion.filings import create_filing, parse_filing

    with migrated_database(explicit_url) as db:
        filing = parse_filing(
            {"psn_no": psn_no, "kind": kind, "treating_region": treating_region,
             "valid_from": valid_from, "valid_to": valid_to, "note": note}
        )  # fmt: skip
        typer.echo(dumps(create_filing(db, CLI, filing)))


def run_settle(file: str, treating_region: str, filing: str | None) -> None:
    from yibao.claimfile import is_json_lines, parse_claim_files
    from yibao.crossregion.preview import given_filing, result_dict
    from yibao.crossregion.settle import settle_file_cross_region
    from yibao.policy.loader import PolicyError

    outputs = []
    try:
        filing_on = given_filing(filing)
        # one line per person, as `yibao settle`: two lines would be two histories (QA)
        for claim_file in parse_claim_files(file, one_per_person=True):
            results, state = settle_file_cross_region(claim_file, treating_region, filing_on)
            outputs.append(result_dict(claim_file, treating_region, results, state))
    except (InputError, PolicyError) as exc:
        fail(located(file, str(exc)))
    for output in outputs:
        typer.echo(dumps(output, None if is_json_lines(file) else 2))


def located(file: str, message: str) -> str:
    """`path: reason`, without naming the path twice."""
    return message if message.startswith(f"{file}: ") else f"{file}: {message}"


def run_clear(month: str, explicit_url: str | None) -> None:
    from yibao.crossregion.jobs import run_clearing

    with migrated_database(explicit_url) as db:
        typer.echo(dumps(run_clearing(db, CLI, month)))


def run_stats(region: str, begin: str, end: str, explicit_url: str | None) -> None:
    from yibao.crossregion.stats import statistics

    with migrated_database(explicit_url) as db:
        typer.echo(dumps(statistics(db, CLI, region, begin, end)))
