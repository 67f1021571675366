"""Small generated populations shared by the synth tests (generated once per session)."""

from __future__ import annotations

from functools import cache

import polars as pl
import pytest

from yibao.synth import Options, generate

# every packaged region, in a year its policy covers (Erenhot's first version is one quarter)
REGION_YEARS = [
    ("tongliao", 2023),
    ("qingdao", 2023),
    ("fuxin", 2019),
    ("fuxin", 2020),
    ("erenhot", 2022),
    ("erenhot", 2023),
    ("liaoyang", 2010),
]


@cache
def population(
    region: str, year: int, persons: int, seed: int, fraud: float = 0.0, chunk: int = 100_000
) -> tuple[pl.DataFrame, pl.DataFrame]:
    return generate(Options(region, persons, year, seed, fraud_rate=fraud, chunk_size=chunk))


@pytest.fixture(scope="session")
def qingdao_fraud() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Qingdao (both schemes, 琴岛e保, community pilot) with 3% planted fraud."""
    return population("qingdao", 2023, 6000, 17, fraud=0.03)


@pytest.fixture(scope="session")
def qingdao_large() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Enough Qingdao persons to check rates."""
    return population("qingdao", 2023, 30_000, 5)
