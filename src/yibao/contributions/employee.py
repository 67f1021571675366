"""Employee contributions (职工医保缴费) of a unit for one month: pure, from cited rates.

In-service members pay the personal rate and their unit the employer rate on the member's
monthly base; retirees pay nothing, except that the government finances each retiree of a
bankrupt enterprise at a fixed amount (LY-07). Units whose retirees exceed a share of their
in-service staff also pay the risk-adjustment levy (风险调剂金, LY-05).
"""

from __future__ import annotations

import math
from decimal import Decimal

from yibao.contributions.bill import Bill, BillLine, Period, cites
from yibao.contributions.inputs import Member, UnitFile
from yibao.contributions.schema import ContributionRates, EmployeeRates, in_force, windows_on
from yibao.errors import InputError
from yibao.money import apply_ratio, round_half_up, yuan_to_fen


def unit_bill(rates: ContributionRates, described: UnitFile, period: Period) -> Bill:
    """The unit's bill for a month: employer and personal parts per member, plus the levy."""
    if period.month is None:
        raise InputError("period: a unit bill is for one month (YYYY-MM)")
    employee = _employee_rates(rates)
    kind = described.unit.kind
    _check_kind(rates, employee, described)
    lines: list[BillLine] = []
    for i, member in enumerate(described.members):
        lines.extend(_member_lines(employee, kind, member, period, f"members[{i}]"))
    levy = _risk_levy(employee, described, period)
    if levy is not None:
        lines.append(levy)
    memos = _entrusted_memos(employee, described, lines)
    info = {
        "unit": described.unit.id,
        "unit_kind": kind,
        "in_service": _count(described, "in_service"),
        "retirees": _count(described, "retired"),
    }
    return Bill(rates.region, "unit", described.unit.id, str(period), tuple(lines), memos, info)


def _employee_rates(rates: ContributionRates) -> EmployeeRates:
    if rates.employee is None:
        raise InputError(f"region: {rates.region} has no employee contribution rates")
    return rates.employee


def _check_kind(rates: ContributionRates, employee: EmployeeRates, described: UnitFile) -> None:
    kind = described.unit.kind
    if kind == "difficult" and employee.difficult is None:
        raise InputError(f"unit.kind: {rates.region} has no lower rate for difficult enterprises")
    if kind == "bankrupt" and employee.bankrupt is None:
        raise InputError(f"unit.kind: {rates.region} has no bankrupt-enterprise financing")
    if described.unit.entrusted and employee.entrusted is None:
        raise InputError(f"unit.entrusted: {rates.region} has no entrusted large enterprises")


def employer_rate(employee: EmployeeRates, kind: str, period: Period) -> tuple[Decimal, tuple]:
    """The employer rate in force in the period's first day, and the values it is made of."""
    day = period.first_day
    if kind == "difficult" and employee.difficult is not None:
        base = in_force(employee.difficult.employer_rate, day, "difficult.employer_rate")
        parts: tuple = (employee.difficult, base)
    else:
        base = in_force(employee.employer_rate, day, "employee.employer_rate")
        parts = (base,)
    cuts = windows_on(employee.employer_rate_cuts, day)
    rate = base.value + sum((cut.value for cut in cuts), Decimal(0))
    return rate, parts + tuple(cuts)


def _member_lines(
    employee: EmployeeRates, kind: str, member: Member, period: Period, where: str
) -> list[BillLine]:
    if member.status == "retired":
        return _retiree_lines(employee, kind, member, period)
    if member.base is None:
        raise InputError(f"{where}.base: required for an in-service member")
    base = yuan_to_fen(member.base)
    rate, parts = employer_rate(employee, kind, period)
    personal = in_force(employee.personal_rate, period.first_day, "employee.personal_rate")
    return [
        BillLine(
            "employer_contribution", "employer", apply_ratio(base, rate), member.psn_no, base,
            rate, cites(*parts),
        ),
        BillLine(
            "personal_contribution", "personal", apply_ratio(base, personal.value),
            member.psn_no, base, personal.value, cites(personal),
        ),
    ]  # fmt: skip


def _retiree_lines(
    employee: EmployeeRates, kind: str, member: Member, period: Period
) -> list[BillLine]:
    """Retirees pay nothing; a bankrupt enterprise's retiree is financed by the government."""
    bankrupt = employee.bankrupt
    if kind != "bankrupt" or bankrupt is None:
        return []
    yearly = bankrupt.amount_per_retiree_year
    amount = round_half_up(Decimal(yearly.fen) * period.months / 12)
    note = "fixed amount per retiree, pooling only, no personal account"
    return [
        BillLine(
            "bankrupt_retiree_financing", "government", amount, member.psn_no, None, None,
            cites(bankrupt, yearly, bankrupt.account), note,
        )
    ]  # fmt: skip


def _count(described: UnitFile, status: str) -> int:
    given = (
        described.unit.in_service_count if status == "in_service" else described.unit.retiree_count
    )
    if given is not None:
        return given
    return sum(1 for m in described.members if m.status == status)


def excess_retirees(retirees: int, in_service: int, threshold_share: Decimal) -> int:
    """Retirees above `threshold_share` × in-service staff, counted in whole persons."""
    return max(0, math.ceil(retirees - threshold_share * in_service))


def _risk_levy(employee: EmployeeRates, described: UnitFile, period: Period) -> BillLine | None:
    """风险调剂金: per excess retiree, a share of last year's city average wage per year."""
    levy = employee.risk_levy
    if levy is None or described.unit.kind == "bankrupt":
        return None
    retirees, in_service = _count(described, "retired"), _count(described, "in_service")
    excess = excess_retirees(retirees, in_service, levy.threshold_share.value)
    if excess == 0:
        return None
    if described.city_average_wage is None:
        raise InputError("city_average_wage: required for the risk-adjustment levy (LY-05)")
    wage = yuan_to_fen(described.city_average_wage)
    rate = levy.rate_of_average_wage.value
    amount = round_half_up(Decimal(wage) * rate * excess * period.months / 12)
    note = (
        f"{excess} retirees above {levy.threshold_share.value:%} of {in_service} in service "
        f"({retirees} retired), each {rate:%} a year of last year's average wage (the base), "
        f"for {period.months} of 12 months"
    )
    return BillLine(
        "risk_adjustment_levy", "employer", amount, None, wage, rate,
        cites(levy, levy.threshold_share, levy.rate_of_average_wage), note,
        heads=excess, months=period.months,
    )  # fmt: skip


def _entrusted_memos(
    employee: EmployeeRates, described: UnitFile, lines: list[BillLine]
) -> tuple[BillLine, ...]:
    """LY-04: the centre keeps a share of the pooling part and returns the rest of the pooling
    fund and the personal-account fund — the employer's account part and the members' own
    contributions, which go to their accounts whole (G-LY-2): "其餘的統籌基金和個人帳戶基金
    …於以返還" (QA: the members' own part was left out, 86.67 short on 4,333.33 of bases)."""
    entrusted = employee.entrusted
    if not described.unit.entrusted or entrusted is None:
        return ()
    employer = sum(x.amount_fen for x in lines if x.item == "employer_contribution")
    personal = sum(x.amount_fen for x in lines if x.item == "personal_contribution")
    share = entrusted.pooling_share_of_employer.value * entrusted.withheld_share.value
    withheld = apply_ratio(employer, share)
    sources = cites(entrusted, entrusted.pooling_share_of_employer, entrusted.withheld_share)
    paid_in = employer + personal
    return (
        BillLine("withheld_by_centre", None, withheld, None, employer, share, sources),
        BillLine(
            "returned_to_enterprise", None, paid_in - withheld, None, paid_in, None, sources,
            "pooling and account funds returned (employer and members' own contributions, "
            "less the centre's share): no top-up for overspend, keep the surplus",
        ),
    )  # fmt: skip
