"""医疗救助 (`maf_pay`): needy categories get a share of the in-scope self-pay left."""

from __future__ import annotations

from yibao.engine import funds
from yibao.engine.context import ClaimContext
from yibao.engine.matching import find_disease
from yibao.money import apply_ratio, yuan_str
from yibao.policy.schema import AssistanceProgram, MedicalAssistance


def medical_assistance(ctx: ClaimContext, rule: MedicalAssistance) -> None:
    """The first programme whose categories (and disease list, if any) fit the person pays
    `ratio` of the in-scope self-pay after insurance, within its annual limit."""
    if ctx.claim.med_type not in rule.med_types:
        return
    program = next((p for p in rule.programs if _eligible(p, ctx)), None)
    if program is None:
        return
    base = ctx.inscope_left
    wanted = apply_ratio(base, program.ratio.value)
    key = f"assistance:{program.limit_group or program.id}"
    room = max(0, program.annual_limit.fen - ctx.ytd.amount(key))
    amount = min(wanted, room)
    if program.cite():
        ctx.note(f"medical_assistance.{program.id}.basis", program, program.name)
    ctx.note(
        f"medical_assistance.{program.id}",
        program.ratio,
        f"{program.name}: {yuan_str(base)} × {program.ratio.value:.0%} = {yuan_str(wanted)}",
    )
    if amount < wanted:
        ctx.note(
            f"medical_assistance.{program.id}.limit",
            program.annual_limit,
            f"年度救助限额 room {yuan_str(room)}",
        )
    ctx.ytd.add(key, amount)
    ctx.pay(funds.MEDICAL_ASSISTANCE, amount, base, program.name)


def _eligible(program: AssistanceProgram, ctx: ClaimContext) -> bool:
    if not ctx.has_any(program.categories):
        return False
    if program.diseases is None:
        return True
    return find_disease(program.diseases, ctx.claim, ctx.person, ctx.age) is not None
