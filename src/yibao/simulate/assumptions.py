"""The assumptions a simulation rests on that the data and the policy do not give: each one an
explicit parameter with a default, and each default marked as assumed with its basis.

None of these numbers comes from the policy seeds. They are round, public-order-of-magnitude
figures so the report is readable out of the box; an analyst pricing a real reform passes
the bureau's own numbers (`--capacity-to-pay`, `--contribution-resident`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from yibao.money import round_half_up

# Per-capita disposable income (yuan per person per year, all residents, about 2022). ASSUMED:
# rounded from the order of magnitude of the cities' statistical bulletins, not cited.
DISPOSABLE_INCOME_ASSUMED: dict[str, int] = {
    "tongliao": 28_000,
    "erenhot": 45_000,
    "qingdao": 57_000,
    "fuxin": 26_000,
    "liaoyang": 33_000,
}
# Capacity to pay = income left after subsistence (WHO: after food spending). ASSUMED: 60% of
# disposable income, i.e. a food/subsistence share of about 40%.
CAPACITY_SHARE_ASSUMED = Decimal("0.60")
# Catastrophic health expenditure: annual out-of-pocket burden above 40% of capacity to pay
# (the WHO definition the issue names; a convention, not an assumption about the region).
CATASTROPHIC_SHARE = Decimal("0.40")
# Contribution income per insured person per year into the contribution-financed funds
# (统筹 + 大病 + 大额). ASSUMED: residents 1020 = 380 individual + 640 fiscal subsidy (the 2023
# national minimum standard); employees 4800 ≈ the pooled share of contributions on an
# average wage of about 60 000 yuan.
CONTRIBUTION_ASSUMED: dict[str, int] = {"resident": 1020, "employee": 4800}
COST_GROWTH_ASSUMED = Decimal("0.08")  # medical cost growth per year
INCOME_GROWTH_ASSUMED = Decimal("0.05")  # contribution income growth per year
YEARS = 5
# The funds financed by contributions, whose balance is projected. Civil-servant subsidy,
# enterprise supplementary, medical assistance and other funds (兜底, 惠民保) are financed by
# budgets or premiums outside the basic fund and are shown in the outlay, not the balance.
PROJECTED_FUNDS = ("hifp", "hifmi", "hifob")


@dataclass(frozen=True)
class Assumptions:
    capacity_to_pay_fen: int
    capacity_basis: str
    contribution_fen: dict[str, int]
    contribution_basis: str
    cost_growth: Decimal
    income_growth: Decimal
    years: int
    opening_balance_fen: int

    @property
    def catastrophic_threshold_fen(self) -> Decimal:
        return self.capacity_to_pay_fen * CATASTROPHIC_SHARE


def assumptions_for(
    region: str,
    capacity_to_pay: Decimal | None = None,
    contribution_resident: Decimal | None = None,
    contribution_employee: Decimal | None = None,
    cost_growth: Decimal | None = None,
    income_growth: Decimal | None = None,
    years: int = YEARS,
    opening_balance: Decimal = Decimal(0),
) -> Assumptions:
    """The defaults above, overridden by whatever the caller gives (amounts in yuan)."""
    if capacity_to_pay is None:
        income = DISPOSABLE_INCOME_ASSUMED.get(region, 30_000)
        capacity = round_half_up(Decimal(income * 100) * CAPACITY_SHARE_ASSUMED)
        basis = (
            f"assumed: {CAPACITY_SHARE_ASSUMED:.0%} of an assumed per-capita disposable income "
            f"of {income:,} yuan/yr ({region})"
        )
    else:
        capacity, basis = round_half_up(capacity_to_pay * 100), "given: --capacity-to-pay"
    given = {"resident": contribution_resident, "employee": contribution_employee}
    contribution = {
        scheme: round_half_up(given[scheme] * 100)
        if given[scheme] is not None
        else CONTRIBUTION_ASSUMED[scheme] * 100
        for scheme in CONTRIBUTION_ASSUMED
    }
    contribution_basis = "; ".join(
        f"{scheme} {'given' if given[scheme] is not None else 'assumed'}"
        for scheme in CONTRIBUTION_ASSUMED
    )
    return Assumptions(
        capacity_to_pay_fen=capacity,
        capacity_basis=basis,
        contribution_fen=contribution,
        contribution_basis=contribution_basis,
        cost_growth=COST_GROWTH_ASSUMED if cost_growth is None else cost_growth,
        income_growth=INCOME_GROWTH_ASSUMED if income_growth is None else income_growth,
        years=years,
        opening_balance_fen=round_half_up(opening_balance * 100),
    )
