"""Use cases over the store: enroll, credit accounts, pre-settle, settle, reverse, reconcile.

Each public function is one use case and one transaction; API and CLI only call these.
"""
