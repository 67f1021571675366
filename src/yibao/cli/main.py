"""`yibao` entry point. Commands import what they need lazily, so start-up stays fast."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="yibao — 医保 settlement: policy as cited data, one bill for every fund layer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Inspect packaged region policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


class Format(StrEnum):
    json = "json"
    text = "text"


def fail(message: str, code: int = 2) -> None:
    """One line on stderr, nothing on stdout, non-zero exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def settle(
    file: Annotated[str, typer.Argument(help="Claim file (.json / .jsonl), or - for stdin.")],
    format: Annotated[
        Format | None, typer.Option("--format", help="json (default) or text bills.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print each rule applied and its source.")
    ] = False,
    policy: Annotated[
        list[Path] | None,
        typer.Option("--policy", help="Reform overlay YAML merged over the packaged policy."),
    ] = None,
) -> None:
    """Settle every claim in FILE in date order, carrying year-to-date state."""
    from yibao.cli.settle_cmd import run_settle

    chosen = format or (Format.text if explain else Format.json)
    run_settle(file, chosen.value, explain, tuple(policy or ()))


@policy_app.command("list")
def policy_list() -> None:
    """Packaged regions and their version date ranges."""
    from yibao.cli.policy_cmd import run_list

    run_list()


@policy_app.command("show")
def policy_show(
    region: str,
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: newest version).")] = None,
    format: Annotated[Format, typer.Option("--format")] = Format.text,
    policy: Annotated[list[Path] | None, typer.Option("--policy", help="Reform overlay.")] = None,
) -> None:
    """Every effective value of REGION on a date, each with its source or 'assumed'."""
    from yibao.cli.policy_cmd import run_show

    run_show(region, date, format.value, tuple(policy or ()))


@policy_app.command("diff")
def policy_diff(
    region: str,
    from_: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    to: Annotated[str, typer.Option("--to", help="YYYY-MM-DD")],
    policy: Annotated[
        list[Path] | None, typer.Option("--policy", help="Overlay applied to --to.")
    ] = None,
) -> None:
    """What changed in REGION's policy between two dates (or under a reform overlay)."""
    from yibao.cli.policy_cmd import run_diff

    run_diff(region, from_, to, tuple(policy or ()))


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()


if __name__ == "__main__":
    main()
