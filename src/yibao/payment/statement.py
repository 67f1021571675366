"""The year-end statement of one institution (pure): payment methods, global budget, VBP and
the deposit, as itemized lines whose totals reconcile to the fen.

1. Each of the year's claims is paid by the methods of the agreement in force on its date:
   single disease (LY-36) or DRG (EH-34) for inpatient stays, capitation (EH-34) replacing
   outpatient fee for service, else fee for service as settled. Their sum plus the capitation
   (for the months each capitation agreement covers) is the *actual* amount.
2. The actual amount is settled against the budget (G-LY-7) when one is set.
3. VBP items paid directly to manufacturers come off; the retained VBP surplus is added (QD-24).
4. During the year the settlements' fund amounts were paid monthly less the deposit (G-LY-8);
   the deposit is returned by the assessment score. A sanction beyond the deposit comes off
   the balance. The year-end balance is what remains due (negative: the institution pays back).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from yibao.payment.budget import settle_budget
from yibao.payment.deposit import withhold, year_end_return
from yibao.payment.drg import Stay, StayPayment, price_stay
from yibao.payment.lines import Line
from yibao.payment.methods import capitation_fen, price_single_disease, single_disease_for_stay
from yibao.payment.terms import RegionTerms
from yibao.payment.vbp import settle_vbp

METHODS = ("drg", "single_disease", "capitation")


@dataclass(frozen=True)
class Claim:
    """One settled claim as the statement needs it (reversed claims already removed)."""

    month: int
    med_type: str
    total_fen: int
    fund_fen: int
    diagnoses: tuple[str, ...] = ()
    procedures: tuple[str, ...] = ()
    # the methods of the agreement in force on the claim's date (an empty set: none in force,
    # fee for service); None: the statement's `methods`
    methods: frozenset[str] | None = None


@dataclass(frozen=True)
class StatementInput:
    institution: str
    kind: str
    level: int
    public: bool
    year: int
    claims: tuple[Claim, ...]
    methods: frozenset[str] = frozenset()  # every method of the year's agreements
    capitation_person_months: Fraction = Fraction(0)  # Σ persons × months covered
    budget_fen: int | None = None
    vbp_budget_fen: int = 0
    vbp_paid_fen: int = 0
    score: Decimal | None = None
    veto: bool = False
    deducted_fen: int = 0


@dataclass(frozen=True)
class Statement:
    totals: dict[str, int]
    lines: tuple[Line, ...]
    flags: dict[str, int] = field(default_factory=dict)


def _methods_of(claim: Claim, inp: StatementInput) -> frozenset[str]:
    """The methods a claim is paid under: its own agreement's, else the statement's."""
    return inp.methods if claim.methods is None else claim.methods


def _pay_claim(
    claim: Claim, methods: frozenset[str], inp: StatementInput, terms: RegionTerms
) -> StayPayment | None:
    """The claim paid by a method other than fee for service, or None (fee for service)."""
    patient = claim.total_fen - claim.fund_fen
    groupable = claim.total_fen >= 0 and 0 <= patient <= claim.total_fen
    if not groupable or claim.med_type not in terms.drg.med_types.value:
        return None
    stay = Stay(claim.diagnoses, claim.procedures, claim.total_fen, patient, inp.level)
    if "single_disease" in methods:
        entry = single_disease_for_stay(stay, terms.single_disease_for(inp.institution))
        if entry is not None:
            return price_single_disease(stay, entry)
    if "drg" in methods:
        return price_stay(stay, terms.drg)
    return None


def _method_sums(inp: StatementInput, terms: RegionTerms) -> tuple[Counter, Counter]:
    sums: Counter = Counter({"ffs": 0, "drg": 0, "drg_outlier": 0, "single_disease": 0})
    sums["capitated_ffs"] = 0
    flags: Counter = Counter()
    for claim in inp.claims:
        methods = _methods_of(claim, inp)
        if "capitation" in methods and claim.med_type in terms.capitation.med_types.value:
            sums["capitated_ffs"] += claim.fund_fen
            continue
        paid = _pay_claim(claim, methods, inp, terms)
        if paid is None:
            sums["ffs"] += claim.fund_fen
            continue
        sums[paid.method] += paid.fund_fen
        if paid.flag:
            flags[paid.flag] += 1
    return sums, flags


def _method_lines(sums: Counter, capitation: int, terms: RegionTerms) -> list[Line]:
    drg, cap = terms.drg, terms.capitation
    return [
        Line(
            "ffs",
            "按项目 fee for service (fund, as settled)",
            sums["ffs"],
            "FX-41 composite payment: claims no other method covers",
        ),
        Line(
            "drg",
            "DRG group payments (fund)",
            sums["drg"],
            f"base rate × weight [{drg.base_rate.cite()}]",
        ),
        Line(
            "drg_outlier",
            "DRG outliers paid fee for service (fund)",
            sums["drg_outlier"],
            f"cost beyond {drg.low_outlier.value}..{drg.high_outlier.value} × price",
        ),
        Line(
            "single_disease",
            "单病种 payments (fund)",
            sums["single_disease"],
            "LY-36 configured prices (G-LY-9)",
        ),
        Line(
            "capitation",
            "按人头 capitation",
            capitation,
            f"rate × persons × months covered / 12 [{cap.rate_per_head_year.cite()}]; "
            f"part month: days covered / days in the month [{cap.part_month.cite()}]",
        ),
        Line(
            "capitated_ffs_replaced",
            "outpatient fee for service replaced by capitation (not paid)",
            sums["capitated_ffs"],
            "EH-34 按人头 for primary care",
        ),
    ]


def year_end_statement(inp: StatementInput, terms: RegionTerms) -> Statement:
    """Compose the year-end statement of one institution from its year's claims and terms."""
    unknown = set(inp.methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown payment methods {sorted(unknown)}")
    lines: list[Line] = []
    totals: dict[str, int] = {}
    flags = _actual(inp, terms, lines, totals)
    _payable(inp, terms, lines, totals)
    _deposit_and_balance(inp, terms, lines, totals)
    return Statement(totals, tuple(lines), flags)


def _actual(
    inp: StatementInput, terms: RegionTerms, lines: list[Line], totals: dict[str, int]
) -> dict[str, int]:
    """Step 1: the claims paid by the methods, plus capitation; returns the flags."""
    sums, flags = _method_sums(inp, terms)
    capitation = 0
    if "capitation" in inp.methods:
        capitation = capitation_fen(inp.capitation_person_months, terms.capitation)
    actual = sums["ffs"] + sums["drg"] + sums["drg_outlier"] + sums["single_disease"] + capitation
    lines.extend(_method_lines(sums, capitation, terms))
    lines.append(Line("actual", "实际发生 actual fund claims", actual, "sum of the methods"))
    totals["actual_fen"] = actual
    return dict(flags)


def _payable(
    inp: StatementInput, terms: RegionTerms, lines: list[Line], totals: dict[str, int]
) -> None:
    """Steps 2 and 3: the budget settlement (when a budget is set), then VBP."""
    actual = totals["actual_fen"]
    fund_claims, bears, reward = actual, 0, 0
    if inp.budget_fen is not None and actual >= 0:
        budget = settle_budget(inp.budget_fen, actual, terms.budget)
        fund_claims, bears = budget.fund_pays_claims_fen, budget.institution_bears_fen
        reward = budget.reward_fen
        lines.append(Line("budget", "总额 budget", inp.budget_fen, "bureau's budget (LY-35)"))
        lines.extend(budget.lines)
    vbp = settle_vbp(inp.vbp_paid_fen, inp.vbp_budget_fen, inp.public, terms.vbp)
    lines.extend(vbp.lines)
    payable = fund_claims + reward - vbp.direct_fen + vbp.retained_fen
    why = "actual − borne + reward − VBP direct + VBP retained"
    lines.append(Line("payable", "年度应付 payable for the year", payable, why))
    totals.update(
        budget_fen=inp.budget_fen if inp.budget_fen is not None else 0,
        fund_pays_claims_fen=fund_claims,
        institution_bears_fen=bears,
        reward_fen=reward,
        vbp_direct_fen=vbp.direct_fen,
        vbp_retained_fen=vbp.retained_fen,
        payable_fen=payable,
    )


def _deposit_and_balance(
    inp: StatementInput, terms: RegionTerms, lines: list[Line], totals: dict[str, int]
) -> None:
    """Step 4: the deposit withheld monthly and returned by score; the balance still due."""
    monthly = monthly_payables(inp)
    withheld = sum(withhold(monthly, terms.deposit).values())
    deposit = year_end_return(withheld, inp.deducted_fen, inp.score, inp.veto, terms.deposit)
    lines.extend(deposit.lines)
    interim = sum(monthly.values()) - withheld
    why = "the settlements' fund amounts less the deposit withheld"
    lines.append(Line("interim_paid", "月度已付 paid monthly (less deposit)", interim, why))
    beyond = deposit.uncovered_deduction_fen
    lines.append(_beyond_deposit_line(beyond))
    kept = deposit.deducted_fen + deposit.forfeited_fen + deposit.held_fen
    balance = totals["payable_fen"] - kept - beyond - interim
    why = "payable − deducted − forfeited − held − beyond the deposit − paid monthly"
    lines.append(Line("year_end_balance", "年终结算 year-end balance due", balance, why))
    totals.update(
        deposit_withheld_fen=withheld,
        deposit_deducted_fen=deposit.deducted_fen,
        deposit_returned_fen=deposit.returned_fen,
        deposit_forfeited_fen=deposit.forfeited_fen,
        deposit_held_fen=deposit.held_fen,
        deduction_beyond_deposit_fen=beyond,
        interim_paid_fen=interim,
        balance_fen=balance,
    )


def _beyond_deposit_line(beyond_fen: int) -> Line:
    """A sanction larger than the deposit withheld: the rest is recovered from what the fund
    still owes (LY-32 sets the deduction, QD-28 recovers funds), not forgotten."""
    return Line(
        "deduction_beyond_deposit",
        "扣除 sanction beyond the deposit (recovered)",
        -beyond_fen,
        "LY-32 deduction − deposit withheld: taken off the balance (QD-28 追回医保基金)",
    )


def monthly_payables(inp: StatementInput) -> dict[int, int]:
    """The fund amounts settled each month: what was paid monthly during the year."""
    monthly: dict[int, int] = defaultdict(int)
    for claim in inp.claims:
        monthly[claim.month] += claim.fund_fen
    return dict(monthly)


def withheld_by_month(inp: StatementInput, terms: RegionTerms) -> dict[int, int]:
    """The deposit withheld each month (for the deposit ledger)."""
    return withhold(monthly_payables(inp), terms.deposit)
