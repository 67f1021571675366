"""Long-term care terms (cited) and the pure calculator: golden values, refusals, caps, and
the identity fund + person = billed for any episode.

Terms (G-QD-10, assumed): home 50.00/hour, at most 2 hours a day; institution 65.00/day;
hospital special care 170.00/day; fund share 90% employees, 80% residents.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.seeds import SEEDS
from yibao.errors import InputError
from yibao.ltc.calc import Episode, parse_episode, quote, quote_dict
from yibao.ltc.terms import load_terms
from yibao.policy.provenance import Cites, Source, nodes_of

TERMS = load_terms()


def test_every_quote_is_verbatim_in_the_qingdao_seed():
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    sources = nodes_of(TERMS, Source, [])
    assert sources
    for source in sources:
        assert source.rule.startswith("QD-")
        text = (SEEDS / source.seed).read_text("utf-8")
        assert source.quote in text, source.quote


def test_assumptions_name_the_gap():
    assumed = [n for n in nodes_of(TERMS, Cites, []) if n.assumed]
    assert assumed and all(n.reason == "G-QD-10" for n in assumed)


def episode(**fields) -> Episode:
    raw = {"scheme": "employee", "level": 4, "care_type": "institution",
           "start": "2023-03-01", "end": "2023-03-10"} | fields  # fmt: skip
    return parse_episode(raw)


@pytest.mark.parametrize(
    ("fields", "billed", "fund"),
    [
        # employee, institution, 10 days: 10 × 65 = 650.00; 650 × 90% = 585.00
        ({}, 65_000, 58_500),
        # resident, institution, 10 days: 650 × 80% = 520.00
        ({"scheme": "resident"}, 65_000, 52_000),
        # employee, hospital special care, 31 days: 31 × 170 = 5270.00; × 90% = 4743.00
        ({"care_type": "hospital", "end": "2023-03-31"}, 527_000, 474_300),
        # resident at home, 20 hours in 10 days (cap 2/day = 20): 20 × 50 = 1000; × 80% = 800
        ({"scheme": "resident", "care_type": "home", "units": 20}, 100_000, 80_000),
        # 25 hours: 20 covered (800 fund) + 5 over the cap, 250 the person's in full
        ({"scheme": "resident", "care_type": "home", "units": 25}, 125_000, 80_000),
        # institution for 7 of the 10 days: 7 × 65 = 455; × 90% = 409.50
        ({"units": 7}, 45_500, 40_950),
    ],
)
def test_golden_quotes(fields, billed, fund):
    q = quote(TERMS, episode(**fields))
    assert q.eligible
    assert (q.billed_fen, q.fund_fen, q.person_fen) == (billed, fund, billed - fund)


def test_rounding_is_half_up_once():
    # resident at home, 1 hour: 50.00 × 80% = 40.00; employee hospital 1 day: 170 × 90% = 153.00
    assert (
        quote(
            TERMS, episode(scheme="resident", care_type="home", units=1, end="2023-03-01")
        ).fund_fen
        == 4_000
    )
    assert quote(TERMS, episode(care_type="hospital", end="2023-03-01")).fund_fen == 15_300


def test_over_cap_line_is_itemized_with_its_source():
    q = quote(TERMS, episode(scheme="resident", care_type="home", units=25))
    assert [(line["units"], line["covered"]) for line in q.lines] == [(20, True), (5, False)]
    assert all(line["source"] for line in q.lines)
    out = quote_dict(TERMS, episode(scheme="resident", care_type="home", units=25), q)
    assert str(out["person_pay"]) == "450.00"


@pytest.mark.parametrize("level", [0, 1, 2])
def test_a_level_that_is_not_severe_is_refused_with_the_reason(level):
    q = quote(TERMS, episode(level=level))
    assert not q.eligible and q.fund_fen == 0 and q.lines == []
    assert "not severe disability (重度失能)" in q.refusal
    assert "QD-06" in q.sources[0]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"level": 9}, "level: 9 is not an assessment level"),
        ({"care_type": "home"}, "units: home care is priced per hour"),
        ({"units": 11}, "units: 11 days in a 10-day period"),
        ({"end": "2023-04-15"}, "at most 31 days"),
        ({"end": "2023-02-01"}, "end is before start"),
        ({"scheme": "farmer"}, "scheme"),
        ({"units": 0}, "units"),
    ],
)
def test_bad_episodes_are_input_errors(fields, message):
    with pytest.raises(InputError, match=message):
        quote(TERMS, episode(**fields))


@given(
    scheme=st.sampled_from(["employee", "resident"]),
    level=st.integers(3, 5),
    care=st.sampled_from(["home", "institution", "hospital"]),
    days=st.integers(1, 31),
    units=st.integers(1, 200),
)
def test_fund_plus_person_is_the_bill_and_the_fund_never_pays_more_than_its_share(
    scheme, level, care, days, units
):
    start = dt.date(2023, 3, 1)
    end = start + dt.timedelta(days=days - 1)
    if care != "home":
        units = min(units, days)
    e = Episode(scheme=scheme, level=level, care_type=care, start=start, end=end, units=units)
    q = quote(TERMS, e)
    assert q.fund_fen + q.person_fen == q.billed_fen
    covered = sum(line["amount_fen"] for line in q.lines if line["covered"])
    share = TERMS.fund_share[scheme].value
    assert abs(q.fund_fen - covered * share) <= Decimal("0.5")  # one half-up rounding
    assert 0 <= q.fund_fen <= covered
