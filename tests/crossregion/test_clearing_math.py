"""Clearing arithmetic: golden nets by hand, and conservation for any set of settlements."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.crossregion.clearing import Flow, gross_by_pair, month_bounds, nets, positions
from yibao.errors import InputError

REGIONS = ["erenhot", "fuxin", "liaoyang", "qingdao", "tongliao"]

flows = st.lists(
    st.builds(
        Flow,
        insured=st.sampled_from(REGIONS),
        treating=st.sampled_from(REGIONS),
        medfee_fen=st.integers(0, 10**9),
        fund_fen=st.integers(0, 10**9),
    ),
    max_size=60,
)


def test_golden_three_regions():
    day = [
        Flow("tongliao", "qingdao", 500_000, 240_000),  # TL insured in QD: 2400.00
        Flow("tongliao", "qingdao", 300_000, 100_000),  # another 1000.00
        Flow("qingdao", "tongliao", 900_000, 500_000),  # QD insured in TL: 5000.00
        Flow("erenhot", "qingdao", 100_000, 70_000),  # EH insured in QD: 700.00
        Flow("qingdao", "qingdao", 100_000, 90_000),  # at home: not cleared
    ]
    gross = gross_by_pair(day)
    assert {p: g.gross_fen for p, g in gross.items()} == {
        ("tongliao", "qingdao"): 340_000,  # 2400 + 1000
        ("qingdao", "tongliao"): 500_000,
        ("erenhot", "qingdao"): 70_000,
    }
    assert gross[("tongliao", "qingdao")].visits == 2
    pair_nets = nets({p: g.gross_fen for p, g in gross.items()})
    # erenhot–qingdao: 700 − 0 = +700 (erenhot pays); qingdao–tongliao: 5000 − 3400 = +1600
    assert [(n.a, n.b, n.net_fen) for n in pair_nets] == [
        ("erenhot", "qingdao", 70_000),
        ("qingdao", "tongliao", 160_000),
    ]
    # erenhot −700; qingdao +700 − 1600 = −900; tongliao +1600
    assert positions(pair_nets) == {"erenhot": -70_000, "qingdao": -90_000, "tongliao": 160_000}


@given(flows)
def test_positions_sum_to_zero(some):
    gross = {p: g.gross_fen for p, g in gross_by_pair(some).items()}
    assert sum(positions(nets(gross)).values()) == 0


@given(flows)
def test_each_pair_net_is_gross_one_way_minus_the_other(some):
    gross = {p: g.gross_fen for p, g in gross_by_pair(some).items()}
    for n in nets(gross):
        assert n.a < n.b
        assert n.net_fen == gross.get((n.a, n.b), 0) - gross.get((n.b, n.a), 0)


@given(flows)
def test_gross_keeps_every_cross_region_fen_and_drops_the_rest(some):
    gross = gross_by_pair(some)
    crossing = [f for f in some if f.insured != f.treating]
    assert sum(g.gross_fen for g in gross.values()) == sum(f.fund_fen for f in crossing)
    assert sum(g.visits for g in gross.values()) == len(crossing)
    assert all(i != t for i, t in gross)


@given(flows)
def test_a_regions_position_is_what_it_is_owed_minus_what_it_owes(some):
    gross = {p: g.gross_fen for p, g in gross_by_pair(some).items()}
    for region, position in positions(nets(gross)).items():
        owed = sum(v for (_, t), v in gross.items() if t == region)
        owes = sum(v for (i, _), v in gross.items() if i == region)
        assert position == owed - owes


@pytest.mark.parametrize(
    ("month", "bounds"),
    [
        ("2023-03", (dt.date(2023, 3, 1), dt.date(2023, 3, 31))),
        ("2024-02", (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("2023-12", (dt.date(2023, 12, 1), dt.date(2023, 12, 31))),
    ],
)
def test_month_bounds(month, bounds):
    assert month_bounds(month) == bounds


@pytest.mark.parametrize("month", ["2023-13", "2023-3", "March", "", "2023-00"])
def test_bad_months_are_input_errors(month):
    with pytest.raises(InputError, match="month"):
        month_bounds(month)
