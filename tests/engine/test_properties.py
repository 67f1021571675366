"""Properties every settlement must have, on random claims in every region (contract.md)."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.strategies import REGIONS, claim_files
from yibao.engine.inputs import ClaimFile
from yibao.engine.result import Settlement
from yibao.render.jsontext import dumps
from yibao.render.settlement_json import result_dict
from yibao.settling import settle_file

FUND_FIELDS = [
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
]
AMOUNT_FIELDS = [
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    *FUND_FIELDS,
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "acct_mulaid_pay",
    "psn_cash_pay",
    "balc",
]
PROFILE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_identities(s: Settlement) -> None:
    i = s.setlinfo
    assert i.medfee_sumamt == (
        i.fulamt_ownpay_amt + i.overlmt_selfpay + i.preselfpay_amt + i.inscp_scp_amt
    )
    assert i.fund_pay_sumamt == sum(getattr(i, f) for f in FUND_FIELDS)
    assert i.medfee_sumamt == i.fund_pay_sumamt + i.psn_part_amt
    assert i.psn_part_amt == i.acct_pay + i.psn_cash_pay
    assert i.acct_mulaid_pay <= i.acct_pay
    for name in AMOUNT_FIELDS:
        assert getattr(i, name) >= 0, name
    assert i.act_pay_dedc <= i.inscp_scp_amt
    assert i.hifp_pay <= i.inscp_scp_amt - i.act_pay_dedc
    assert sum(d.fund_payamt for d in s.setldetail) == i.fund_pay_sumamt
    assert sum(line.amount for line in s.lines) == i.medfee_sumamt


@PROFILE
@given(claim_files())
def test_contract_identities_hold_on_every_settlement(raw):
    settlements, _ = settle_file(ClaimFile.model_validate(raw))
    assert len(settlements) == len(raw["claims"])
    for s in settlements:
        assert_identities(s)


@PROFILE
@given(claim_files())
def test_settling_is_deterministic(raw):
    first = settle_file(ClaimFile.model_validate(raw))
    second = settle_file(ClaimFile.model_validate(copy.deepcopy(raw)))
    render = [dumps(result_dict("r", "p", s, state)) for s, state in (first, second)]
    assert render[0] == render[1]


@PROFILE
@given(claim_files(), st.integers(1, 2_000_000))
def test_more_in_scope_cost_never_lowers_the_fund_payment(raw, extra_fen):
    one = {**raw, "claims": raw["claims"][:1]}
    more = copy.deepcopy(one)
    more["claims"][0]["items"].append(
        {
            "code": "EXTRA",
            "name": "甲类项目",
            "category": "A",
            "price": f"{extra_fen // 100}.{extra_fen % 100:02d}",
        }
    )
    base, _ = settle_file(ClaimFile.model_validate(one))
    bigger, _ = settle_file(ClaimFile.model_validate(more))
    assert bigger[0].setlinfo.inscp_scp_amt > base[0].setlinfo.inscp_scp_amt
    assert bigger[0].setlinfo.fund_pay_sumamt >= base[0].setlinfo.fund_pay_sumamt


@PROFILE
@given(st.data())
def test_new_year_state_never_leaks_annual_amounts(data):
    raw = data.draw(claim_files())
    settlements, state = settle_file(ClaimFile.model_validate(raw))
    last_year = max(int(s.setl_date[:4]) for s in settlements)
    assert state.year == last_year


def _outpatient_visit(day: str, amounts: list[int], level: int) -> dict:
    # Multiples of 20 fen times ratios of 5-point steps are whole fen: no rounding at all,
    # so splitting a visit can be compared exactly (rounding per claim is allowed to differ).
    return {
        "id": f"V{day}{len(amounts)}{amounts[0]}",
        "date": day,
        "med_type": "11",
        "hospital_level": level,
        "items": [
            {
                "code": "A",
                "name": "甲类",
                "category": "A",
                "price": f"{a * 20 // 100}.{a * 20 % 100:02d}",
            }
            for a in amounts
        ],
    }


@PROFILE
@given(
    employment=st.sampled_from(["in_service", "retired"]),
    level=st.sampled_from([1, 2, 3]),
    before=st.lists(st.integers(1, 20_000), max_size=4),
    visit=st.lists(st.integers(1, 20_000), min_size=2, max_size=6),
    cut=st.integers(1, 5),
)
def test_splitting_an_outpatient_visit_leaves_the_year_unchanged(
    employment, level, before, visit, cut
):
    # Erenhot's general outpatient pooling is annual (EH-10 deductible, EH-11 cap), so one
    # visit or the same items in two visits on the same day give the same yearly totals.
    cut = min(cut, len(visit) - 1)
    history = [_outpatient_visit("2023-03-01", [a], level) for a in before]
    whole = history + [_outpatient_visit("2023-04-01", visit, level)]
    split = history + [
        _outpatient_visit("2023-04-01", visit[:cut], level),
        _outpatient_visit("2023-04-01", visit[cut:], level),
    ]
    who = {"id": "P", "scheme": "employee", "employment": employment}
    totals = []
    for claims_ in (whole, split):
        claims_ = [{**c, "id": f"V{i}"} for i, c in enumerate(claims_)]  # ids once per file
        settled, state = settle_file(
            ClaimFile.model_validate({"region": "erenhot", "person": who, "claims": claims_})
        )
        totals.append(
            (
                sum(s.setlinfo.hifp_pay for s in settled),
                sum(s.setlinfo.act_pay_dedc for s in settled),
                dict(state.amounts),
            )
        )
    assert totals[0] == totals[1]


def test_every_region_is_covered_by_the_strategies():
    from yibao.policy.loader import packaged_regions

    assert sorted(REGIONS) == packaged_regions()
