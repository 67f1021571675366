"""Statistics buckets seen from one region: direction, scheme, month (pure)."""

from __future__ import annotations

import datetime as dt

from yibao.crossregion.stats import bucket, render

ROWS = [
    # insured, treating, scheme, day, visits, medfee fen, fund fen
    ("tongliao", "qingdao", "resident", dt.date(2023, 3, 5), 2, 1_000_000, 540_000),
    ("tongliao", "erenhot", "resident", dt.date(2023, 3, 20), 1, 200_000, 100_000),
    ("qingdao", "tongliao", "employee", dt.date(2023, 3, 9), 1, 300_000, 200_000),
    ("qingdao", "tongliao", "employee", dt.date(2023, 4, 1), 1, 100_000, 50_000),
    ("tongliao", "tongliao", "resident", dt.date(2023, 3, 1), 9, 900_000, 900_000),  # at home
    ("qingdao", "erenhot", "employee", dt.date(2023, 3, 1), 4, 400_000, 400_000),  # not ours
]


def test_buckets_by_month_direction_and_scheme():
    assert bucket("tongliao", ROWS) == {
        ("2023-03", "inbound", "employee"): [1, 300_000, 200_000],
        ("2023-03", "outbound", "resident"): [3, 1_200_000, 640_000],  # 2 + 1 visits
        ("2023-04", "inbound", "employee"): [1, 100_000, 50_000],
    }


def test_totals_per_direction():
    out = render("tongliao", "2023-01", "2023-12", bucket("tongliao", ROWS))
    assert out["totals"]["inbound"]["visits"] == 2
    assert str(out["totals"]["inbound"]["fund_pay_sumamt"]) == "2500.00"
    assert str(out["totals"]["outbound"]["medfee_sumamt"]) == "12000.00"
