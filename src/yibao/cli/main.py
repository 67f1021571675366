"""`yibao` entry point. Commands import what they need lazily, so start-up stays fast."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from yibao.cli.common import DatabaseUrl, Format, OneLineErrors

app = typer.Typer(
    help="yibao — 医保 settlement: policy as cited data, one bill for every fund layer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Inspect packaged region policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
institution_app = typer.Typer(
    help="Designated institutions (定点医药机构) of the online service.", no_args_is_help=True
)
app.add_typer(institution_app, name="institution")
user_app = typer.Typer(
    help="Bureau and auditor API keys of the online service.", no_args_is_help=True
)
app.add_typer(user_app, name="user")
key_app = typer.Typer(
    help="Revoke or rotate an API key of the online service (an institution's or a user's).",
    no_args_is_help=True,
)
app.add_typer(key_app, name="key")
db_app = typer.Typer(help="The online service's database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


class Kind(StrEnum):
    hospital = "hospital"
    pharmacy = "pharmacy"


class UserRole(StrEnum):
    bureau = "bureau"
    auditor = "auditor"


@app.command()
def settle(
    file: Annotated[str, typer.Argument(help="Claim file (.json / .jsonl), or - for stdin.")],
    format: Annotated[
        Format | None, typer.Option("--format", help="json (default) or text bills.")
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Print each rule applied and its source in the text bill (implies --format "
            "text unless --format json is given; the JSON always carries `trace`).",
        ),
    ] = False,
    policy: Annotated[
        list[Path] | None,
        typer.Option("--policy", help="Reform overlay YAML merged over the packaged policy."),
    ] = None,
) -> None:
    """Settle every claim in FILE in date order (one day's claims by claim id), carrying
    year-to-date state."""
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


@policy_app.command("validate")
def policy_validate(
    paths: Annotated[list[Path], typer.Argument(help="Region files or reform overlays.")],
    region: Annotated[
        str | None, typer.Option("--region", help="Region of an overlay without region:.")
    ] = None,
    seeds: Annotated[
        Path | None, typer.Option("--seeds", help="Seed folder (default ../shared/seeds).")
    ] = None,
) -> None:
    """Load each file and check its quotes, seed files, rule ids and gap ids; exit 2 on any
    problem (one line each: FILE: path: reason), else print ok: FILE."""
    from yibao.cli.policy_cmd import run_validate

    run_validate(paths, region, seeds)


@app.command(cls=OneLineErrors)
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (uvicorn workers).")
    ] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
) -> None:
    """Run the database migrations, then serve the HTTP API until interrupted.

    Institutions post national-style transactions (1101, 2206/2207, 2208, 3201 …) to
    POST /api/transactions with their X-API-Key; the OpenAPI pages are at /docs."""
    from yibao.cli.service_cmd import run_serve

    run_serve(host, port, database_url, workers, access_log)


@institution_app.command("add", cls=OneLineErrors)
def institution_add(
    code: Annotated[str, typer.Argument(help="Institution code (fixmedins_code), e.g. H001.")],
    name: Annotated[str, typer.Option(help="Institution name, e.g. 二连浩特市医院.")],
    level: Annotated[
        int, typer.Option(min=1, max=3, help="1 township/community, 2 county, 3 city and above.")
    ],
    kind: Annotated[Kind, typer.Option(help="Hospital or pharmacy.")],
    region: Annotated[str, typer.Option(help="Region id: tongliao, qingdao, fuxin, erenhot …")],
    database_url: DatabaseUrl = None,
) -> None:
    """Register a designated institution; its new API key is printed alone on the last line.

    Only the key's hash is stored: keep the printed key, it cannot be shown again."""
    from yibao.cli.service_cmd import run_institution_add

    run_institution_add(code, name, level, kind.value, region, database_url)


@user_app.command("add", cls=OneLineErrors)
def user_add(
    name: Annotated[str, typer.Argument(help="Who holds the key, e.g. clerk-wang.")],
    role: Annotated[
        UserRole, typer.Option(help="bureau (enrolls, settles, reads all) or auditor.")
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Create a bureau or auditor API key, printed alone on the last line (shown once)."""
    from yibao.cli.service_cmd import run_user_add

    run_user_add(name, role.value, database_url)


InstitutionCode = Annotated[str, typer.Argument(help="Institution code (fixmedins_code).")]
KeyName = Annotated[
    str, typer.Argument(help="The key's name: an institution code, or a bureau/auditor user.")
]


@institution_app.command("suspend", cls=OneLineErrors)
def institution_suspend(code: InstitutionCode, database_url: DatabaseUrl = None) -> None:
    """Suspend an institution (暂停定点): its settlements are refused at once, and its key
    gets 401 within 10 seconds (the servers' key cache). Audited; undo with `resume`."""
    from yibao.cli.service_cmd import run_institution_status

    run_institution_status(code, "suspend", database_url)


@institution_app.command("resume", cls=OneLineErrors)
def institution_resume(code: InstitutionCode, database_url: DatabaseUrl = None) -> None:
    """Make a suspended institution active again; its existing key works again. Audited."""
    from yibao.cli.service_cmd import run_institution_status

    run_institution_status(code, "resume", database_url)


@key_app.command("revoke", cls=OneLineErrors)
def key_revoke(name: KeyName, database_url: DatabaseUrl = None) -> None:
    """Revoke a key (a leaked key, a departed clerk): it gets 401 within 10 seconds (the
    servers' key cache). Audited; `yibao key rotate NAME` issues a new one."""
    from yibao.cli.service_cmd import run_key_revoke

    run_key_revoke(name, database_url)


@key_app.command("rotate", cls=OneLineErrors)
def key_rotate(name: KeyName, database_url: DatabaseUrl = None) -> None:
    """Replace a key with a new one, printed alone on the last line (shown once). The old
    key gets 401 within 10 seconds; a revoked name works again with the new key. Audited."""
    from yibao.cli.service_cmd import run_key_rotate

    run_key_rotate(name, database_url)


@db_app.command("upgrade", cls=OneLineErrors)
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Create or migrate the schema to the newest revision (Alembic); safe to repeat."""
    from yibao.cli.service_cmd import run_db_upgrade

    run_db_upgrade(database_url)


@app.command("demo-load", cls=OneLineErrors)
def demo_load(
    database_url: DatabaseUrl = None,
    persons: Annotated[int, typer.Option(min=0, max=1_000_000, help="Synthetic persons.")] = 3000,
    seed: Annotated[int, typer.Option(help="Same seed, same persons.")] = 1,
) -> None:
    """Fill a fresh database with demo data, after running the migrations.

    Loads four designated institutions per region (hospitals of levels 3, 2 and 1 and a
    pharmacy), a bureau user, and synthetic persons over the five regions with their schemes,
    special categories and account balances. Prints each new key as a `CODE KEY` line."""
    from yibao.cli.service_cmd import run_demo_load

    run_demo_load(database_url, persons, seed)


@app.command(cls=OneLineErrors)
def supervise(
    files: Annotated[
        list[str],
        typer.Argument(help="Claim files (.json / .jsonl), -, or one folder of Parquet tables."),
    ],
    format: Annotated[Format, typer.Option("--format")] = Format.json,
    out: Annotated[
        str | None, typer.Option("--out", help="Write the flags as Parquet instead of printing.")
    ] = None,
) -> None:
    """Run the supervision rules over claims and print the flags with their evidence."""
    from yibao.cli.supervise_cmd import run_supervise

    run_supervise(files, format.value, out)


def _register_module_commands() -> None:
    """Commands whose signatures live beside their code (lazy inside, cheap to import)."""
    from yibao.cli.batch_cmd import batch_command
    from yibao.cli.simulate_cmd import simulate_command
    from yibao.cli.synth_cmd import synth_command

    app.command("batch", cls=OneLineErrors)(batch_command)
    app.command("synth", cls=OneLineErrors)(synth_command)
    app.command("simulate", cls=OneLineErrors)(simulate_command)
    from yibao.cli.accounts_cmd import accounts_app
    from yibao.cli.cases_cmd import cases_app
    from yibao.cli.contributions_cmd import contributions_app
    from yibao.cli.crossregion_cmd import cross_region_app
    from yibao.cli.ltc_cmd import ltc_app
    from yibao.cli.payment_cmd import payment_app

    app.add_typer(cases_app, name="cases")
    app.add_typer(contributions_app, name="contributions")
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(payment_app, name="payment")
    app.add_typer(cross_region_app, name="cross-region")
    app.add_typer(ltc_app, name="ltc")


_register_module_commands()


HELP_COLUMNS = "120"  # a pipe or file has no width; rich's 80 cut long option names


def main() -> None:
    if not sys.stdout.isatty():
        os.environ.setdefault("COLUMNS", HELP_COLUMNS)
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()


if __name__ == "__main__":
    main()
