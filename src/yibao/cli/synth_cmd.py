"""`yibao synth REGION --persons N --year Y --seed S --out DIR [--format parquet|jsonl]`.

Register with `app.command("synth")(synth_command)`: the signature carries the typer options.
Generation is imported lazily, so registering the command costs nothing at start-up.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from yibao.cli.common import ProgressOption


class SynthFormat(StrEnum):
    parquet = "parquet"
    jsonl = "jsonl"


def synth_command(
    region: Annotated[str, typer.Argument(help="Region id (yibao policy list).")],
    persons: Annotated[int, typer.Option("--persons", help="Number of insured persons.")],
    year: Annotated[int, typer.Option("--year", help="Calendar year of the claims.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed, the same data.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")],
    format: Annotated[
        SynthFormat,
        typer.Option(
            "--format",
            help="parquet: DIR/persons.parquet + DIR/claim_lines.parquet; "
            "jsonl: DIR/claims.jsonl, one claim file per person with claims "
            "(+ DIR/fraud_labels.csv when fraud is planted).",
        ),
    ] = SynthFormat.parquet,
    fraud_rate: Annotated[
        float,
        typer.Option(
            "--fraud-rate",
            help=(
                "Rate at which each fraud pattern is drawn, per pattern (default 0: none); "
                "the patterns are drawn apart and add companion claims, so more claims than "
                "this share carry a label (about 11% at 0.05)."
            ),
        ),
    ] = 0.0,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="Persons generated and written at a time.")
    ] = 100_000,
    progress: ProgressOption = None,
) -> None:
    """Seeded synthetic persons and claims for REGION and YEAR (columns: docs/tables.md)."""
    from yibao.cli.common import fail, sigterm_stops
    from yibao.errors import InputError
    from yibao.synth.generate import Generator, Options
    from yibao.synth.output import write

    show = sys.stderr.isatty() if progress is None else progress
    try:
        options = Options(region, persons, year, seed, fraud_rate, chunk_size)
        with sigterm_stops():
            summary = write(Generator(options), out, SynthFormat(format).value, progress=show)
    except InputError as exc:
        fail(str(exc))
        return
    rate = summary.persons / summary.seconds if summary.seconds else 0.0
    typer.echo(
        f"wrote {summary.persons:,} persons, {summary.claims:,} claims, {summary.lines:,} lines"
        f" ({summary.labelled_lines:,} labelled) to {out} in {summary.seconds:.1f} s"
        f" ({rate:,.0f} persons/s)",
        err=True,
    )
