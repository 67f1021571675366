"""Benchmark of the supervision rules (`yibao supervise`) on seeded synthetic data with
planted fraud: throughput, peak memory and planted-fraud precision / recall in one run.

    .venv/bin/python benchmarks/supervision.py [--lines 10_000_000] [--region qingdao]
                                               [--year 2023] [--seed 7] [--rate 0.02]
                                               [--partition-lines 500_000] [--workdir DIR]

1. `yibao synth` writes about `--lines` claim lines (persons = lines / 14.5, Qingdao's lines
   per person) with fraud planted at `--rate` as Parquet (`persons.parquet`,
   `claim_lines.parquet`), chunk by chunk, in a subprocess (timed apart; its peak memory is
   its own);
2. `supervise_parquet_files` runs every rule over them one person partition of about
   `--partition-lines` lines at a time (0: all at once, the in-memory way), the lines of a
   partition read from the Parquet file by a pushed-down `person_id` filter: wall time,
   lines/s and the peak memory of this process (maxrss), the figures asked for;
3. the flags are compared with the planted labels (only the labelled lines are read): per-rule
   precision and recall and the amount at risk found vs planted (`yibao.supervision.evaluate`),
   and the institution outlier score's ranking of the planted fraudulent hospitals (from the
   same pass's indicators).

Memory is bounded by a partition, not by the input (docs/supervision.md has the numbers).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

LINES_PER_PERSON = 14.5  # Qingdao 2023 (docs/tables.md); other regions are close


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # float-ok: megabytes


def whole(text: str) -> int:
    return int(text.replace("_", ""))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=whole, default=10_000_000)
    parser.add_argument("--region", default="qingdao")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=0.02)
    parser.add_argument("--partition-lines", type=whole, default=None)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data here")
    parser.add_argument("--synth-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def persons_for(args: argparse.Namespace) -> int:
    return max(1, round(args.lines / LINES_PER_PERSON))


def stage_synth(args: argparse.Namespace) -> None:
    """Subprocess: synth → Parquet in `args.workdir`; prints its summary as JSON."""
    from yibao.synth import Generator, Options
    from yibao.synth.output import write

    options = Options(args.region, persons_for(args), args.year, args.seed, args.rate)
    summary = write(Generator(options), args.workdir, "parquet")
    out = {"persons": summary.persons, "lines": summary.lines, "seconds": summary.seconds}
    print(json.dumps(out | {"maxrss_mb": maxrss_mb()}))


def synth(args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--synth-only", "--workdir", str(args.workdir)]
    command += ["--lines", str(args.lines), "--region", args.region, "--year", str(args.year)]
    command += ["--seed", str(args.seed), "--rate", str(args.rate)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.synth_only:
        stage_synth(args)
        return 0
    keep = args.workdir is not None
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="yibao-supervision-"))
    try:
        return run(args)
    finally:
        if not keep:
            shutil.rmtree(args.workdir, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    import polars as pl

    from yibao.supervision.engine import PARTITION_LINES, supervise_parquet_files
    from yibao.supervision.evaluate import PLANTED_RULES, evaluate, ranking, render, render_ranking
    from yibao.synth import Generator, Options

    made = synth(args)
    print(
        f"synth: {args.region} {args.year}, {made['persons']:,} persons, {made['lines']:,} lines, "
        f"fraud rate {args.rate}, seed {args.seed}: {made['seconds']:.1f} s, "
        f"peak {made['maxrss_mb']:,.0f} MB (its own process)"
    )
    persons_path = args.workdir / "persons.parquet"
    lines_path = args.workdir / "claim_lines.parquet"
    partition = PARTITION_LINES if args.partition_lines is None else args.partition_lines

    started = time.perf_counter()
    found = supervise_parquet_files(str(persons_path), str(lines_path), partition)
    found.flags.write_parquet(args.workdir / "flags.parquet")
    wall = time.perf_counter() - started  # float-ok: seconds
    peak = maxrss_mb()
    lines = made["lines"]
    parts = f"partitions of {partition:,} lines" if partition else "one partition"
    print(
        f"supervise: {lines:,} lines in {wall:.1f} s = {lines / wall:,.0f} lines/s, "
        f"{found.flags.height:,} flags, {parts}, "
        f"peak memory (maxrss) {peak:,.0f} MB"
    )

    labelled = pl.scan_parquet(lines_path).filter(pl.col("fraud_label").is_not_null()).collect()
    table = evaluate(pl.DataFrame(), labelled, found.flags)
    print()
    print(render(table))
    options = Options(args.region, persons_for(args), args.year, args.seed, args.rate)
    fraudulent = Generator(options).fraudulent
    ranked = ranking(found.indicators, fraudulent)
    print()
    print(render_ranking(ranked, fraudulent))
    print(f"\npeak memory (maxrss) with the evaluation: {maxrss_mb():,.0f} MB")

    rows = {r["rule"]: r for r in table.iter_rows(named=True)}
    weak = [
        rule
        for rule in PLANTED_RULES
        if rule in rows
        and rows[rule]["planted"]
        and (rows[rule]["precision"] < 0.9 or rows[rule]["recall"] < 0.9)
    ]
    top = ranked.filter("planted", "top_decile") if ranked.height else ranked
    missed = sorted(set(fraudulent) - set(top["institution"] if top.height else []))
    print(
        "targets (precision and recall >= 0.9 per planted rule; planted institutions in the top "
        f"decile): {'met' if not weak and not missed else f'NOT met: {weak} {missed}'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
