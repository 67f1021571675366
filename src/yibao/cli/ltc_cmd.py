"""`yibao ltc ...`: Long-term care insurance (长期护理保险): assessments and care.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
"""

from __future__ import annotations

import typer

ltc_app = typer.Typer(
    help="Long-term care insurance (长期护理保险): assessments and care.",
    no_args_is_help=True,
)
