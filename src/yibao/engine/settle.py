"""Settle claims: line buckets → basic pooling → supplementary layers → accounts → trace.

The layers run only on a claim a basic benefit settled (none matched: basic pays nothing and
so does every layer after it; the accounts still pay the person's part).

`settle_claim` is pure: the same person, claim, state and policy give the same settlement.
"""

from __future__ import annotations

from collections.abc import Mapping

from yibao.catalog.model import Catalog
from yibao.engine import funds
from yibao.engine.account import pay_from_accounts
from yibao.engine.buckets import line_kinds, split_lines
from yibao.engine.context import ClaimContext
from yibao.engine.inputs import Claim, ClaimFile, Person
from yibao.engine.layers import LAYERS, TITLES
from yibao.engine.pooling import basic_pooling
from yibao.engine.result import SetlInfo, Settlement
from yibao.engine.state import YearToDate
from yibao.money import ratio4
from yibao.policy.schema import RegionPolicy, SchemePolicy

NO_LAYER = "no layer after basic pays: no basic benefit settled this claim"


class SettlementError(ValueError):
    """A claim the policy cannot settle (no version in force, scheme not run by the region);
    `of_person`: the person's scheme is at fault, not the claim's date."""

    def __init__(self, message: str, of_person: bool = False) -> None:
        super().__init__(message)
        self.of_person = of_person


def settle_claim(
    policy: RegionPolicy,
    catalogs: Mapping[str, Catalog],
    person: Person,
    claim: Claim,
    state: YearToDate,
) -> tuple[Settlement, YearToDate]:
    """Settle one claim against the policy version in force on its settlement date."""
    day = claim.settle_date
    try:
        version = policy.version_on(day)
    except LookupError as exc:
        raise SettlementError(str(exc)) from None
    scheme = version.schemes.get(person.scheme)
    if scheme is None:
        raise SettlementError(
            f"{policy.region} runs no {person.scheme} scheme on {day}", of_person=True
        )
    version_id = policy.version_id(version)
    ytd = state.for_year(day.year)
    age = person.age_on(day)
    catalog = catalogs[version_id]
    lines = split_lines(claim, catalog, version.catalog, person.sex, age)
    medfee = fulamt = overlmt = pre = inscp = 0
    for line in lines:
        medfee += line.amount
        fulamt += line.fulamt_ownpay_amt
        overlmt += line.overlmt_selfpay
        pre += line.preselfpay_amt
        inscp += line.inscp_scp_amt
    ctx = ClaimContext(
        policy.region, person, claim, scheme, ytd, age, lines, medfee, fulamt, overlmt, pre, inscp
    )
    ctx.kinds = line_kinds(claim, catalog)  # what the account may not pay for is by kind
    _pool_and_layers(ctx, scheme)
    acct_pay, mulaid = pay_from_accounts(ctx, scheme.account)
    info = _setlinfo(ctx, acct_pay, mulaid)
    settlement = Settlement(
        claim_id=claim.id,
        policy_version=version_id,
        med_type=claim.med_type,
        insutype=funds.INSUTYPE[person.scheme],
        setl_date=day.isoformat(),
        setlinfo=info,
        setldetail=ctx.details,
        lines=lines,
        trace=ctx.trace,
        groups_claimed=ctx.groups_claimed,
    )
    return settlement, ytd


def _pool_and_layers(ctx: ClaimContext, scheme: SchemePolicy) -> None:
    """Basic pooling, then the scheme's layers in order — only on a claim a basic benefit
    settled: every layer pays on the burden left after basic insurance (TL-20 "在基本醫療保險、
    大病保險等補償後", G-ALL-3), so care basic insurance does not cover is none of theirs, and
    they neither pay nor accumulate (大病 burden, assistance used) on it."""
    basic_pooling(ctx)
    layers = scheme.layer_order.value
    if ctx.benefit_id is None:
        if layers:
            ctx.note("layers", scheme.layer_order, NO_LAYER)
        return
    for name in layers:
        _run_layer(ctx, name, getattr(scheme, name))


def _run_layer(ctx: ClaimContext, name: str, block) -> None:
    """Run one layer; if it applied to the claim, its trace opens with the rule's basis."""
    start = len(ctx.trace)
    LAYERS[name](ctx, block)
    if len(ctx.trace) > start and block.cite():
        label = getattr(block, "name", None) or TITLES[name]
        ctx.note(f"{name}.basis", block, label)
        ctx.trace.insert(start, ctx.trace.pop())


def _setlinfo(ctx: ClaimContext, acct_pay: int, mulaid: int) -> SetlInfo:
    paid = ctx.paid
    fund_total = sum(paid.get(name, 0) for name in funds.FUND_FIELDS)
    person_part = ctx.medfee - fund_total
    return SetlInfo(
        medfee_sumamt=ctx.medfee,
        fulamt_ownpay_amt=ctx.fulamt,
        overlmt_selfpay=ctx.overlmt,
        preselfpay_amt=ctx.preselfpay,
        inscp_scp_amt=ctx.inscp,
        act_pay_dedc=ctx.act_pay_dedc,
        hifp_pay=paid.get("hifp_pay", 0),
        pool_prop_selfpay=ratio4(ctx.pool_ratio),
        cvlserv_pay=paid.get("cvlserv_pay", 0),
        hifes_pay=paid.get("hifes_pay", 0),
        hifmi_pay=paid.get("hifmi_pay", 0),
        hifob_pay=paid.get("hifob_pay", 0),
        maf_pay=paid.get("maf_pay", 0),
        oth_pay=paid.get("oth_pay", 0),
        fund_pay_sumamt=fund_total,
        psn_part_amt=person_part,
        acct_pay=acct_pay,
        acct_mulaid_pay=mulaid,
        psn_cash_pay=person_part - acct_pay,
        balc=ctx.ytd.account_balance,
    )


def settle_history(
    claim_file: ClaimFile, policy: RegionPolicy, catalogs: Mapping[str, Catalog]
) -> tuple[list[Settlement], YearToDate]:
    """Settle a person's claims in settlement-date order, claims of one day by claim id
    (string order), carrying year-to-date state. The tie rule is the batch's too: the same
    file settles the same way whatever order its claims are listed in (docs/claim-file.md)."""
    state = YearToDate.for_person(claim_file.person)
    order = sorted(enumerate(claim_file.claims), key=lambda pair: (pair[1].settle_date, pair[1].id))
    settlements = []
    for k, claim in order:
        try:
            settlement, state = settle_claim(policy, catalogs, claim_file.person, claim, state)
        except SettlementError as exc:
            if exc.of_person:
                raise SettlementError(f"person.scheme: {exc}", of_person=True) from None
            field = "discharge_date" if claim.discharge_date is not None else "date"
            raise SettlementError(f"claims[{k}].{field}: claim {claim.id}: {exc}") from None
        settlements.append(settlement)
    return settlements, state
