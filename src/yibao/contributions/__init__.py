"""Contributions (缴费) and personal-account crediting, from cited rates."""
