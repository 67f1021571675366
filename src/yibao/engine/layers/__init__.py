"""Supplementary layers after basic pooling, each one small function with one signature.

`LAYERS` maps the names a policy's `layer_order` uses to the functions; adding a layer is
adding one function here and one schema block — not editing the others. `settle.py` runs them
only on a claim a basic benefit settled, so a layer need not check that itself.
"""

from __future__ import annotations

from collections.abc import Callable

from yibao.engine.context import ClaimContext
from yibao.engine.layers.assistance import medical_assistance
from yibao.engine.layers.civil_servant import civil_servant_subsidy
from yibao.engine.layers.commercial import commercial_supplement
from yibao.engine.layers.critical_illness import critical_illness
from yibao.engine.layers.large_expense import large_expense
from yibao.engine.layers.top_up import poverty_top_up

Layer = Callable[[ClaimContext, object], None]

LAYERS: dict[str, Layer] = {
    "large_expense": large_expense,
    "civil_servant": civil_servant_subsidy,
    "critical_illness": critical_illness,
    "medical_assistance": medical_assistance,
    "poverty_top_up": poverty_top_up,
    "commercial": commercial_supplement,
}

TITLES = {
    "large_expense": "大额医疗费用补助",
    "civil_servant": "公务员医疗补助",
    "critical_illness": "大病保险",
    "medical_assistance": "医疗救助",
    "poverty_top_up": "兜底保障",
    "commercial": "商业补充保险",
}
