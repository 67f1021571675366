"""Quality deposit (保证金, LY-24, LY-32, G-LY-8): withheld monthly, returned at year-end by score.

Every fen withheld ends in exactly one place: returned, forfeited (it becomes the reward fund,
LY-24), deducted as a sanction (LY-32), or still held when the year has no assessment yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from yibao.money import apply_ratio
from yibao.payment.lines import Line
from yibao.payment.terms import DepositTerms


def withhold(monthly_payable_fen: dict[int, int], terms: DepositTerms) -> dict[int, int]:
    """The deposit withheld from each month's payable (nothing from a month that nets ≤ 0)."""
    return {
        month: apply_ratio(max(0, payable), terms.share.value)
        for month, payable in sorted(monthly_payable_fen.items())
    }


@dataclass(frozen=True)
class DepositReturn:
    withheld_fen: int
    deducted_fen: int  # sanctions taken from the deposit (at most what was withheld)
    returned_fen: int
    forfeited_fen: int
    held_fen: int  # no assessment yet: neither returned nor forfeited
    uncovered_deduction_fen: int  # sanctions beyond the deposit: to recover otherwise
    lines: tuple[Line, ...]


def year_end_return(
    withheld_fen: int,
    deducted_fen: int,
    score: Decimal | None,
    veto: bool,
    terms: DepositTerms,
) -> DepositReturn:
    """Return the deposit in proportion to the score (out of `full_return_score`); a pharmacy's
    one-vote veto forfeits all of it; without a score the deposit stays held."""
    if withheld_fen < 0 or deducted_fen < 0:
        raise ValueError("deposit amounts must be >= 0")
    deducted = min(deducted_fen, withheld_fen)
    available = withheld_fen - deducted
    full = terms.full_return_score.value
    if score is None:
        returned, held, why = 0, available, "no assessment for the year: deposit held"
    elif veto and terms.pharmacy_veto_forfeits.value:
        returned, held, why = (
            0,
            0,
            f"one-vote veto forfeits all [{terms.pharmacy_veto_forfeits.cite()}]",
        )
    else:
        share = min(score, Decimal(full)) / Decimal(full)
        returned, held = apply_ratio(available, share), 0
        why = f"(withheld − deducted) × {score}/{full} [{terms.full_return_score.cite()}]"
    forfeited = available - returned - held
    lines = (
        Line(
            "deposit_withheld",
            "保证金 withheld",
            withheld_fen,
            f"{terms.share.value} of each monthly payable [{terms.share.cite()}]",
        ),
        Line(
            "deposit_deducted", "保证金 deducted (sanctions)", -deducted, "LY-32 deposit deductions"
        ),
        Line("deposit_returned", "保证金 returned", returned, why),
        Line(
            "deposit_forfeited",
            "保证金 forfeited → reward fund",
            -forfeited,
            "LY-24: 扣留的保證金作爲獎勵基金",
        ),
        Line("deposit_held", "保证金 held", held, "awaiting the year's assessment"),
    )
    return DepositReturn(
        withheld_fen, deducted, returned, forfeited, held, deducted_fen - deducted, lines
    )
