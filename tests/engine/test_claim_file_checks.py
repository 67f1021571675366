"""What the claim file refuses rather than settles wrongly: each case names its field path."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.batch.equality import assert_same, frames
from tests.helpers import claim, item, person, settle
from yibao.engine.inputs import ClaimFile
from yibao.errors import InputError, first_error
from yibao.settling import settle_file

EMPLOYEE = person("employee", employment="in_service", birth_date="1980-01-01")


def _settle_erenhot(who: dict, claims: list[dict]) -> None:
    settle_file(ClaimFile.model_validate({"region": "erenhot", "person": who, "claims": claims}))


def _error(who: dict, claims: list[dict]) -> str:
    """The one line `yibao settle` would print."""
    try:
        _settle_erenhot(who, claims)
    except ValidationError as exc:
        return first_error(exc)
    except InputError as exc:
        return str(exc)
    raise AssertionError("accepted")


def test_a_misspelt_year_to_date_key_is_refused_not_ignored():
    # with the typo ignored, the 800 already borne would be borne again (the QA case: 480.00)
    who = {**EMPLOYEE, "ytd": {"year": 2023, "amounts": {"deductible:general-outpatient": "800"}}}
    message = _error(who, [claim("C1", "2023-03-01", "11", items=[item("2000")])])
    assert message.startswith("person.ytd.amounts.deductible:general-outpatient: no deductible")
    assert "general_outpatient" in message  # the known ids are listed


def test_the_printed_year_to_date_is_accepted_back():
    first = [claim("C1", "2023-03-01", "21", items=[item("20000")], discharge_date="2023-03-05")]
    _, ytd = settle("erenhot", EMPLOYEE, first)
    carried = {
        "year": ytd.year,
        "amounts": {k: f"{v / 100:.2f}" for k, v in ytd.amounts.items()},
        "counts": ytd.counts,
    }
    assert "admissions:level:3" in carried["counts"] and carried["amounts"]
    _settle_erenhot({**EMPLOYEE, "ytd": carried}, [claim("C2", "2023-06-01", items=[item("10")])])


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("amounts", {"pool:extra": "1"}),
        ("amounts", {"assistance:nobody": "1"}),
        ("counts", {"admissions:level:4": 1}),
        # Erenhot counts admissions by no diagnosis: a carried count would be ignored
        ("counts", {"admissions:dx:C50.9": 1}),
        # a negative count made the next admission a second one (half the deductible, QA)
        ("counts", {"admissions": -1}),
    ],
)
def test_other_unknown_keys_are_refused(key, reason):
    who = {**EMPLOYEE, "ytd": {"year": 2023, key: reason}}
    message = _error(who, [claim("C1", "2023-03-01", "11", items=[item("10")])])
    assert message.startswith(f"person.ytd.{key}.{next(iter(reason))}: ")


def test_a_self_pay_ratio_on_a_class_a_line_is_refused():
    line = item("1000", "A", selfpay_ratio="0.20")
    message = _error(EMPLOYEE, [claim("C1", "2023-03-01", "11", items=[line])])
    assert message.startswith("claims[0].items[0].selfpay_ratio: only a 乙类")


def test_an_item_ratio_counts_only_where_the_catalogue_makes_the_line_b():
    # XC08CAA001 is 甲类 in the sample catalogue: a ratio sent without a class is ignored there
    # (甲类 is wholly in scope, G-ALL-5), in both engines
    lines = [item("100", code="XC08CAA001", selfpay_ratio="0.20")]
    files = [
        {
            "region": "erenhot",
            "person": {**EMPLOYEE, "id": "P1"},
            "claims": [claim("C1", "2023-03-01", "11", items=[{**lines[0], "category": None}])],
        }
    ]
    (settled,), _ = settle_file(ClaimFile.model_validate(files[0]))
    assert (settled.setlinfo.preselfpay_amt, settled.setlinfo.inscp_scp_amt) == (0, 10000)
    assert_same(*frames(files))


def test_the_same_claim_twice_in_a_file_is_refused():
    twice = [claim("C1", "2023-03-01", items=[item("10")])] * 2
    assert _error(EMPLOYEE, twice) == "claims[1].id: duplicate claim id 'C1' (also claims[0])"


def test_a_claim_before_the_birth_date_is_refused():
    early = [claim("C1", "1979-12-31", items=[item("10")])]
    assert _error(EMPLOYEE, early).startswith("claims[0].date: 1979-12-31 is before person.birth")


@pytest.mark.parametrize(
    ("holders", "reason"),
    [(["P"], "is the person's own account"), (["F1", "F1"], "is listed twice")],
)
def test_family_accounts_name_other_holders_once(holders, reason):
    accounts = [{"holder": h, "relation": "spouse", "balance": "10"} for h in holders]
    who = {**EMPLOYEE, "family_accounts": accounts}
    message = _error(who, [claim("C1", "2023-03-01", items=[item("10")])])
    assert message.startswith("person.family_accounts") and reason in message


def test_the_trace_says_why_a_benefit_for_the_med_type_did_not_match():
    # Tongliao's 门诊统筹 is for level 1 only (G-TL-8): a level-2 visit is not "no benefit"
    visit = claim("C1", "2023-03-01", "11", level=2, items=[item("100")])
    (settled,), _ = settle("tongliao", person(birth_date="1980-01-01"), [visit])
    notes = [step.detail for step in settled.trace if step.rule == "tongliao.pooling"]
    assert notes == [
        "no pooling benefit for med_type 11 matches this claim: "
        "门诊统筹 (general_outpatient): level 2 is not among its levels [1]"
    ]


def test_an_admission_before_birth_is_refused_and_a_resident_may_name_relatives():
    stay = claim("C1", "2023-03-01", admit_date="1979-12-30", items=[item("10")])
    assert _error(EMPLOYEE, [stay]).startswith("claims[0].admit_date: 1979-12-30 is before")
    # EH-06: an employee's account pays for a spouse, parents and children, who may be
    # residents (the demo data binds such families)
    accounts = [{"holder": "F1", "relation": "spouse", "balance": "10"}]
    resident = person(birth_date="1980-01-01", family_accounts=accounts)
    visit = claim("C1", "2023-03-01", items=[item("10")])
    settled, _ = settle_file(
        ClaimFile.model_validate({"region": "tongliao", "person": resident, "claims": [visit]})
    )
    # Tongliao's resident scheme has no account rule: nothing drawn, and the trace says why
    assert settled[0].setlinfo.acct_pay == 0
    assert any(t.detail.startswith("共济: the resident scheme") for t in settled[0].trace)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        # Qingdao's chronic-disease cap is kept per disease: a misspelt code was ignored (QA)
        (
            "cap:chronic_per_disease:coronary_heart_diseas",
            "cap 'chronic_per_disease' is kept per disease: one of ",
        ),
        # a per-admission deductible keeps no total: a carried one was accepted and ignored
        ("deductible:inpatient", "the deductible of 'inpatient' is per admission: no total"),
    ],
)
def test_the_disease_part_of_a_year_to_date_key_is_checked(key, reason):
    from yibao.engine.inputs import YearToDateIn
    from yibao.engine.ytd_keys import unknown_ytd_key
    from yibao.settling import policy_and_catalogs

    policy, _ = policy_and_catalogs("qingdao")
    ytd = YearToDateIn.model_validate({"year": 2023, "amounts": {key: "1"}})
    assert unknown_ytd_key(ytd, policy).startswith(f"amounts.{key}: {reason}")
    good = "cap:chronic_per_disease:coronary_heart_disease"
    assert unknown_ytd_key(YearToDateIn(year=2023, amounts={good: 1}), policy) is None
