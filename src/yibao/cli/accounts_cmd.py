"""`yibao accounts ...`: Personal accounts (个人账户): monthly crediting and allowed uses.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from yibao.cli.common import DatabaseUrl, OneLineErrors, fail

accounts_app = typer.Typer(
    help="Personal accounts (个人账户): monthly crediting and allowed uses.", no_args_is_help=True
)


def _with_db(database_url: str | None, use_case):
    """Run `use_case(db)` on the migrated database; errors as one line (2 input, 1 DB)."""
    from yibao.cli.service_cmd import migrated_database

    with migrated_database(database_url) as db:
        return use_case(db)


@accounts_app.command("credit", cls=OneLineErrors)
def credit(
    region: Annotated[str, typer.Argument(help="Region id with account rules, e.g. erenhot.")],
    month: Annotated[str, typer.Option("--month", help="The month credited, YYYY-MM.")],
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=100_000, help="Persons per transaction.")
    ] = 500,
    database_url: DatabaseUrl = None,
) -> None:
    """Credit every eligible personal account of REGION for a month (idempotent, resumable).

    In service: the own share of the declared monthly base; retired: the fixed amount.
    Re-running a month credits nobody twice; after a crash it continues where it stopped."""
    from yibao.contributions.service.crediting import run_crediting
    from yibao.render.jsontext import dumps
    from yibao.service.principal import SYSTEM

    done = _with_db(database_url, lambda db: run_crediting(db, SYSTEM, region, month, batch_size))
    typer.echo(dumps(done))


@accounts_app.command("pay-contribution", cls=OneLineErrors)
def pay_contribution(
    payer: Annotated[str, typer.Argument(help="psn_no of the account holder who pays.")],
    beneficiary: Annotated[
        str, typer.Option("--for", help="psn_no of the family member whose contribution it is.")
    ],
    year: Annotated[int, typer.Option("--year", min=1990, max=2100, help="Contribution year.")],
    purpose: Annotated[
        str,
        typer.Option(
            "--purpose",
            help="resident_contribution, large_expense_contribution or ltc_contribution.",
        ),
    ] = "resident_contribution",
    amount: Annotated[
        str | None,
        typer.Option(
            "--amount", help="Yuan, e.g. 320.00 [default: the resident contribution owed]."
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Pay a spouse's, parent's or child's contribution from PAYER's account (EH-07)."""
    from yibao.contributions.service.payments import pay_contribution as pay
    from yibao.money import MoneyError, positive_yuan, yuan_to_fen
    from yibao.render.jsontext import dumps
    from yibao.service.principal import SYSTEM

    fen = None
    if amount is not None:  # read as the API reads it ("1e1", "+5", "５" refused)
        try:
            fen = yuan_to_fen(positive_yuan(amount))
        except MoneyError as exc:
            fail(f"--amount: {amount!r} {exc}")
    done = _with_db(
        database_url, lambda db: pay(db, SYSTEM, payer, beneficiary, purpose, year, fen)
    )
    typer.echo(dumps(done))
