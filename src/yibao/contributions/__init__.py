"""Contributions (缴费) and personal-account crediting: rates and subsidies as cited data, bills per unit and person."""
