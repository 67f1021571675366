"""Basic pooling (统筹基金, `hifp_pay`): deductible, ratio and annual caps of one benefit.

The first benefit of the scheme whose med_types and conditions match settles the claim.
Special-population tilts and deductible waivers are declared on the benefit, as data.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from yibao.engine import funds
from yibao.engine.context import ClaimContext
from yibao.engine.inputs import Claim
from yibao.engine.matching import benefit_matches, groups_claimed, level_key, mismatch
from yibao.money import apply_ratio, round_half_up, yuan_str
from yibao.policy.schema import Cap, PoolBenefit, Tilt, Waiver

_ONE = Decimal(1)
_ZERO = Decimal(0)
POOL_KEY = "pool"


def basic_pooling(ctx: ClaimContext) -> None:
    """统筹基金支付: (in-scope − deductible) × ratio, within the benefit's and the fund's caps."""
    fund = funds.POOLING[ctx.person.scheme]
    benefit = _select(ctx)
    if benefit is None:
        ctx.note("pooling", None, _no_benefit(ctx))
        ctx.pay(fund, 0, ctx.inscp, "no matching benefit")
        return
    ctx.benefit_id = benefit.id
    ctx.note(f"{benefit.id}.benefit", benefit, _settles(benefit, ctx))
    tilts = [t for t in benefit.tilts if _tilt_applies(t, ctx)]
    ctx.act_pay_dedc = _deductible(benefit, tilts, ctx)
    ratio = _ratio(benefit, tilts, ctx)
    ctx.pool_ratio = ratio
    eligible = ctx.inscp - ctx.act_pay_dedc
    wanted = apply_ratio(eligible, ratio)
    amount, binding = _within_caps(benefit, wanted, ctx)
    if binding == POOL_KEY and benefit.overflow_to_large_expense and ratio > 0:
        ctx.overflow_cost = Decimal(eligible) - Decimal(amount) / ratio
    ctx.note(
        f"{benefit.id}.ratio",
        None,
        f"({yuan_str(ctx.inscp)} − {yuan_str(ctx.act_pay_dedc)}) × {ratio:.2%} "
        f"= {yuan_str(wanted)}; paid {yuan_str(amount)}",
    )
    ctx.pay(fund, amount, ctx.inscp, f"{benefit.name} 比例 {ratio:.2%}")
    _record_use(benefit, amount, ctx)


def _settles(benefit: PoolBenefit, ctx: ClaimContext) -> str:
    """The benefit line of the trace, with the facts that chose it: the hospital level (a
    defaulted one said so, G-ALL-7) and the listed disease that matched."""
    claim = ctx.claim
    level = f"level {claim.level}"
    if claim.hospital_level is None:
        level += " (none given: G-ALL-7)"
    diseases = benefit.match.diseases.items if benefit.match and benefit.match.diseases else []
    named = [d for d in diseases if d.code == ctx.disease_code]
    disease = f", as {named[0].name} ({named[0].code})" if named else ""
    return f"{benefit.name}: settles this claim at {level}{disease}"


def _no_benefit(ctx: ClaimContext) -> str:
    """Why no benefit settles the claim: none for its med_type, or why each one for it did
    not match (a benefit limited to level 1 is not "no benefit")."""
    med_type = ctx.claim.med_type
    near = [b for b in ctx.scheme.pooling.benefits if med_type in b.med_types and b.match]
    if not near:
        return f"no pooling benefit for med_type {med_type}"
    reasons = "; ".join(
        f"{b.name} ({b.id}): {mismatch(b.match, ctx.claim, ctx.person)}" for b in near
    )
    return f"no pooling benefit for med_type {med_type} matches this claim: {reasons}"


def _select(ctx: ClaimContext) -> PoolBenefit | None:
    for benefit in ctx.scheme.pooling.benefits:
        if ctx.claim.med_type not in benefit.med_types:
            continue
        ok, disease = benefit_matches(benefit.match, ctx.claim, ctx.person, ctx.age)
        if ok:
            ctx.disease_code = disease.code if disease else None
            if disease and benefit.match and benefit.match.diseases:
                ctx.groups_claimed = frozenset(groups_claimed(benefit.match.diseases, ctx.claim))
                ctx.ytd.groups_seen |= ctx.groups_claimed
            return benefit
    return None


def _tilt_applies(tilt: Tilt, ctx: ClaimContext) -> bool:
    if not ctx.has_any(tilt.categories):
        return False
    if tilt.levels and ctx.claim.level not in tilt.levels:
        return False
    return not (tilt.in_region_only and ctx.claim.out_of_region)


def _deductible(benefit: PoolBenefit, tilts: list[Tilt], ctx: ClaimContext) -> int:
    """起付线 borne by this claim (never more than its in-scope cost)."""
    rule = benefit.deductible
    if rule is None:
        return 0
    waiver = next((w for w in benefit.waivers if _waiver_applies(w, ctx)), None)
    if waiver is not None:
        ctx.note(f"{benefit.id}.deductible.waived", waiver, f"{waiver.name}: 起付线 0")
        return 0
    cited = rule.amount
    base = rule.amount.fen(ctx.claim.level)
    if ctx.claim.out_of_region and rule.out_of_region is not None:
        cited, base = rule.out_of_region, rule.out_of_region.fen
    factor = _ONE
    for tilt in tilts:
        if tilt.deductible_factor is not None:
            factor *= tilt.deductible_factor.value
            ctx.note(f"{benefit.id}.deductible.{tilt.id}", tilt.deductible_factor, f"× {factor}")
    repeat = rule.repeat_admission_factor
    if rule.basis == "per_admission" and repeat is not None and ctx.ytd.count("admissions"):
        factor *= repeat.value
        ctx.note(f"{benefit.id}.deductible.repeat", repeat, f"再次住院 × {repeat.value}")
    full = round_half_up(Decimal(base) * factor)
    if rule.basis == "per_admission":
        borne = min(full, ctx.inscp)
        detail = f"起付线 {yuan_str(full)} per admission; borne {yuan_str(borne)}"
    else:
        key = f"deductible:{benefit.id}" + (f":{ctx.disease_code}" if rule.per_disease else "")
        borne = min(max(0, full - ctx.ytd.amount(key)), ctx.inscp)
        detail = (
            f"annual 起付线 {yuan_str(full)}, {yuan_str(ctx.ytd.amount(key))} used before; "
            f"borne {yuan_str(borne)}"
        )
        ctx.ytd.add(key, borne)
    ctx.note(f"{benefit.id}.deductible", cited, detail)
    return borne


def _waiver_applies(waiver: Waiver, ctx: ClaimContext) -> bool:
    claim = ctx.claim
    if waiver.categories is not None and not ctx.has_any(waiver.categories):
        return False
    if waiver.levels and claim.level not in waiver.levels:
        return False
    if waiver.in_region_only and claim.out_of_region:
        return False
    if waiver.primary_diagnosis_prefixes is not None and not (
        claim.diagnoses and claim.diagnoses[0].startswith(tuple(waiver.primary_diagnosis_prefixes))
    ):
        return False
    if waiver.diagnosis_codes is not None and not shown_codes(waiver.diagnosis_codes, claim):
        return False
    return waiver.min_prior_admissions is None or (
        _prior_admissions(waiver, ctx) >= waiver.min_prior_admissions
    )


def shown_codes(codes: Iterable[str], claim: Claim) -> set[str]:
    """The codes of `codes` some diagnosis of the claim falls under: a national code adds
    digits to its ICD category (Z51.102 is a Z51.1 化疗), as every disease list matches."""
    return {code for code in codes if any(d.startswith(code) for d in claim.diagnoses)}


def waiver_codes(benefits: Iterable[PoolBenefit]) -> list[str]:
    """The diagnosis codes whose admissions a waiver counts (`admissions:dx:CODE`)."""
    return sorted(
        {
            code
            for b in benefits
            for w in b.waivers
            if w.prior_admissions_by == "diagnosis" and w.min_prior_admissions is not None
            for code in w.diagnosis_codes or ()
        }
    )


def _prior_admissions(waiver: Waiver, ctx: ClaimContext) -> int:
    if waiver.prior_admissions_by == "same_level":
        return ctx.ytd.count(f"admissions:level:{level_key(ctx.claim)}")
    if waiver.prior_admissions_by == "diagnosis":
        codes = shown_codes(waiver.diagnosis_codes or [], ctx.claim)
        return max((ctx.ytd.count(f"admissions:dx:{code}") for code in codes), default=0)
    return ctx.ytd.count("admissions")


def _ratio(benefit: PoolBenefit, tilts: list[Tilt], ctx: ClaimContext) -> Decimal:
    """Payment ratio after transfer-out, retirement and tilts, clamped to [0, 1] (G-ALL-4)."""
    rule, claim = benefit.ratio, ctx.claim
    cited = rule.by_level
    ratio = rule.by_level.by_level[claim.level]
    if claim.out_of_region:
        chosen = rule.out_of_region_referred if claim.referral else rule.out_of_region_unreferred
        if chosen is not None:
            cited, ratio = chosen, chosen.value
    ctx.note(f"{benefit.id}.ratio.base", cited, f"支付比例 {ratio:.2%}")
    if ctx.person.retired and rule.retired_points is not None:
        ratio += rule.retired_points.value
        ctx.note(f"{benefit.id}.ratio.retired", rule.retired_points, f"退休 → {ratio:.2%}")
    for tilt in tilts:
        if tilt.ratio_points is not None:
            ratio += tilt.ratio_points.value
            ctx.note(f"{benefit.id}.ratio.{tilt.id}", tilt.ratio_points, f"倾斜 → {ratio:.2%}")
    return min(_ONE, max(_ZERO, ratio))


def _cap_key(cap: Cap, ctx: ClaimContext) -> str:
    return f"cap:{cap.id}" + (f":{ctx.disease_code}" if cap.per_disease else "")


def _cap_limit(cap: Cap, ctx: ClaimContext) -> tuple[int, object]:
    if cap.amount is not None:
        return cap.amount.fen, cap.amount
    if cap.by_employment is not None:
        return cap.by_employment.fen(ctx.person.retired), cap.by_employment
    groups = cap.by_group or {}
    seen = ctx.ytd.groups_seen & groups.keys()
    if cap.all_groups is not None and seen == groups.keys():
        return cap.all_groups.fen, cap.all_groups
    best = max(seen, key=lambda g: groups[g].fen, default=None)
    if best is None:
        return 0, None
    return groups[best].fen, groups[best]


def _within_caps(benefit: PoolBenefit, wanted: int, ctx: ClaimContext) -> tuple[int, str | None]:
    """Limit the payment by each cap's remaining room; report which cap bound it."""
    annual = ctx.scheme.pooling.annual_cap
    limits = [(POOL_KEY, annual.fen - ctx.ytd.amount(POOL_KEY), annual, "统筹基金年度最高支付限额")]
    for cap in benefit.caps:
        key = _cap_key(cap, ctx)
        limit, cited = _cap_limit(cap, ctx)
        limits.append((key, limit - ctx.ytd.amount(key), cited, f"年度限额 {yuan_str(limit)}"))
    amount, binding = wanted, None
    for key, room, cited, label in limits:
        room = max(0, room)
        if amount > room:
            amount, binding = room, key
            ctx.note(f"{benefit.id}.cap", cited, f"{label}: room {yuan_str(room)}")
    return amount, binding


def _record_use(benefit: PoolBenefit, amount: int, ctx: ClaimContext) -> None:
    ctx.ytd.add(POOL_KEY, amount)
    for cap in benefit.caps:
        ctx.ytd.add(_cap_key(cap, ctx), amount)
    if benefit.counts_as_admission:
        ctx.ytd.bump("admissions")
        ctx.ytd.bump(f"admissions:level:{level_key(ctx.claim)}")
        for code in shown_codes(waiver_codes(ctx.scheme.pooling.benefits), ctx.claim):
            ctx.ytd.bump(f"admissions:dx:{code}")
