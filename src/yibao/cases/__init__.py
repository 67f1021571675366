"""Supervision cases: flags become cases, reviewed, appealed, decided and recovered."""
