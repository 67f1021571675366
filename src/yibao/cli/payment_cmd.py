"""`yibao payment ...`: Institution agreements, budgets, DRG and capitation payment, statements.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

import typer

payment_app = typer.Typer(
    help="Institution agreements, budgets, DRG and capitation payment, statements.",
    no_args_is_help=True,
)
