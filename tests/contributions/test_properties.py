"""Identities every bill keeps, for any members, bases, categories and months."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.contributions.bill import BillLine
from yibao.contributions.compute import compute_person_bill, compute_unit_bill
from yibao.money import round_half_up

EMPLOYEE_MONTHS = {
    "qingdao": [f"{y}-{m:02d}" for y in (2020, 2021, 2022, 2023) for m in range(1, 13)],
    "liaoyang": [f"{y}-{m:02d}" for y in (2005, 2010) for m in range(1, 13)],
    "erenhot": ["2022-10", "2022-11", "2022-12", "2023-01", "2024-06"],
}
KINDS = {
    "qingdao": ["normal"],
    "liaoyang": ["normal", "difficult", "bankrupt"],
    "erenhot": ["normal"],
}

bases = st.integers(min_value=0, max_value=10_000_000).map(lambda fen: str(Decimal(fen) / 100))
members = st.lists(
    st.one_of(
        st.builds(lambda b: {"status": "in_service", "base": b}, bases),
        st.just({"status": "retired"}),
    ),
    max_size=12,
)


@st.composite
def units(draw):
    region = draw(st.sampled_from(sorted(EMPLOYEE_MONTHS)))
    people = [{"psn_no": f"P{i}", **m} for i, m in enumerate(draw(members))]
    raw = {
        "region": region,
        "unit": {
            "id": "U",
            "kind": draw(st.sampled_from(KINDS[region])),
            "in_service_count": draw(st.integers(0, 500)),
            "retiree_count": draw(st.integers(0, 500)),
            "entrusted": region == "liaoyang" and draw(st.booleans()),
        },
        "members": people,
        "city_average_wage": draw(st.integers(100_000, 20_000_000)).__str__(),
    }
    return raw, draw(st.sampled_from(EMPLOYEE_MONTHS[region]))


def shown_product(line: BillLine) -> Decimal:
    """base × rate, times the head count and the months of a year where the line has them."""
    product = line.base_fen * line.rate
    if line.heads is not None:
        product *= line.heads
    if line.months is not None:
        product = product * line.months / 12
    return product


@settings(max_examples=150, deadline=None)
@given(units())
def test_unit_bill_parts_sum_to_the_total_and_every_line_is_cited(case):
    raw, month = case
    bill = compute_unit_bill(raw, month)
    assert sum(bill.totals_by_payer().values()) == bill.total_fen
    assert bill.total_fen == sum(line.amount_fen for line in bill.lines)
    for line in bill.lines + bill.memos:
        assert line.sources, line
        assert line.amount_fen >= 0
        if line.base_fen is not None and line.rate is not None:
            # the amount is what the line shows it is made of, rounded half-up once
            assert round_half_up(shown_product(line)) == line.amount_fen, line
    memos = {m.item: m.amount_fen for m in bill.memos}
    if memos:  # what the centre keeps and returns is exactly what the unit paid in
        paid = {"employer_contribution", "personal_contribution"}
        paid_in = sum(x.amount_fen for x in bill.lines if x.item in paid)
        assert memos["withheld_by_centre"] + memos["returned_to_enterprise"] == paid_in


CATEGORIES = ["poverty_registered", "dibao", "tekun", "low_income_marginal", "civil_servant"]
RESIDENT_YEARS = {"tongliao": [2017, 2020], "fuxin": [2019, 2021], "qingdao": [2020, 2021]}


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(RESIDENT_YEARS)),
    st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3),
    st.data(),
)
def test_resident_individual_share_is_split_between_payers_exactly(region, categories, data):
    year = data.draw(st.sampled_from(RESIDENT_YEARS[region]))
    raw = {
        "region": region,
        "person": {"psn_no": "R", "kind": "resident", "categories": categories},
    }
    bill = compute_person_bill(raw, str(year))
    individual = bill.lines[0].base_fen
    fiscal = sum(x.amount_fen for x in bill.lines if x.item == "fiscal_subsidy")
    # the person's part plus the category subsidies is exactly the individual contribution
    assert bill.total_fen - fiscal == individual
    assert all(line.amount_fen >= 0 for line in bill.lines)
    assert sum(bill.totals_by_payer().values()) == bill.total_fen
