"""大病保险 (`hifmi_pay`): tiered ratios on the year's cumulative in-scope personal burden."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from yibao.engine import funds
from yibao.engine.context import ClaimContext
from yibao.engine.funds import Fund
from yibao.money import round_half_up, yuan_str, yuan_to_fen
from yibao.policy.schema import CriticalIllness, IllnessTilt

BURDEN_KEY = "critical_illness:burden"
PAID_KEY = "critical_illness:paid"
_ONE, _ZERO = Decimal(1), Decimal(0)


@dataclass(frozen=True, slots=True)
class _Terms:
    deductible: int
    points: Decimal
    floor: Decimal
    capped: bool


def critical_illness(ctx: ClaimContext, rule: CriticalIllness) -> None:
    """After basic insurance, the burden above the annual 大病 threshold is paid segment by
    segment (分段累进); special populations get a lower threshold, higher ratios, no cap."""
    if ctx.claim.med_type not in rule.med_types:
        return
    tilts = [t for t in rule.tilts if ctx.has_any(t.categories)]
    terms = _terms(rule, tilts, ctx)
    burden = ctx.inscope_left
    before = ctx.ytd.amount(BURDEN_KEY)
    exact = _segments(rule, terms, before, before + burden, ctx)
    amount = round_half_up(exact)
    if terms.capped and rule.cap is not None:
        room = max(0, rule.cap.fen - ctx.ytd.amount(PAID_KEY))
        if amount > room:
            ctx.note("critical_illness.cap", rule.cap, f"年度限额 room {yuan_str(room)}")
            amount = room
    ctx.ytd.add(BURDEN_KEY, burden)
    ctx.ytd.add(PAID_KEY, min(amount, ctx.person_left))
    ctx.pay(_fund(rule, ctx), amount, burden, rule.name)


def _fund(rule: CriticalIllness, ctx: ClaimContext) -> Fund:
    fund = funds.CRITICAL_ILLNESS[ctx.person.scheme]
    if rule.fund_pay_type:
        return Fund(rule.fund_pay_type, rule.name, fund.field)
    return fund


def _terms(rule: CriticalIllness, tilts: list[IllnessTilt], ctx: ClaimContext) -> _Terms:
    factor, points, floor, capped = _ONE, _ZERO, _ZERO, True
    for tilt in tilts:
        if tilt.deductible_factor is not None:
            factor *= tilt.deductible_factor.value
            ctx.note(
                f"critical_illness.{tilt.id}.deductible",
                tilt.deductible_factor,
                f"起付线 × {tilt.deductible_factor.value}",
            )
        if tilt.ratio_points is not None:
            points += tilt.ratio_points.value
            ctx.note(
                f"critical_illness.{tilt.id}.ratio",
                tilt.ratio_points,
                f"各段 +{tilt.ratio_points.value:.0%}",
            )
        if tilt.ratio_floor is not None:
            floor = max(floor, tilt.ratio_floor.value)
            ctx.note(
                f"critical_illness.{tilt.id}.floor",
                tilt.ratio_floor,
                f"比例不低于 {tilt.ratio_floor.value:.0%}",
            )
        if tilt.no_cap is not None and tilt.no_cap.value:
            capped = False
            ctx.note(f"critical_illness.{tilt.id}.no_cap", tilt.no_cap, "不设封顶线")
    deductible = round_half_up(Decimal(rule.deductible.fen) * factor)
    return _Terms(deductible, points, floor, capped)


def _segments(
    rule: CriticalIllness, terms: _Terms, before: int, after: int, ctx: ClaimContext
) -> Decimal:
    """Σ over segments of (this claim's part of the segment) × (segment ratio after tilts)."""
    total = _ZERO
    parts = []
    bands = rule.segments.bands
    for i, band in enumerate(bands):
        lower = terms.deductible if i == 0 else max(yuan_to_fen(band.lower), terms.deductible)
        upper = None if band.upper is None else yuan_to_fen(band.upper)
        if upper is not None and upper <= lower:
            continue
        part = max(0, (after if upper is None else min(after, upper)) - max(before, lower))
        if part:
            ratio = min(_ONE, max(band.ratio + terms.points, terms.floor))
            total += Decimal(part) * ratio
            parts.append(f"{yuan_str(part)} × {ratio:.0%}")
    ctx.note(
        "critical_illness.segments",
        rule.segments,
        f"起付线 {yuan_str(terms.deductible)}; year burden {yuan_str(before)} → {yuan_str(after)}; "
        + (
            f"{' + '.join(parts)} = {yuan_str(round_half_up(total))}"
            if parts
            else "below the threshold"
        ),
    )
    return total
