"""Quick measurement (not a test): claims/s of the columnar engine vs the per-claim engine.

    .venv/bin/python -m tests.batch.throughput [persons per region] [seed]

Generates a seeded population in every region (~7.5 claims per person), settles it with
`Settler.settle` (best of three) and with the per-claim engine (claim files from the same
tables, then `settle_history`), checks both are equal, and prints the rates.
"""

from __future__ import annotations

import sys
import time

from tests.batch.equality import REGIONS
from tests.batch.population import population
from yibao.batch.fallback import settle_through_engine
from yibao.batch.run import compare
from yibao.batch.settle import Settler
from yibao.batch.tables import frames_to_claim_files
from yibao.engine.settle import settle_history


def main(per_region: int = 5600, seed: int = 11) -> None:
    persons, lines = population(REGIONS, per_region, seed)
    settler = Settler(REGIONS)
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        result = settler.settle(persons, lines)
        best = min(best, time.perf_counter() - began)
    claims = result.rows.height
    began = time.perf_counter()
    files = frames_to_claim_files(persons, lines)
    converted = time.perf_counter()
    count = 0
    for claim_file in files:
        region = claim_file.region
        settlements, _ = settle_history(
            claim_file, settler.policies[region], settler.catalogs[region]
        )
        count += len(settlements)
    done = time.perf_counter()
    engine, _ = settle_through_engine(persons, lines, settler.policies, settler.catalogs)
    assert not compare(result.rows, engine), "batch and engine differ"
    print(f"{claims:,} claims, {persons.height:,} persons, {lines.height:,} lines")
    print(f"columnar engine:  {best:6.2f} s  {claims / best:10,.0f} claims/s")
    print(
        f"per-claim engine: {done - converted:6.2f} s  {count / (done - converted):10,.0f} claims/s"
        f"  (+ {converted - began:.2f} s tables → claim files: "
        f"{count / (done - began):,.0f} claims/s from the tables)"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
