"""`yibao contributions ...`: Contribution bills (缴费) of units and persons for a period.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from yibao.cli.common import DatabaseUrl, Format, OneLineErrors, fail

contributions_app = typer.Typer(
    help="Contribution bills (缴费) of units and persons for a period.", no_args_is_help=True
)

File = Annotated[str, typer.Argument(help="JSON description (see examples/contributions/), or -.")]
FormatOption = Annotated[
    Format, typer.Option("--format", help="json (default) or text with each line's source.")
]


def _print(bill, fmt: Format) -> None:
    from yibao.contributions.render import render_bill
    from yibao.render.jsontext import dumps

    typer.echo(dumps(bill.as_dict()) if fmt == Format.json else render_bill(bill))


def _compute(kind: str, file: str, period: str):
    from yibao.claimfile import read_json_object
    from yibao.contributions.compute import compute_person_bill, compute_unit_bill
    from yibao.errors import InputError
    from yibao.policy.loader import PolicyError

    try:
        raw = read_json_object(file, "a description must be a JSON object")
        return (compute_unit_bill if kind == "unit" else compute_person_bill)(raw, period)
    except (InputError, PolicyError) as exc:
        fail(str(exc))


@contributions_app.command("unit", cls=OneLineErrors)
def unit(
    file: File,
    period: Annotated[str, typer.Option("--period", help="The month billed, YYYY-MM.")],
    format: FormatOption = Format.json,
) -> None:
    """A unit's monthly bill: employer and personal parts per member, levies, financing."""
    _print(_compute("unit", file, period), format)


@contributions_app.command("person", cls=OneLineErrors)
def person(
    file: File,
    period: Annotated[
        str, typer.Option("--period", help="YYYY (residents, workers) or YYYY-MM (workers).")
    ],
    format: FormatOption = Format.json,
) -> None:
    """A person's bill: resident (with category subsidies), flexible worker or 单建统筹."""
    _print(_compute("person", file, period), format)


@contributions_app.command("issue", cls=OneLineErrors)
def issue(
    file: File,
    period: Annotated[str, typer.Option("--period", help="The month billed, YYYY-MM.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Issue and store a unit's monthly bill with its members' declared bases (bureau).

    The bases are what `yibao accounts credit` credits from. Issuing the same bill again
    answers the stored one; a different bill for the same unit and month is refused."""
    from yibao.claimfile import read_json_object
    from yibao.cli.service_cmd import migrated_database
    from yibao.contributions.service.bills import issue_unit_bill
    from yibao.errors import InputError
    from yibao.render.jsontext import dumps
    from yibao.service.principal import SYSTEM

    try:
        raw = read_json_object(file, "a description must be a JSON object")
    except InputError as exc:
        fail(str(exc))
    with migrated_database(database_url) as db:
        done = issue_unit_bill(db, SYSTEM, raw, period)
    typer.echo(dumps(done))
