"""Supplementary layers after basic pooling, vectorized — one module per layer of
`engine/layers/`, each one function with one signature:
`layer(frame, rule, scheme, fallbacks) -> frame`, paying into its `setlinfo` field.

`settle.py` shows them only the claims a basic benefit settled (others have no `med_code`),
so a layer's eligibility must open with its med types, as the engine's layers' do.

`check(rule)` raises (`NotScalable`, `ValueError`) when a rule holds a value this module
cannot settle exactly; its scheme then runs through the per-claim engine.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from yibao.batch.context import Fallbacks
from yibao.batch.layers import (
    assistance,
    civil_servant,
    commercial,
    critical_illness,
    large_expense,
    top_up,
)
from yibao.policy.schema import SchemePolicy

Layer = Callable[[pl.LazyFrame, object, SchemePolicy, Fallbacks], pl.LazyFrame]

LAYERS: dict[str, Layer] = {
    "large_expense": large_expense.large_expense,
    "civil_servant": civil_servant.civil_servant_subsidy,
    "critical_illness": critical_illness.critical_illness,
    "medical_assistance": assistance.medical_assistance,
    "poverty_top_up": top_up.poverty_top_up,
    "commercial": commercial.commercial_supplement,
}

CHECKS: dict[str, Callable[[object], None]] = {
    "large_expense": large_expense.check,
    "civil_servant": civil_servant.check,
    "critical_illness": critical_illness.check,
    "medical_assistance": assistance.check,
    "poverty_top_up": top_up.check,
    "commercial": commercial.check,
}
