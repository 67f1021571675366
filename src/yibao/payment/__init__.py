"""Institution payment: agreements, deposits, budgets, DRG, capitation."""
