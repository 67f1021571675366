"""`yibao cross-region ...`: Cross-region direct settlement (异地就医): filings, settling, clearing.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

import typer

cross_region_app = typer.Typer(
    help="Cross-region direct settlement (异地就医): filings, settling, clearing.",
    no_args_is_help=True,
)
