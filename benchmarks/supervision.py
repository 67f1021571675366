"""Benchmark of the supervision rules (`yibao supervise`) on seeded synthetic data with
planted fraud: throughput and planted-fraud precision / recall in one run.

    .venv/bin/python benchmarks/supervision.py [--lines 10_000_000] [--region qingdao]
                                               [--year 2023] [--seed 7] [--rate 0.02]

1. `yibao synth` generates about `--lines` claim lines (persons = lines / 14.5, Qingdao's
   lines per person) with fraud planted at `--rate`, in memory (timed apart);
2. `supervise_tables` runs every rule over them: wall time and lines/s (the figure asked for);
3. the flags are compared with the planted labels: per-rule precision and recall and the
   amount at risk found vs planted (`yibao.supervision.evaluate`), and the institution
   outlier score's ranking of the planted fraudulent hospitals (top decile or not).

Everything stays in memory: 10 million lines need about 10 GB at the peak (printed).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

LINES_PER_PERSON = 14.5  # Qingdao 2023 (docs/tables.md); other regions are close


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # float-ok: megabytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--region", default="qingdao")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=0.02)
    args = parser.parse_args(argv)

    import polars as pl

    from yibao.supervision.engine import supervise_all
    from yibao.supervision.evaluate import (
        PLANTED_RULES,
        evaluate,
        institution_ranking,
        render,
        render_ranking,
    )
    from yibao.synth import Generator, Options

    persons_n = max(1, round(args.lines / LINES_PER_PERSON))
    started = time.perf_counter()
    generator = Generator(Options(args.region, persons_n, args.year, args.seed, args.rate))
    chunks = list(generator.chunks())
    persons = pl.concat([p for p, _ in chunks])
    lines = pl.concat([ln for _, ln in chunks])
    del chunks
    synth_s = time.perf_counter() - started
    print(
        f"synth: {args.region} {args.year}, {persons.height:,} persons, {lines.height:,} lines, "
        f"fraud rate {args.rate}, seed {args.seed}: {synth_s:.1f} s"
    )

    started = time.perf_counter()
    flags, _ = supervise_all(persons, lines)
    wall = time.perf_counter() - started  # float-ok: seconds
    print(
        f"supervise: {lines.height:,} lines in {wall:.1f} s = {lines.height / wall:,.0f} lines/s, "
        f"{flags.height:,} flags"
    )

    table = evaluate(persons, lines, flags)
    print()
    print(render(table))
    ranking = institution_ranking(persons, lines, generator.fraudulent)
    print()
    print(render_ranking(ranking, generator.fraudulent))
    print(f"\npeak memory (maxrss): {maxrss_mb():,.0f} MB")

    rows = {r["rule"]: r for r in table.iter_rows(named=True)}
    weak = [
        rule
        for rule in PLANTED_RULES
        if rule in rows
        and rows[rule]["planted"]
        and (rows[rule]["precision"] < 0.9 or rows[rule]["recall"] < 0.9)
    ]
    top = ranking.filter("planted", "top_decile") if ranking.height else ranking
    missed = sorted(set(generator.fraudulent) - set(top["institution"] if top.height else []))
    print(
        "targets (precision and recall >= 0.9 per planted rule; planted institutions in the top "
        f"decile): {'met' if not weak and not missed else f'NOT met: {weak} {missed}'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
