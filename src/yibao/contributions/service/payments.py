"""Paying a family member's contribution from a personal account (家庭共济, EH-07).

The purpose must be an allowed use of the holder's region for the beneficiary's relation
(a family binding); forbidden purposes (EH-08) are refused with their source. Each
(beneficiary, purpose, year) is paid once; the ledger entry, the balance change, the payment
row and the audit entry are one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from yibao.contributions.bill import Period
from yibao.contributions.load import contribution_regions, load_rates
from yibao.contributions.resident import resident_bill
from yibao.contributions.schema import AccountUses
from yibao.contributions.uses import UseDecision, account_use_allowed
from yibao.money import yuan_str
from yibao.policy.schema import Category
from yibao.service import audit
from yibao.service.errors import Conflict, Forbidden, NotFound, ServiceError
from yibao.service.principal import Principal
from yibao.store.contributions import AccountPayment
from yibao.store.db import Database
from yibao.store.models import Account, AccountEntry, FamilyBinding, Person, PersonCategory

CONTRIBUTIONS = ("resident_contribution", "large_expense_contribution", "ltc_contribution")
ENTRY_KIND = "family_contribution"


def _uses(region: str) -> AccountUses:
    rates = load_rates(region) if region in contribution_regions() else None
    if rates is None or rates.accounts is None:
        raise ServiceError(f"payer: region {region} states no personal-account uses")
    return rates.accounts.uses


def pay_contribution(
    db: Database,
    who: Principal,
    payer_id: str,
    beneficiary_id: str,
    purpose: str,
    year: int,
    amount_fen: int | None = None,
) -> dict[str, Any]:
    """Debit `payer_id`'s account for `beneficiary_id`'s contribution of `year`."""
    if who.role != "bureau":
        raise Forbidden("only the bureau pays contributions from personal accounts")
    with db.transaction() as session:
        payer, beneficiary = _enrolled_pair(session, payer_id, beneficiary_id)
        relation = _relation(session, payer_id, beneficiary_id)
        decision = _allowed_purpose(session, payer, beneficiary, relation, purpose)
        amount = (
            amount_fen if amount_fen is not None else _owed(session, beneficiary, purpose, year)
        )
        if amount <= 0:
            raise ServiceError("amount: must be > 0")
        account = _funded_account(session, payer_id, amount)
        _refuse_repeat(session, beneficiary_id, purpose, year)
        _debit(session, account, beneficiary_id, purpose, year, amount, decision.source)
        audit.record(
            session, who, "account.pay_contribution", payer_id,
            beneficiary=beneficiary_id, purpose=purpose, year=year, amount_fen=amount,
        )  # fmt: skip
        return {
            "payer": payer_id,
            "beneficiary": beneficiary_id,
            "relation": "self" if payer_id == beneficiary_id else relation,
            "purpose": purpose,
            "year": year,
            "amount_fen": amount,
            "balance_fen": account.balance,
            "source": decision.source,
        }


def _enrolled_pair(session, payer_id: str, beneficiary_id: str) -> tuple[Person, Person]:
    payer = session.get(Person, payer_id)
    beneficiary = session.get(Person, beneficiary_id)
    if payer is None:
        raise NotFound(f"person {payer_id} is not enrolled")
    if beneficiary is None:
        raise NotFound(f"beneficiary: person {beneficiary_id} is not enrolled")
    return payer, beneficiary


def _relation(session, payer_id: str, beneficiary_id: str) -> str | None:
    """The beneficiary's family-binding relation to the payer (None: not bound)."""
    return session.scalars(
        select(FamilyBinding.relation).where(
            FamilyBinding.person_id == beneficiary_id, FamilyBinding.holder_id == payer_id
        )
    ).first()


def _allowed_purpose(
    session, payer: Person, beneficiary: Person, relation: str | None, purpose: str
) -> UseDecision:
    """The region's decision that `purpose` is allowed (EH-07/EH-08) and is paid here, not in
    settlement; a refusal cites the decision's source."""
    decision = account_use_allowed(
        _uses(payer.region), purpose, payer.id, beneficiary.id, relation, beneficiary.scheme
    )
    if not decision.allowed:
        cited = f" ({decision.source})" if decision.source else ""
        hint = _other_way(session, payer.id, beneficiary.id) if decision.unbound else ""
        raise ServiceError(f"purpose: {decision.reason}{hint}{cited}")
    if purpose not in CONTRIBUTIONS:
        raise ServiceError(f"purpose: {purpose} is paid through settlement, not here")
    return decision


def _other_way(session, payer_id: str, beneficiary_id: str) -> str:
    """A binding only lets the holder's account pay for the bound person; when the payer is
    bound to the beneficiary's account instead, say so (the reverse binding is what the
    beneficiary's family enrollment must add)."""
    reverse = _relation(session, beneficiary_id, payer_id)
    if reverse is None:
        return ""
    return (
        f"; the binding is the other way: {payer_id} is bound to {beneficiary_id}'s account "
        f"as {reverse}, so only {beneficiary_id}'s account may pay for {payer_id}"
    )


def _funded_account(session, payer_id: str, amount: int) -> Account:
    """The payer's account, locked, holding at least `amount`."""
    account = session.get(Account, payer_id, with_for_update=True)
    if account is None or account.balance < amount:
        have = yuan_str(account.balance if account else 0)
        raise Conflict(f"amount: the account holds {have}, less than {yuan_str(amount)}")
    return account


def _debit(
    session,
    account: Account,
    beneficiary_id: str,
    purpose: str,
    year: int,
    amount: int,
    source: str,
) -> None:
    """Ledger entry, balance change and payment row; the payment's unique key decides a race."""
    payer_id = account.person_id
    entry = AccountEntry(
        person_id=payer_id, amount=-amount, kind=ENTRY_KIND, beneficiary_id=beneficiary_id,
        note=f"{purpose} {year} of {beneficiary_id} ({source})"[:200],
    )  # fmt: skip
    session.add(entry)
    session.flush()
    account.balance -= amount
    session.add(
        AccountPayment(
            payer_id=payer_id, beneficiary_id=beneficiary_id, purpose=purpose, year=year,
            amount_fen=amount, entry_id=entry.id,
        )
    )  # fmt: skip
    try:
        session.flush()
    except IntegrityError:  # a concurrent payment for the same year won the race
        raise Conflict(f"year: {purpose} {year} of {beneficiary_id} is already paid") from None


def _refuse_repeat(session, beneficiary_id: str, purpose: str, year: int) -> None:
    paid = session.scalars(
        select(AccountPayment.id).where(
            AccountPayment.beneficiary_id == beneficiary_id,
            AccountPayment.purpose == purpose,
            AccountPayment.year == year,
        )
    ).first()
    if paid is not None:
        raise Conflict(f"year: {purpose} {year} of {beneficiary_id} is already paid")


def _owed(session, beneficiary: Person, purpose: str, year: int) -> int:
    """The beneficiary's own share of the resident contribution of `year`, from the rates of
    the beneficiary's region (after category subsidies); another purpose's amount is not in
    the rates and must be given (QA: the message spoke of the resident contribution)."""
    if purpose != "resident_contribution":
        raise ServiceError(f"amount: required for {purpose} (only a resident contribution's "
                           "amount follows from the region's rates)")  # fmt: skip
    region = beneficiary.region
    rates = load_rates(region) if region in contribution_regions() else None
    if rates is None or rates.resident is None:
        raise ServiceError(f"amount: required ({region} states no resident contribution)")
    day = Period(year).first_day
    categories: list[Category] = list(
        session.scalars(
            select(PersonCategory.category).where(
                PersonCategory.person_id == beneficiary.id,
                PersonCategory.valid_from <= day,
                (PersonCategory.valid_to.is_(None)) | (PersonCategory.valid_to >= day),
            )
        ).all()
    )
    try:
        bill = resident_bill(rates, beneficiary.id, categories, Period(year))
    except ValueError as exc:
        raise ServiceError(f"year: {exc}") from None
    return bill.totals_by_payer()["personal"]
