"""`yibao contributions ...`: Contribution bills (缴费) of units and persons for a period.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

import typer

contributions_app = typer.Typer(
    help="Contribution bills (缴费) of units and persons for a period.", no_args_is_help=True
)
