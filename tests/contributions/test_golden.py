"""Golden bills worked out by hand from the seed and gap numbers (each comment shows how)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from yibao.contributions.bill import Period
from yibao.contributions.compute import compute_person_bill, compute_unit_bill
from yibao.contributions.crediting import monthly_credit
from yibao.contributions.flexible import enrollment, retirement_years
from yibao.contributions.load import load_rates
from yibao.contributions.render import render_bill
from yibao.contributions.resident import critical_illness_financing
from yibao.contributions.schema import RateError
from yibao.contributions.uses import account_use_allowed
from yibao.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contributions"


def unit(region: str, members: list[dict], wage: str | None = None, **unit_fields) -> dict:
    raw = {"region": region, "unit": {"id": "U1", **unit_fields}, "members": members}
    if wage is not None:
        raw["city_average_wage"] = wage
    return raw


def amounts(bill, item: str) -> list[int]:
    return [line.amount_fen for line in bill.lines if line.item == item]


def in_service(psn: str, base: str) -> dict:
    return {"psn_no": psn, "status": "in_service", "base": base}


# --- Qingdao: employer 8% with the −1 point window (QD-08, G-QD-2) --------------------------


@pytest.mark.parametrize(
    ("month", "employer_fen"),
    [
        ("2021-04", 48_000),  # before the cut: 8% × 6,000.00 = 480.00
        ("2021-05", 42_000),  # first month of the cut: (8% − 1 point) × 6,000.00 = 420.00
        ("2021-06", 42_000),  # 7% × 6,000.00 = 420.00
        ("2022-12", 42_000),  # last month of the G-QD-2 window: 420.00
        ("2023-01", 48_000),  # window over: 8% × 6,000.00 = 480.00
    ],
)
def test_qingdao_employer_rate_window(month, employer_fen):
    bill = compute_unit_bill(unit("qingdao", [in_service("P1", "6000.00")]), month)
    assert amounts(bill, "employer_contribution") == [employer_fen]
    assert amounts(bill, "personal_contribution") == [12_000]  # 2% × 6,000.00 = 120.00
    assert bill.total_fen == employer_fen + 12_000


def test_qingdao_rounds_each_line_half_up_once():
    # 7% × 4,567.89 = 319.7523 → 319.75; 2% × 4,567.89 = 91.3578 → 91.36;
    # 2% × 1,000.25 = 20.005 → 20.01 (half-up); 7% × 1,000.25 = 70.0175 → 70.02.
    bill = compute_unit_bill(
        unit("qingdao", [in_service("P1", "4567.89"), in_service("P2", "1000.25")]), "2021-06"
    )
    assert amounts(bill, "employer_contribution") == [31_975, 7_002]
    assert amounts(bill, "personal_contribution") == [9_136, 2_001]
    assert bill.total_fen == 31_975 + 7_002 + 9_136 + 2_001


def test_qingdao_cut_line_cites_the_seed_and_the_gap():
    line = compute_unit_bill(unit("qingdao", [in_service("P1", "6000")]), "2021-06").lines[0]
    assert line.rate == Decimal("0.07")
    assert any("G-QD-2" in s for s in line.sources)
    assert any(
        s.startswith("QD-08") and "下调单位职工医保缴费费率1个百分点" in s for s in line.sources
    )


def test_retirees_pay_nothing_in_a_normal_unit():
    bill = compute_unit_bill(unit("qingdao", [{"psn_no": "R1", "status": "retired"}]), "2021-06")
    assert bill.lines == () and bill.total_fen == 0


# --- Liaoyang: difficult enterprises, risk levy, bankrupt retirees, entrusted (G-LY-2/4) ----


def test_liaoyang_difficult_enterprise_with_risk_levy():
    # Difficult employer rate 4% × 900.00 = 36.00 (G-LY-2); personal 2% × 900.00 = 18.00.
    # Levy: 8 retirees − 50% × 10 in service = 3 excess; 3 × 12,000.00 × 6% / 12 = 180.00.
    raw = unit(
        "liaoyang", [in_service("P1", "900.00")], kind="difficult",
        in_service_count=10, retiree_count=8, wage="12000.00",
    )  # fmt: skip
    bill = compute_unit_bill(raw, "2006-03")
    assert amounts(bill, "employer_contribution") == [3_600]
    assert amounts(bill, "personal_contribution") == [1_800]
    assert amounts(bill, "risk_adjustment_levy") == [18_000]
    assert bill.totals_by_payer()["employer"] == 3_600 + 18_000


def test_the_levy_line_shows_the_base_rate_heads_and_months_its_amount_comes_from():
    # examples/contributions/liaoyang_unit.json: 8 retirees − 50% × 10 in service = 3 above;
    # base 12,000.00 (last year's average wage, a year) × 6% × 3 persons × 1/12 = 180.00.
    raw = json.loads((EXAMPLES / "liaoyang_unit.json").read_text(encoding="utf-8"))
    bill = compute_unit_bill(raw, "2023-01")
    (levy,) = [line for line in bill.as_dict()["lines"] if line["item"] == "risk_adjustment_levy"]
    shown = (levy["base"], levy["rate"], levy["heads"], levy["months"], levy["amount"])
    assert shown == (Decimal("12000.00"), Decimal("0.06"), 3, 1, Decimal("180.00"))
    assert "base 12,000.00 × 6.00% × 3 persons × 1/12 year: 180.00" in render_bill(bill)
    member_line = bill.as_dict()["lines"][0]
    assert "heads" not in member_line and "months" not in member_line  # base × rate alone


def test_liaoyang_normal_unit_rate_and_levy_rounds_up_to_whole_retirees():
    # Normal employer 6% × 900.00 = 54.00. 3 retirees − 50% × 5 = 0.5 → 1 retiree above the
    # share; 1 × 12,000.00 × 6% / 12 = 60.00.
    raw = unit(
        "liaoyang", [in_service("P1", "900.00")], in_service_count=5, retiree_count=3,
        wage="12000.00",
    )  # fmt: skip
    bill = compute_unit_bill(raw, "2006-03")
    assert amounts(bill, "employer_contribution") == [5_400]
    assert amounts(bill, "risk_adjustment_levy") == [6_000]


def test_no_levy_at_the_threshold_and_the_wage_is_needed_only_above_it():
    # 5 retirees, 10 in service: exactly 50%, nobody above the share.
    raw = unit("liaoyang", [], in_service_count=10, retiree_count=5)
    assert compute_unit_bill(raw, "2006-03").total_fen == 0
    raw = unit("liaoyang", [], in_service_count=10, retiree_count=6)
    with pytest.raises(InputError, match=r"^city_average_wage: required"):
        compute_unit_bill(raw, "2006-03")


def test_liaoyang_bankrupt_retirees_financed_by_government_without_account():
    # 600.00 a year per retiree (G-LY-10 proposed) / 12 = 50.00 a month each, paid by the
    # government; no levy for a bankrupt unit; LY-08: no personal account.
    members = [{"psn_no": "R1", "status": "retired"}, {"psn_no": "R2", "status": "retired"}]
    bill = compute_unit_bill(unit("liaoyang", members, kind="bankrupt"), "2006-03")
    assert amounts(bill, "bankrupt_retiree_financing") == [5_000, 5_000]
    assert bill.totals_by_payer() == {
        "employer": 0, "personal": 0, "government": 10_000, "medical_assistance": 0,
    }  # fmt: skip
    assert any("不建立個人帳戶" in s for s in bill.lines[0].sources)


def test_liaoyang_entrusted_enterprise_withholding_memo():
    # Employer 6% × (1,000.00 + 2,000.00) = 180.00; pooling part 70% (G-LY-2), the centre
    # keeps 10% of it (G-LY-4): 180.00 × 0.07 = 12.60. It returns the rest of the pooling
    # fund and the account fund (LY-04): 180.00 + the members' own 2% × 3,000.00 = 60.00,
    # less 12.60 = 227.40 (QA: the members' 60.00 was left out). Memos only.
    raw = unit("liaoyang", [in_service("P1", "1000"), in_service("P2", "2000")], entrusted=True)
    bill = compute_unit_bill(raw, "2006-03")
    memos = {m.item: m.amount_fen for m in bill.memos}
    assert memos == {"withheld_by_centre": 1_260, "returned_to_enterprise": 22_740}
    assert bill.total_fen == 18_000 + 6_000  # memos never add to the total


def test_a_region_without_the_rule_refuses_the_unit_kind():
    with pytest.raises(InputError, match=r"^unit.kind: qingdao has no lower rate"):
        compute_unit_bill(unit("qingdao", [], kind="difficult"), "2021-06")


# --- residents ------------------------------------------------------------------------------


def test_tongliao_registered_poor_pay_130():
    # G-TL-7: individual 180, fiscal 450; TL-11: the banner pays ≥ 50 of the individual share.
    raw = {"region": "tongliao", "person": {"psn_no": "R", "kind": "resident",
           "categories": ["poverty_registered"]}}  # fmt: skip
    bill = compute_person_bill(raw, "2017")
    assert bill.totals_by_payer()["personal"] == 13_000
    assert bill.totals_by_payer()["government"] == 5_000 + 45_000
    assert bill.total_fen == 63_000  # 180 + 450 per head


def test_tongliao_ordinary_resident_pays_180():
    raw = {"region": "tongliao", "person": {"psn_no": "R", "kind": "resident"}}
    assert compute_person_bill(raw, "2017").totals_by_payer()["personal"] == 18_000


@pytest.mark.parametrize("category", ["dibao", "tekun", "poverty_registered"])
def test_fuxin_full_subsidy_booked_to_medical_assistance(category):
    # G-FX-4: individual 250, fiscal 520; FX-04/05: fully subsidised; FX-06: via assistance.
    raw = {"region": "fuxin", "person": {"psn_no": "R", "kind": "resident",
           "categories": [category]}}  # fmt: skip
    bill = compute_person_bill(raw, "2019")
    assert bill.totals_by_payer() == {
        "employer": 0, "personal": 0, "government": 52_000, "medical_assistance": 25_000,
    }  # fmt: skip
    assert [m.amount_fen for m in bill.memos] == [5_500]  # FX-10: 55 per head to 大病


def test_qingdao_fiscal_subsidy_rises_by_30_in_2021():
    # G-QD-3: 695 in 2020; QD-10: +30 → 725 in 2021; individual 320 both years.
    raw = {"region": "qingdao", "person": {"psn_no": "R", "kind": "resident"}}
    assert amounts(compute_person_bill(raw, "2020"), "fiscal_subsidy") == [69_500]
    assert amounts(compute_person_bill(raw, "2021"), "fiscal_subsidy") == [72_500]
    assert compute_person_bill(raw, "2021").totals_by_payer()["personal"] == 32_000


def test_fuxin_critical_illness_financing_per_head():
    # FX-10: ≥ 55 a head in 2018; 1,000 insured → 55,000.00.
    fen, sources = critical_illness_financing(load_rates("fuxin"), Period(2018), 1000)
    assert fen == 5_500_000 and sources[0].startswith("FX-10")


def test_resident_bill_before_the_rates_is_refused():
    raw = {"region": "fuxin", "person": {"psn_no": "R", "kind": "resident"}}
    with pytest.raises(InputError, match=r"^period: resident.individual: no value in force"):
        compute_person_bill(raw, "2018")


# --- flexible workers (G-LY-3) and 单建统筹 (EH-04, G-EH-3) ---------------------------------


@pytest.mark.parametrize(
    ("wage", "period", "fen"),
    [
        ("12000.00", "2006", 57_600),  # 12,000.00 × 60% × 8% = 576.00 a year
        ("12000.00", "2006-02", 4_800),  # 576.00 / 12 = 48.00 a month
        ("12345.67", "2006", 59_259),  # 1,234,567 fen × 0.048 = 59,259.216 → 592.59
        ("12345.67", "2006-02", 4_938),  # 59,259.216 / 12 = 4,938.268 → 49.38
    ],
)
def test_liaoyang_flexible_contribution(wage, period, fen):
    raw = {"region": "liaoyang", "city_average_wage": wage,
           "person": {"psn_no": "F", "kind": "flexible"}}  # fmt: skip
    assert compute_person_bill(raw, period).total_fen == fen


def test_liaoyang_waiting_period_for_late_joiners():
    rates = load_rates("liaoyang")
    deadline = dt.date(2005, 3, 31)
    # Joining 3 months after the deadline (2005-06-30) is not late: benefits at once.
    on_time = enrollment(rates, deadline, dt.date(2005, 6, 30))
    assert (on_time.late, on_time.benefits_from, on_time.account_after_retirement) == (
        False, dt.date(2005, 6, 30), True,
    )  # fmt: skip
    # One day later is late: benefits 6 months after joining, no account after retirement.
    late = enrollment(rates, deadline, dt.date(2005, 7, 1))
    assert (late.late, late.benefits_from, late.account_after_retirement) == (
        True, dt.date(2006, 1, 1), False,
    )  # fmt: skip


def test_liaoyang_minimum_contribution_years():
    rates = load_rates("liaoyang")
    # 12 paid + 10 deemed (工龄视为保龄) = 22 < 25: 3 years short; paid 12 ≥ 10.
    check = retirement_years(rates, 12, 10)
    assert (check.qualifies, check.short_total, check.short_paid) == (False, 3, 0)
    # 8 paid + 20 deemed = 28 ≥ 25, but only 8 of the 10 required paid years.
    check = retirement_years(rates, 8, 20)
    assert (check.qualifies, check.short_total, check.short_paid) == (False, 0, 2)
    assert retirement_years(rates, 10, 15).qualifies


def test_erenhot_single_pooling_pays_80_percent_of_the_employer_rate():
    # 6% (G-EH-3) × 80% (EH-04) = 4.8% × 3,500.00 = 168.00 a month, all personal.
    raw = {"region": "erenhot", "person": {"psn_no": "S", "kind": "single_pooling",
           "base": "3500.00"}}  # fmt: skip
    bill = compute_person_bill(raw, "2023-01")
    assert bill.total_fen == 16_800 and bill.lines[0].rate == Decimal("0.048")


# --- Erenhot account credits (EH-02/03, G-EH-2) ---------------------------------------------


@pytest.mark.parametrize(
    ("basis", "month", "base", "fen"),
    [
        ("in_service", dt.date(2022, 10, 1), 500_000, 10_000),  # 2% × 5,000.00 = 100.00
        ("in_service", dt.date(2023, 1, 1), 433_333, 8_667),  # 2% × 4,333.33 = 86.6666 → 86.67
        ("retiree", dt.date(2022, 10, 1), None, 9_000),  # 3% × 3,000.00 (2021 base) = 90.00
        ("retiree", dt.date(2022, 12, 1), None, 9_000),  # still 3% in December 2022
        ("retiree", dt.date(2023, 1, 1), None, 6_000),  # 2% × 3,000.00 (2022 base) = 60.00
    ],
)
def test_erenhot_monthly_credit(basis, month, base, fen):
    credit = monthly_credit(load_rates("erenhot").accounts, basis, month, base)
    assert credit.amount_fen == fen


def test_erenhot_credit_outside_the_dated_values_is_refused():
    accounts = load_rates("erenhot").accounts
    with pytest.raises(RateError, match="no value in force on 2022-09-01"):
        monthly_credit(accounts, "retiree", dt.date(2022, 9, 1))
    with pytest.raises(RateError, match="no average pension of 2023"):
        monthly_credit(accounts, "retiree", dt.date(2024, 1, 1))


# --- account uses (EH-05 to EH-08) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "relation", "allowed"),
    [
        ("resident_contribution", "child", True),  # EH-07
        ("resident_contribution", "spouse", True),
        ("ltc_contribution", "parent", True),
        ("medical_costs", "parent", True),  # EH-06
        ("resident_contribution", None, False),  # not a spouse, parent or child
        ("fitness", "child", False),  # EH-08
        ("public_health", "spouse", False),
        ("wellness", "spouse", False),
        ("travel", "spouse", False),  # not listed at all
    ],
)
def test_account_use_allowed(purpose, relation, allowed):
    uses = load_rates("erenhot").accounts.uses
    decision = account_use_allowed(uses, purpose, "HOLDER", "OTHER", relation)
    assert decision.allowed is allowed, decision.reason
    if purpose in ("fitness", "public_health", "wellness"):
        assert decision.source.startswith("EH-08") and "forbidden" in decision.reason


@pytest.mark.parametrize(
    ("purpose", "scheme", "allowed"),
    [
        ("resident_contribution", "resident", True),  # EH-07: 参加居民医保
        ("resident_contribution", "employee", False),  # an employee owes no resident premium
        ("large_expense_contribution", "employee", True),  # EH-07: 职工大额医疗费用补助
        ("large_expense_contribution", "resident", False),
        ("ltc_contribution", "employee", True),  # long-term care: either scheme
        ("ltc_contribution", "resident", True),
    ],
)
def test_a_schemes_contribution_is_only_for_its_members(purpose, scheme, allowed):
    uses = load_rates("erenhot").accounts.uses
    decision = account_use_allowed(uses, purpose, "HOLDER", "OTHER", "spouse", scheme)
    assert decision.allowed is allowed, decision.reason
    if not allowed:
        assert decision.reason.endswith(f"OTHER is enrolled in the {scheme} scheme")
        assert decision.source.startswith("EH-07") and not decision.unbound


def test_own_costs_are_allowed_but_not_own_resident_contribution():
    uses = load_rates("erenhot").accounts.uses
    assert account_use_allowed(uses, "own_inpolicy_selfpay", "P", "P").allowed
    assert not account_use_allowed(uses, "resident_contribution", "P", "P").allowed
