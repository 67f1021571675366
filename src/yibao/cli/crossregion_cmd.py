"""`yibao cross-region ...`: Cross-region direct settlement (异地就医): filings, settling, clearing.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from yibao.cli.common import DatabaseUrl, OneLineErrors

cross_region_app = typer.Typer(
    help="Cross-region direct settlement (异地就医): filings, settling, clearing.",
    no_args_is_help=True,
)


class Kind(StrEnum):
    residence = "residence"
    referral = "referral"
    temporary = "temporary"


class FilingChoice(StrEnum):
    residence = "residence"
    referral = "referral"
    temporary = "temporary"
    none = "none"


Month = Annotated[str, typer.Option(help="Month, YYYY-MM (e.g. 2023-03).")]


@cross_region_app.command("file", cls=OneLineErrors)
def file_command(
    psn_no: Annotated[str, typer.Argument(help="The enrolled person (psn_no).")],
    kind: Annotated[
        Kind, typer.Option(help="residence (异地安置), referral (异地转诊) or temporary.")
    ],
    treating_region: Annotated[
        str, typer.Option("--treating-region", help="Region of treatment, e.g. qingdao.")
    ],
    valid_from: Annotated[str, typer.Option("--from", help="First valid day, YYYY-MM-DD.")],
    valid_to: Annotated[
        str | None, typer.Option("--to", help="Last valid day, YYYY-MM-DD (default: open).")
    ] = None,
    note: Annotated[str, typer.Option(help="Free text kept with the filing.")] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """File out-of-region treatment (备案) for a person, as the bureau; prints the filing."""
    from yibao.crossregion.cli_run import run_file

    run_file(psn_no, kind.value, treating_region, valid_from, valid_to, note, database_url)


@cross_region_app.command("settle", cls=OneLineErrors)
def settle_command(
    file: Annotated[str, typer.Argument(help="Claim file (.json / .jsonl), or - for stdin.")],
    treating_region: Annotated[
        str, typer.Option("--treating-region", help="Region of the treating institutions.")
    ],
    filing: Annotated[
        FilingChoice,
        typer.Option(help="The person's filing kind, or none (unfiled: settled as unreferred)."),
    ] = FilingChoice.none,
) -> None:
    """Settle FILE at TREATING_REGION: its catalogue, the insured region's ratios (pure)."""
    from yibao.crossregion.cli_run import run_settle

    run_settle(file, treating_region, filing.value)


@cross_region_app.command("clear", cls=OneLineErrors)
def clear_command(month: Month, database_url: DatabaseUrl = None) -> None:
    """Clear MONTH between regions: gross per pair, nets; repeating a done month writes nothing,
    and a run interrupted by a crash resumes where it stopped."""
    from yibao.crossregion.cli_run import run_clear

    run_clear(month, database_url)


@cross_region_app.command("stats", cls=OneLineErrors)
def stats_command(
    region: Annotated[str, typer.Option(help="Our region: outbound = its insured elsewhere.")],
    begin: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    end: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Cross-region visits and amounts per month, direction and scheme, with seed benchmarks."""
    from yibao.crossregion.cli_run import run_stats

    run_stats(region, begin, end, database_url)
