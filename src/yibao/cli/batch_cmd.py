"""`yibao batch DIR --out FILE.parquet [--verify N] [--engine polars] [--policy OVERLAY.yaml]`.

Writes one row per claim: `person_id`, `claim_id`, `date` (the claim's date), `setl_date`,
`region`, `policy_version`, `med_type`, `insutype`, every `setlinfo` amount as integer fen
in a column suffixed `_fen`, and `pool_prop_selfpay` as decimal text with four places.
The summary (what ran columnar, what fell back to the per-claim engine and why, claims/s)
goes to stderr.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer

from yibao.cli.common import fail
from yibao.errors import InputError
from yibao.policy.loader import PolicyError

ENGINES = ("polars", "spark")
SHOWN_DIFFERENCES = 20


def run_batch_cmd(
    directory: str,
    out: str,
    verify: int = 0,
    engine: str = "polars",
    overlays: tuple[Path, ...] = (),
    partitions: int | None = None,
    explain_plan: bool = False,
    seed: int = 0,
) -> None:
    """Settle the tables in DIRECTORY into OUT; exit 1 if `--verify` finds any difference."""
    from yibao.batch.run import run_batch

    if engine not in ENGINES:
        fail(f"--engine: must be one of {', '.join(ENGINES)}, got {engine!r}")
    if verify < 0:
        fail("--verify: must be >= 0")
    if partitions is not None and partitions < 1:
        fail("--partitions: must be >= 1")
    folder = Path(directory)
    remote = engine == "spark" and "://" in directory  # hdfs://, s3a://: Spark reads them
    if not remote and not folder.is_dir():
        fail(f"{directory}: not a directory")
    try:
        if engine == "spark":
            from yibao.batch.spark import run_spark_batch

            summary = run_spark_batch(directory, out, overlays, verify, partitions, seed)
        else:
            summary = run_batch(folder, Path(out), overlays, verify, partitions, seed)
    except (InputError, PolicyError) as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"{exc.filename or out}: {exc.strerror or exc}")
        return
    except pl.exceptions.PolarsError as exc:
        fail(f"{directory}: cannot read the tables ({str(exc).splitlines()[0]})")
        return
    for line in summary.report():
        typer.echo(line, err=True)
    if explain_plan:
        typer.echo("plan:", err=True)
        for note in summary.notes:
            typer.echo(f"  {note}", err=True)
    if verify:
        if summary.differences:
            typer.echo(
                f"verify: {len(summary.differences)} difference(s) in {summary.verified} "
                "persons settled again by the per-claim engine; first:",
                err=True,
            )
            for diff in summary.differences[:SHOWN_DIFFERENCES]:
                typer.echo(f"  {diff}", err=True)
            raise typer.Exit(1)
        typer.echo(
            f"verify: {summary.verified} persons settled again by the per-claim engine — "
            "equal to the fen",
            err=True,
        )
