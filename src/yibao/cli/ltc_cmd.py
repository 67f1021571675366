"""`yibao ltc ...`: Long-term care insurance (长期护理保险): assessments and care.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from yibao.cli.common import DatabaseUrl, OneLineErrors

ltc_app = typer.Typer(
    help="Long-term care insurance (长期护理保险): assessments and care.",
    no_args_is_help=True,
)


@ltc_app.command("assess", cls=OneLineErrors)
def assess_command(
    psn_no: Annotated[
        str, typer.Argument(help="The enrolled person (psn_no), insured in qingdao.")
    ],
    level: Annotated[
        int, typer.Option(min=0, help="Disability level 0–5; 3–5 are severe (重度失能).")
    ],
    assessor: Annotated[str, typer.Option(help="Who assessed (name or agency).")],
    assessed_on: Annotated[str, typer.Option("--date", help="Assessment day, YYYY-MM-DD.")],
    valid_until: Annotated[
        str, typer.Option("--valid-until", help="Last day it is valid, YYYY-MM-DD.")
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Record a disability assessment (失能评估) as the bureau; prints it."""
    from yibao.ltc.cli_run import run_assess

    run_assess(psn_no, level, assessor, assessed_on, valid_until, database_url)


@ltc_app.command("claim", cls=OneLineErrors)
def claim_command(
    file: Annotated[
        str,
        typer.Argument(
            help="Claim JSON: claim_id, psn_no, care_type, start, end, units, institution_code."
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Submit a care claim as the bureau: priced, stored and audited; prints it."""
    from yibao.ltc.cli_run import run_claim

    run_claim(file, database_url)


@ltc_app.command("quote", cls=OneLineErrors)
def quote_command(
    file: Annotated[
        str,
        typer.Argument(help="Episode JSON: scheme, level, care_type, start, end, units."),
    ],
) -> None:
    """Price a care episode without any database (pure): fund part, person part, sources."""
    from yibao.ltc.cli_run import run_quote

    run_quote(file)
