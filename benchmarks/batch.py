"""Benchmark of the columnar batch engine (`yibao batch`), `make bench`.

    .venv/bin/python benchmarks/batch.py [--lines 10_000_000] [--region erenhot] [--seed 7]
                                         [--engine-claims 50_000] [--city] [--workdir DIR]

All in one run on the same seeded data (`yibao synth`, one region and year):

(a) claims/s of the batch engine on N claim lines (`yibao.batch.run.run_batch`, the code path
    of `yibao batch`), and its ratio to the per-claim engine looping over the same claims —
    the per-claim engine is timed on a sample of the first persons (about `--engine-claims`
    claims) and its claims/s extrapolated;
(b) a peer baseline: one rule set — line buckets, then for general outpatient (Erenhot:
    med types 11/41) an annual deductible + ratio by level (+ retired points) + annual cap
    per person-year — written as one DuckDB SQL query with window functions (as many
    threads as polars has) and the same rule set as one polars lazy query: both read the same
    Parquet files inside the timing, compute the same integers and are checked equal (total
    paid, to the fen); the verdict "ours at least as fast" compares the median of three runs
    of each, run in turns (single runs here differ by as much as the two do). The full engine
    (every rule of the region, the result table written) is shown beside them for scale;
(c) peak memory of each stage (maxrss), and the CPU time of each (all threads): with other
    work on the machine wall times grow with the load, CPU times much less;
(d) with `--city`: a Tongliao-size city-year (2.4 million persons) end to end: synth + batch
    (+ simulate when `yibao.simulate` exists).

Each stage runs in its own subprocess so its peak memory and CPU time are its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_RATIO = 50.0
TARGET_RATE = 1_000_000
TARGET_RSS_MB = 2048
PEER_RUNS = 3  # runs of each peer-baseline query, in turns (the median counts)
CITY_PERSONS = 2_400_000
YEAR = 2023
CITY_REFORM = ROOT / "examples" / "reforms" / "tongliao_poor_plus5.yaml"


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:  # float-ok: time
    """CPU time of this process, every thread, user + system: on a loaded machine the wall
    time of a stage grows with the load, its CPU time much less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- stages (run in subprocesses)


def stage_synth(args: argparse.Namespace) -> dict:
    from yibao.synth import Generator, Options
    from yibao.synth.output import write

    persons = args.persons
    if persons is None:  # size the population from a pilot chunk to reach --lines
        pilot = Generator(Options(args.region, 1_000_000, YEAR, args.seed))
        _, lines = pilot.chunk(0, 5_000)
        persons = max(1, math.ceil(args.lines / (lines.height / 5_000)))
    began = time.perf_counter()
    summary = write(Generator(Options(args.region, persons, YEAR, args.seed)), args.data, "parquet")
    return {
        "seconds": time.perf_counter() - began,
        "persons": summary.persons,
        "claims": summary.claims,
        "lines": summary.lines,
        "maxrss_mb": maxrss_mb(),
    }


def stage_batch(args: argparse.Namespace) -> dict:
    from yibao.batch.run import run_batch

    began, cpu = time.perf_counter(), cpu_seconds()
    summary = run_batch(args.data, args.out, progress=None)
    return {
        "seconds": time.perf_counter() - began,  # reading, settling and writing
        "cpu_seconds": cpu_seconds() - cpu,
        "settle_seconds": summary.seconds,
        "claims": summary.claims,
        "persons": summary.persons,
        "partitions": summary.partitions,
        "fallback_claims": summary.fallback_claims,
        "maxrss_mb": maxrss_mb(),
    }


def stage_engine(args: argparse.Namespace) -> dict:
    """The per-claim engine over the claims of the first persons (about `--engine-claims`)."""
    import polars as pl

    from yibao.batch.settle import Settler
    from yibao.batch.tables import LINES_SCHEMA, PERSONS_SCHEMA, frames_to_claim_files
    from yibao.engine.settle import settle_history

    lines = pl.scan_parquet(args.data / "claim_lines.parquet").select(list(LINES_SCHEMA))
    per_person = lines.group_by("person_id").agg(pl.col("claim_id").n_unique().alias("n"))
    chosen = (
        per_person.sort("person_id")
        .filter(pl.col("n").cum_sum().shift(1, fill_value=0) < args.engine_claims)
        .select("person_id")
        .collect()
        .to_series()
    )
    mine = pl.col("person_id").is_in(chosen.implode())
    persons = pl.scan_parquet(args.data / "persons.parquet").filter(mine).collect()
    persons = persons.select(list(PERSONS_SCHEMA))
    lines = lines.filter(mine).collect()
    settler = Settler(persons["region"].unique().to_list())
    began = time.perf_counter()
    files = frames_to_claim_files(persons, lines)
    converted, cpu = time.perf_counter(), cpu_seconds()
    claims = 0
    for claim_file in files:
        region = claim_file.region
        settlements, _ = settle_history(
            claim_file, settler.policies[region], settler.catalogs[region]
        )
        claims += len(settlements)
    done = time.perf_counter()
    return {
        "seconds": done - converted,
        "cpu_seconds": cpu_seconds() - cpu,
        "convert_seconds": converted - began,
        "claims": claims,
        "persons": persons.height,
        "maxrss_mb": maxrss_mb(),
    }


def _rule_params(region: str) -> dict:
    """The general-outpatient rule of the region's first employee version, as integers."""
    from yibao.batch.exact import SCALE, scaled
    from yibao.batch.settle import Settler

    settler = Settler([region])
    policy = settler.policies[region]
    version = policy.versions[-1]
    scheme = version.schemes["employee"]
    benefit = next(b for b in scheme.pooling.benefits if b.id == "general_outpatient")
    ded = benefit.deductible.amount.by_level
    ratio = benefit.ratio.by_level.by_level
    cap = benefit.caps[0].by_employment
    retired = benefit.ratio.retired_points
    entries = settler.catalogues.entries.filter(version=policy.version_id(version)).select(
        "code", "c_category", "c_price_limit"
    )
    params = {
        "version": policy.version_id(version),
        "med_types": list(benefit.med_types),
        "ded": {int(k): _fen(v) for k, v in ded.items()},
        "ratio": {int(k): scaled(v) for k, v in ratio.items()},
        "retired_points": scaled(retired.value) if retired is not None else 0,
        "cap_in_service": _fen(cap.in_service),
        "cap_retired": _fen(cap.retired),
        "b_ratio": scaled(version.catalog.b_selfpay_ratio.value),
        "scale": SCALE,
    }
    return params | {"entries": entries}


def _fen(yuan: Decimal) -> int:
    return int(yuan * 100)


def stage_duckdb(args: argparse.Namespace) -> dict:
    import duckdb

    p = _rule_params(args.region)
    con = duckdb.connect()
    import polars as pl

    con.execute(f"SET threads = {pl.thread_pool_size()}")  # as many threads as polars uses
    entries = p.pop("entries").to_arrow()  # noqa: F841 — read by the query by name
    levels = ", ".join(f"({k}, {p['ded'][k]}, {p['ratio'][k]})" for k in sorted(p["ratio"]))
    meds = ", ".join(f"'{m}'" for m in p["med_types"])
    lines = (args.data / "claim_lines.parquet").as_posix()
    persons = (args.data / "persons.parquet").as_posix()
    scale = p["scale"]
    query = f"""
    WITH levels(level, ded, ratio) AS (VALUES {levels}),
    lines AS (
        SELECT l.person_id, l.claim_id, l.date, l.med_type, coalesce(l.hospital_level, 1) AS level,
               l.price_fen * l.quantity AS amount, l.price_fen AS price, l.quantity,
               coalesce(l.category, e.c_category, 'C') AS cls,
               coalesce(l.price_limit_fen, e.c_price_limit) AS lim
        FROM read_parquet('{lines}') l LEFT JOIN entries e ON e.code = l.code
        WHERE l.med_type IN ({meds})
    ),
    buckets AS (
        SELECT *, CASE WHEN cls = 'C' THEN 0 ELSE amount - over END AS base
        FROM (SELECT *, CASE WHEN lim IS NOT NULL AND price > lim
                             THEN least(amount, (price - lim) * quantity) ELSE 0 END AS over
              FROM lines)
    ),
    claims AS (
        SELECT person_id, claim_id, min(date) AS date, min(level) AS level,
               sum(base - CASE WHEN cls = 'B' THEN base * {p["b_ratio"]} // {scale} ELSE 0 END)
                   AS inscp
        FROM buckets GROUP BY person_id, claim_id
    ),
    ytd AS (
        SELECT c.*, lv.ded, lv.ratio + CASE WHEN p.employment = 'retired'
                                            THEN {p["retired_points"]} ELSE 0 END AS ratio,
               CASE WHEN p.employment = 'retired' THEN {p["cap_retired"]}
                    ELSE {p["cap_in_service"]} END AS cap,
               coalesce(sum(c.inscp) OVER w_before, 0) AS inscp_before
        FROM claims c JOIN read_parquet('{persons}') p USING (person_id)
                      JOIN levels lv USING (level)
        WINDOW w_before AS (PARTITION BY person_id, year(c.date) ORDER BY c.date, c.claim_id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ),
    wanted AS (
        SELECT *, (inscp - least(inscp, greatest(0, ded - inscp_before))) * ratio // {scale}
                  AS want
        FROM ytd
    )
    SELECT count(*) AS claims, sum(paid) AS paid FROM (
        SELECT least(cap, sum(want) OVER w) - least(cap, sum(want) OVER w + 0 - want) AS paid
        FROM wanted
        WINDOW w AS (PARTITION BY person_id, year(date) ORDER BY date, claim_id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    """
    began, cpu = time.perf_counter(), cpu_seconds()
    claims, paid = con.execute(query).fetchone()
    return {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": cpu_seconds() - cpu,
        "claims": claims,
        "paid": int(paid or 0),
        "maxrss_mb": maxrss_mb(),
    }


def stage_polars_rule(args: argparse.Namespace) -> dict:
    """The rule set of `stage_duckdb` as one polars lazy query (segmented cumulative sums)."""
    import polars as pl

    p = _rule_params(args.region)
    scale = p["scale"]
    levels = pl.LazyFrame(
        {
            "level": list(p["ratio"]),
            "ded": [p["ded"][k] for k in p["ratio"]],
            "base_ratio": list(p["ratio"].values()),
        },
        schema={"level": pl.Int32, "ded": pl.Int64, "base_ratio": pl.Int64},
    )
    began, cpu = time.perf_counter(), cpu_seconds()
    lines = (
        pl.scan_parquet(args.data / "claim_lines.parquet")
        .filter(pl.col("med_type").is_in(p["med_types"]))
        .join(p["entries"].lazy(), on="code", how="left")
    )
    amount = pl.col("price_fen") * pl.col("quantity")
    limit = pl.coalesce("price_limit_fen", "c_price_limit")
    over = (
        pl.when(limit.is_not_null() & (pl.col("price_fen") > limit))
        .then(pl.min_horizontal(amount, (pl.col("price_fen") - limit) * pl.col("quantity")))
        .otherwise(0)
    )
    cls = pl.coalesce("category", "c_category", pl.lit("C"))
    base = pl.when(cls == "C").then(0).otherwise(amount - over)
    inscp = base - pl.when(cls == "B").then(base * p["b_ratio"] // scale).otherwise(0)
    claims = lines.group_by("person_id", "claim_id").agg(
        pl.col("date").min(),
        pl.col("hospital_level").fill_null(1).min().cast(pl.Int32).alias("level"),
        inscp.sum().alias("inscp"),
    )
    persons = pl.scan_parquet(args.data / "persons.parquet").select("person_id", "employment")
    retired = pl.col("employment") == "retired"
    # sorted by person, date and claim, a person-year's claims are adjacent: each running total
    # is one cumulative sum less the total reached before the person-year's first claim
    year = pl.col("date").dt.year()
    start = (
        (pl.col("person_id") != pl.col("person_id").shift(1)) | (year != year.shift(1))
    ).fill_null(True)

    def running(column: str) -> pl.Expr:
        total = pl.col(column).cum_sum()
        return total - pl.when(start).then(total - pl.col(column)).forward_fill()

    frame = (
        claims.join(persons, on="person_id")
        .join(levels, on="level")
        .sort("person_id", "date", "claim_id")
        .with_columns(
            (pl.col("base_ratio") + pl.when(retired).then(p["retired_points"]).otherwise(0)).alias(
                "ratio"
            ),
            pl.when(retired).then(p["cap_retired"]).otherwise(p["cap_in_service"]).alias("cap"),
            (running("inscp") - pl.col("inscp")).alias("before"),
        )
        .with_columns(
            (
                (
                    pl.col("inscp")
                    - pl.min_horizontal("inscp", pl.max_horizontal(0, pl.col("ded") - "before"))
                )
                * pl.col("ratio")
                // scale
            ).alias("want")
        )
        .with_columns(running("want").alias("upto"))
        .select(
            (
                pl.min_horizontal("cap", "upto") - pl.min_horizontal("cap", pl.col("upto") - "want")
            ).alias("paid")
        )
        .select(pl.len().alias("claims"), pl.col("paid").sum())
        .collect()
    )
    return {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": cpu_seconds() - cpu,
        "claims": frame.item(0, "claims"),
        "paid": int(frame.item(0, "paid") or 0),
        "maxrss_mb": maxrss_mb(),
    }


def stage_simulate(args: argparse.Namespace) -> dict:
    """`yibao simulate tongliao --reform examples/reforms/tongliao_poor_plus5.yaml`: the
    population settled twice (baseline and reform) and every measure computed."""
    from yibao.simulate.assumptions import assumptions_for
    from yibao.simulate.run import simulate

    began = time.perf_counter()
    simulate(args.data, args.region, CITY_REFORM, assumptions_for(args.region))
    return {"seconds": time.perf_counter() - began, "maxrss_mb": maxrss_mb()}


STAGES = {
    "synth": stage_synth,
    "batch": stage_batch,
    "engine": stage_engine,
    "duckdb": stage_duckdb,
    "polars-rule": stage_polars_rule,
    "simulate": stage_simulate,
}


# ---------------------------------------------------------------- orchestration


def run_stage(name: str, **options) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--stage", name]
    for key, value in options.items():
        if value is not None:
            command += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"stage {name} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.stage:
        print(json.dumps(STAGES[args.stage](args)))
        return
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="yibao-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.city:
            city(work, args)
        else:
            bench(work, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def peer_runs(data: Path, region: str) -> tuple[dict, dict]:
    """The median run (by wall time) of the DuckDB query and of ours, run in turns: on a
    shared machine one run can be 10% off the next, as much as the two differ."""
    duck, rule = [], []
    for _ in range(PEER_RUNS):
        duck.append(run_stage("duckdb", data=data, region=region))
        rule.append(run_stage("polars-rule", data=data, region=region))
    return _median_run(duck), _median_run(rule)


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]


def bench(work: Path, args: argparse.Namespace) -> None:
    data, out = work / "data", work / "out.parquet"
    load_start = os.getloadavg()[0]
    print(f"synth: {args.region} {YEAR}, seed {args.seed}, ~{args.lines:,} claim lines ...")
    synth = run_stage("synth", region=args.region, lines=args.lines, seed=args.seed, data=data)
    print(
        f"  {synth['persons']:,} persons, {synth['claims']:,} claims, {synth['lines']:,} lines "
        f"in {synth['seconds']:.1f} s (peak {synth['maxrss_mb']:,.0f} MB)"
    )
    print("batch engine (run_batch, as `yibao batch`) ...")
    batch = run_stage("batch", data=data, out=out)
    print(f"per-claim engine on ~{args.engine_claims:,} claims ...")
    engine = run_stage("engine", data=data, engine_claims=args.engine_claims)
    print(f"peer baseline: DuckDB SQL and polars, one rule set, {PEER_RUNS} runs each ...")
    duck, rule = peer_runs(data, args.region)

    rate = batch["claims"] / batch["seconds"]
    engine_rate = engine["claims"] / engine["seconds"]
    ratio = rate / engine_rate
    # per CPU-second: what the code costs, whatever else the machine was doing meanwhile
    cpu_ratio = (batch["claims"] / batch["cpu_seconds"]) / (
        engine["claims"] / engine["cpu_seconds"]
    )
    rows = [
        ("claim lines", f"{synth['lines']:,}", ""),
        ("claims / persons", f"{batch['claims']:,} / {batch['persons']:,}", ""),
        (
            "batch engine, end to end (read+settle+write)",
            f"{batch['seconds']:.1f} s  {rate:,.0f} claims/s",
            f"≥ {TARGET_RATE:,} claims/s: {verdict(rate >= TARGET_RATE)}  "
            f"(CPU {batch['cpu_seconds']:.1f} s on {os.cpu_count()} cores)",
        ),
        (
            "  of which settling (run_batch summary)",
            f"{batch['settle_seconds']:.1f} s  {batch['claims'] / batch['settle_seconds']:,.0f}"
            f" claims/s",
            f"{batch['partitions']} partition(s), {batch['fallback_claims']:,} fallback claims",
        ),
        (
            f"per-claim engine, sample of {engine['claims']:,} claims",
            f"{engine['seconds']:.1f} s  {engine_rate:,.0f} claims/s",
            f"extrapolated: {batch['claims'] / engine_rate:,.0f} s for all claims "
            f"(+ {engine['convert_seconds']:.1f} s tables→claim files, not counted)",
        ),
        (
            "ratio batch / per-claim (wall)",
            f"{ratio:,.1f}×",
            f"≥ {TARGET_RATIO:.0f}×: {verdict(ratio >= TARGET_RATIO)}  "
            f"(per CPU-second: {cpu_ratio:,.1f}×)",
        ),
        (
            "one rule set (buckets + GO deductible/ratio/cap): DuckDB SQL, median",
            f"{duck['seconds']:.2f} s  {duck['claims']:,} claims",
            f"paid {duck['paid']:,} fen, CPU {duck['cpu_seconds']:.1f} s, "
            f"peak {duck['maxrss_mb']:,.0f} MB",
        ),
        (
            "the same rule set: polars lazy query (ours), median",
            f"{rule['seconds']:.2f} s  {rule['claims']:,} claims",
            f"paid {rule['paid']:,} fen ({'same' if rule['paid'] == duck['paid'] else 'DIFFERS'}),"
            f" CPU {rule['cpu_seconds']:.1f} s, peak {rule['maxrss_mb']:,.0f} MB",
        ),
        (
            "same rules, same input: ours vs DuckDB",
            f"{rule['seconds'] / duck['seconds']:.2f}× DuckDB's time",
            "ours at least as fast: " + verdict(rule["seconds"] <= duck["seconds"]),
        ),
        (
            "full engine (every rule + Parquet output) vs DuckDB rule set",
            f"{batch['seconds'] / duck['seconds']:.2f}× DuckDB's time",
            "(not like for like: every layer of the region, 28 output columns written)",
        ),
        (
            "peak memory, batch stage (maxrss)",
            f"{batch['maxrss_mb']:,.0f} MB",
            f"≤ {TARGET_RSS_MB:,} MB: {verdict(batch['maxrss_mb'] <= TARGET_RSS_MB)}",
        ),
        (
            "peak memory, synth / engine stages",
            f"{synth['maxrss_mb']:,.0f} / {engine['maxrss_mb']:,.0f} MB",
            "",
        ),
        (
            "load average (1 min) at start / end",
            f"{load_start:.1f} / {os.getloadavg()[0]:.1f}",
            "wall times are only comparable on a quiet machine (load below the cores)",
        ),
    ]
    table(rows)
    print(
        "city-year end to end (synth 2.4M persons + batch + simulate), takes long:\n"
        f"  {_here(sys.executable)} {_here(__file__)} --city"
    )


def city(work: Path, args: argparse.Namespace) -> None:
    data, out = work / "city", work / "city.parquet"
    size = args.city_persons
    print(f"city-year: tongliao {YEAR}, {size:,} persons, seed {args.seed} ...")
    load_start = os.getloadavg()[0]
    began = time.perf_counter()
    synth = run_stage("synth", region="tongliao", persons=size, seed=args.seed, data=data)
    batch = run_stage("batch", data=data, out=out)
    rows = [
        (
            "synth",
            f"{synth['seconds']:.1f} s",
            f"{synth['persons']:,} persons, {synth['claims']:,} claims, {synth['lines']:,} lines,"
            f" peak {synth['maxrss_mb']:,.0f} MB",
        ),
        (
            "batch",
            f"{batch['seconds']:.1f} s",
            f"{batch['claims'] / batch['seconds']:,.0f} claims/s, "
            f"CPU {batch['cpu_seconds']:.1f} s, peak {batch['maxrss_mb']:,.0f} MB",
        ),
    ]
    if importlib.util.find_spec("yibao.simulate") is not None:
        sim = run_stage("simulate", data=data, region="tongliao")
        rows.append(
            (
                "simulate (baseline + reform)",
                f"{sim['seconds']:.1f} s",
                f"reform {CITY_REFORM.name}, peak {sim['maxrss_mb']:,.0f} MB",
            )
        )
    else:
        rows.append(("simulate", "skipped", "yibao.simulate does not exist yet"))
    rows.append(("end to end (wall)", f"{time.perf_counter() - began:.1f} s", ""))
    rows.append(
        (
            "load average (1 min) at start / end",
            f"{load_start:.1f} / {os.getloadavg()[0]:.1f}",
            "wall times are only comparable on a quiet machine (load below the cores)",
        )
    )
    table(rows)


def _here(path: str) -> str:
    """`path` relative to the working directory when under it (`.venv/bin/python`)."""
    try:
        return str(Path(path).absolute().relative_to(Path.cwd()))
    except ValueError:
        return path


def table(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    value = max(len(r[1]) for r in rows)
    print()
    for name, number, note in rows:
        print(f"{name:<{width}}  {number:>{value}}  {note}")
    print()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--region", default="erenhot")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine-claims", type=int, default=50_000)
    parser.add_argument("--city", action="store_true", help="Tongliao-size city-year instead")
    parser.add_argument("--workdir", help="keep data here (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="do not delete the workdir")
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--persons", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--city-persons", type=int, default=CITY_PERSONS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
