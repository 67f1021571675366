"""Fund supervision (基金监管): fraud and misuse rules over claims, each flag with its evidence.

`rules.yaml` holds the rules as cited data (`params`), `engine.supervise_tables` runs them over
the population tables (polars), `supervise_claim_files` over claim files; both give the same flags.
Institution-level flags (peer outliers) are a second table: `supervise_institutions`.
"""

from yibao.supervision.engine import (
    FLAG_SCHEMA,
    supervise_all,
    supervise_claim_files,
    supervise_institutions,
    supervise_tables,
)

__all__ = [
    "FLAG_SCHEMA",
    "supervise_all",
    "supervise_claim_files",
    "supervise_institutions",
    "supervise_tables",
]
