"""`yibao synth`: a seeded synthetic population and its claims for a region and year, by chunks.

Each chunk of persons becomes two frames with exactly the `batch.tables` schemas. Every draw is
keyed by global person and claim indexes (`draws`), so the output for a seed is the same
whatever the chunk size; memory stays flat because nothing outlives its chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from yibao.batch.tables import CLAIM_FIELDS, LINES_SCHEMA, PERSONS_SCHEMA
from yibao.errors import InputError
from yibao.synth import claims as claim_mod
from yibao.synth import fraud
from yibao.synth.draws import Draws
from yibao.synth.lines import build_lines, catalog_frame, pool_table
from yibao.synth.plan import Plan, make_plan
from yibao.synth.population import person_id, persons_frame

DEFAULT_CHUNK = 100_000
REQUIRED_CODES = ("S001", "S002", "S003", "S004", "S011", "XN02BEA001", "M003")


@dataclass(frozen=True)
class Options:
    region: str
    persons: int
    year: int
    seed: int
    fraud_rate: float = 0.0
    chunk_size: int = DEFAULT_CHUNK


class Generator:
    """Validated options and everything shared by the chunks (plan, catalogue, item pools)."""

    def __init__(self, options: Options) -> None:
        if options.seed < 0 or options.seed >= 1 << 63:
            raise InputError(f"seed: must be between 0 and 2**63 - 1, got {options.seed}")
        if not 0.0 <= options.fraud_rate <= 1.0:
            raise InputError(f"fraud-rate: must be between 0 and 1, got {options.fraud_rate}")
        if options.chunk_size < 1:
            raise InputError(f"chunk-size: must be >= 1, got {options.chunk_size}")
        self.options = options
        self.plan: Plan = make_plan(options.region, options.year, options.persons)
        missing = [c for c in REQUIRED_CODES if c not in self.plan.catalog]
        if missing:
            raise InputError(f"region: its catalogue lacks items synth needs: {missing}")
        self.draws = Draws(options.seed, salt=f"{options.region}/{options.year}")
        self.catalog = catalog_frame(self.plan)
        self.pools = pool_table(self.plan)
        # planted fraudulent hospitals (institution-level fraud), only when planting fraud
        self.fraudulent: tuple[str, ...] = (
            fraud.fraudulent_institutions(self.plan, self.draws) if options.fraud_rate > 0 else ()
        )

    def chunks(self) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        """(persons, claim_lines) for each chunk of persons, in person order."""
        total, size = self.options.persons, self.options.chunk_size
        for first in range(0, total, size):
            yield self.chunk(first, min(size, total - first))

    def chunk(self, first: int, count: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        plan, draws, rate = self.plan, self.draws, self.options.fraud_rate
        persons = persons_frame(plan, draws, first, count)
        persons = claim_mod.counts(plan, draws, persons)
        visits = claim_mod.outpatient(plan, draws, persons, rate)
        visits = fraud.plant_two_places(plan, draws, visits, rate)
        stays = claim_mod.stays(plan, draws, persons, rate, self.fraudulent)
        stays = fraud.plant_overlapping_stays(plan, draws, stays, rate)
        visits = claim_mod.without_stay_days(visits, stays)
        visits = fraud.plant_over_frequency(plan, draws, persons, visits, stays, rate)
        parts = [frame for frame in (visits, stays) if frame.height]
        table = pl.DataFrame(schema=LINES_SCHEMA)
        if parts:
            claims = claim_mod.number_claims(pl.concat(parts, how="diagonal_relaxed"))
            claims = claims.with_row_index("c")
            lines = build_lines(plan, draws, claims, self.catalog, self.pools, self.fraudulent)
            heads = claims.select(*CLAIM_FIELDS, person_id=person_id(plan))
            # claims are in (person, claim id) order and lines in (claim, line_no) order
            # already; `c` is the claim's row, so its fields are gathered, not joined
            table = lines.hstack(heads[lines["c"]]).with_columns(
                selfpay_ratio=pl.lit(None, pl.String)
            )
            table = table.select([pl.col(n).cast(t) for n, t in LINES_SCHEMA.items()])
        persons, table = fraud.plant_identity(draws, persons, table, rate)
        public_persons = persons.select(
            [pl.col(name).cast(dtype) for name, dtype in PERSONS_SCHEMA.items()]
        )
        return public_persons, table


def generate(options: Options) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The whole population in memory (tests and small runs)."""
    generator = Generator(options)
    persons, lines = [], []
    for p, ln in generator.chunks():
        persons.append(p)
        lines.append(ln)
    return pl.concat(persons), pl.concat(lines)
