"""`yibao batch DIR --out FILE.parquet [--verify N] [--engine polars] [--policy OVERLAY.yaml]`.

Register with `app.command("batch", cls=OneLineErrors)(batch_command)`: the signature carries
the typer options; the engine is imported lazily. Writes one row per claim: `person_id`,
`claim_id`, `date` (the claim's date), `setl_date`, `region`, `policy_version`, `med_type`,
`insutype`, every `setlinfo` amount as integer fen in a column suffixed `_fen`, and
`pool_prop_selfpay` as decimal text with four places. The summary (what ran columnar, what
fell back to the per-claim engine and why, claims/s) goes to stderr. Exit 0: every claim
settled; 1: a person or claim not settled (the output holds every settled claim, the summary
names the rest) or a `--verify` difference; 2: bad input (or a failed Spark run, one line);
130: interrupted (Ctrl-C), nothing written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from yibao.cli.common import ProgressOption, fail, sigterm_stops
from yibao.errors import InputError
from yibao.policy.loader import PolicyError

if TYPE_CHECKING:
    from yibao.batch.run import RunSummary

ENGINES = ("polars", "spark")
SHOWN_DIFFERENCES = 20


def batch_command(
    directory: Annotated[
        str,
        typer.Argument(
            help="Folder with persons.parquet + claim_lines.parquet, or with claims.jsonl."
        ),
    ],
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="Output Parquet: one row per claim, amounts as integer fen in *_fen columns. "
            "Written under a temporary name beside it and moved into place when the run "
            "completes; never one of the input tables.",
        ),
    ],
    verify: Annotated[
        int,
        typer.Option(
            help="Also settle N random persons through the "
            "per-claim engine; exit 1 on any difference."
        ),
    ] = 0,
    engine: Annotated[str, typer.Option(help="polars (one machine) or spark.")] = "polars",
    policy: Annotated[
        list[Path] | None,
        typer.Option(
            "--policy",
            help="Reform overlay YAML; may be repeated. An overlay naming a region must "
            "find persons of that region in the data.",
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            help="Person partitions (memory bound); at most one per person with claim lines."
        ),
    ] = None,
    explain_plan: Annotated[
        bool, typer.Option("--explain-plan", help="Say what ran columnar.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the --verify sample.")] = 0,
    progress: ProgressOption = None,
) -> None:
    """Settle a whole population's tables with the columnar engine (equal to settle, to the fen).

    Exit 0: every claim settled.
    Exit 1: a person or claim not settled (the output still holds every claim that was;
    the summary on stderr names what was not, and why), or --verify found a difference.
    Exit 2: bad input, or a failed Spark run (one line).
    Exit 130: interrupted (Ctrl-C); nothing written."""
    run_batch_cmd(
        directory,
        out,
        verify,
        engine,
        tuple(policy or ()),
        partitions,
        explain_plan,
        seed,
        progress,
    )


def run_batch_cmd(
    directory: str,
    out: str,
    verify: int = 0,
    engine: str = "polars",
    overlays: tuple[Path, ...] = (),
    partitions: int | None = None,
    explain_plan: bool = False,
    seed: int = 0,
    progress: bool | None = None,
) -> None:
    """Settle the tables in DIRECTORY into OUT; exit 1 if a person or claim was not settled
    or `--verify` finds any difference."""
    import polars as pl

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
    stream = sys.stderr if (sys.stderr.isatty() if progress is None else progress) else None
    try:
        with sigterm_stops():
            if engine == "spark":
                summary = _run_spark(
                    directory, out, overlays, verify, partitions, seed, stream, remote
                )
            else:
                summary = run_batch(folder, Path(out), overlays, verify, partitions, seed, stream)
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
        else:
            unsettled = summary.verified_unsettled
            typer.echo(
                f"verify: {summary.verified} persons settled again by the per-claim engine — "
                "equal to the fen"
                + (f"; {unsettled} of them settled by neither (named above)" if unsettled else ""),
                err=True,
            )
    if summary.differences or not summary.all_settled:
        raise typer.Exit(1)


def _run_spark(
    directory: str,
    out: str,
    overlays: tuple[Path, ...],
    verify: int,
    partitions: int | None,
    seed: int,
    stream: TextIO | None,
    remote: bool,
) -> RunSummary:
    """`run_spark_batch`; a failed Spark run is one line (exit 2), Ctrl-C one line and exit
    130 (as the polars engine's), the staging directory removed either way."""
    from yibao.batch.run import check_out
    from yibao.batch.spark import INTERRUPTED, SparkRunFailed, is_uri, run_spark_batch

    if not (remote or is_uri(out)):
        check_out(Path(directory), Path(out))
    try:
        return run_spark_batch(directory, out, overlays, verify, partitions, seed, stream)
    except SparkRunFailed as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail(INTERRUPTED, 130)
