"""Designated-institution payment: agreements, deposits, assessments, global budgets, DRG, single-disease and capitation."""
