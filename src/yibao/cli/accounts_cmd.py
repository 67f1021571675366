"""`yibao accounts ...`: Personal accounts (个人账户): monthly crediting and allowed uses.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

import typer

accounts_app = typer.Typer(
    help="Personal accounts (个人账户): monthly crediting and allowed uses.", no_args_is_help=True
)
