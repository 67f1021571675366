"""`yibao cases ...`: Supervision cases: flags under review, appeals, decisions and recoveries.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

import typer

cases_app = typer.Typer(
    help="Supervision cases: flags under review, appeals, decisions and recoveries.",
    no_args_is_help=True,
)
