"""Use cases over the database: issuing bills, the monthly crediting job, account payments.

Each takes a `Database` and the calling `Principal`, writes in one transaction per use case
(per batch for the job) and records an audit entry in the same transaction.
"""
