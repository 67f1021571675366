"""Person part: personal account (个人账户), then cash — twin of `engine/account.py`.

The balance does not reset with the year, so it runs over the person's whole history:
each eligible claim draws min(due, balance), hence balance after = max(0, opening − Σ due).
The tables carry no relatives' accounts, so family mutual aid (共济) never pays here. Lines
of a kind the account may not pay for (`acct_excl`, summed by `buckets.line_buckets`) are
left to cash, as `engine/account.py` leaves them.
"""

from __future__ import annotations

import polars as pl

from yibao.batch.running import before, cumulative, window_start

PERSON = ["pid"]  # contiguous: the frame is sorted by person


def pay_from_accounts(frame: pl.LazyFrame) -> pl.LazyFrame:
    """(acct_pay, acct_mulaid_pay, balc): own account first; `acct_ok` says the version's
    account pays this claim's med_type."""
    due = pl.col("medfee") - pl.col("fund_total") - pl.col("acct_excl")
    # the own account is an employee's (`engine/account.py`); relatives' are not in the tables
    own_account = pl.col("acct_ok") & (pl.col("scheme") == "employee")
    spend = pl.when(own_account & (due > 0)).then(due).otherwise(0)
    frame = frame.with_columns(spend.alias("acct_spend"), window_start("pid"))
    spent = pl.col("acct_spend")
    opening = pl.max_horizontal(0, pl.col("balance") - before(spent, PERSON))
    closing = pl.max_horizontal(0, pl.col("balance") - cumulative(spent, PERSON))
    return frame.with_columns(
        (opening - closing).alias("acct_pay"),
        pl.lit(0, dtype=pl.Int64).alias("acct_mulaid_pay"),
        closing.alias("balc"),
    ).drop("acct_spend", "pid_start")
