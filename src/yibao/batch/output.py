"""The result table of `yibao batch`: one row per claim, every `setlinfo` amount in fen.

Money columns are integer fen, suffixed `_fen`; `pool_prop_selfpay` is the pooling ratio as
decimal text with four places ("0.7000"), exactly as `yibao settle` prints it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields

import polars as pl

from yibao.engine.result import SetlInfo, Settlement

RATIO_FIELD = "pool_prop_selfpay"
SETLINFO_FIELDS = [f.name for f in fields(SetlInfo)]

RESULT_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "claim_id": pl.String(),
    "date": pl.Date(),
    "setl_date": pl.Date(),
    "region": pl.String(),
    "policy_version": pl.String(),
    "med_type": pl.String(),
    "insutype": pl.String(),
    **{
        (RATIO_FIELD if name == RATIO_FIELD else f"{name}_fen"): (
            pl.String() if name == RATIO_FIELD else pl.Int64()
        )
        for name in SETLINFO_FIELDS
    },
}
COMPARED = [c for c in RESULT_SCHEMA if c not in ("person_id", "claim_id")]


def settlement_row(region: str, person_id: str, claim_date: dt.date, s: Settlement) -> dict:
    """One result row from a per-claim engine settlement."""
    row = {
        "person_id": person_id,
        "claim_id": s.claim_id,
        "date": claim_date,
        "setl_date": dt.date.fromisoformat(s.setl_date),
        "region": region,
        "policy_version": s.policy_version,
        "med_type": s.med_type,
        "insutype": s.insutype,
    }
    for name in SETLINFO_FIELDS:
        value = getattr(s.setlinfo, name)
        if name == RATIO_FIELD:
            row[RATIO_FIELD] = str(value)
        else:
            row[f"{name}_fen"] = value
    return row
