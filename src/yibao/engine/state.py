"""Year-to-date accumulators carried from claim to claim (reset on 1 January, G-ALL-1)."""

from __future__ import annotations

from dataclasses import dataclass, field

from yibao.engine.inputs import Person


@dataclass(slots=True)
class YearToDate:
    """Annual amounts (fen) and counts, plus account balances, which do not reset."""

    year: int | None = None
    amounts: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    groups_seen: set[str] = field(default_factory=set)
    account_balance: int = 0
    family_balances: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_person(cls, person: Person) -> YearToDate:
        family = {acc.holder: acc.balance for acc in person.family_accounts}
        given = person.ytd
        if given is None:
            return cls(account_balance=person.account_balance, family_balances=family)
        balance = person.account_balance if given.account_balance is None else given.account_balance
        return cls(
            year=given.year,
            amounts=dict(given.amounts),
            counts=dict(given.counts),
            groups_seen=set(given.groups_seen),
            account_balance=balance,
            family_balances={**family, **given.family_balances},
        )

    def copy(self) -> YearToDate:
        return YearToDate(
            self.year,
            dict(self.amounts),
            dict(self.counts),
            set(self.groups_seen),
            self.account_balance,
            dict(self.family_balances),
        )

    def for_year(self, year: int) -> YearToDate:
        """A copy positioned in `year`: a new year starts with empty annual accumulators."""
        if self.year == year:
            return self.copy()
        return YearToDate(year, {}, {}, set(), self.account_balance, dict(self.family_balances))

    def amount(self, key: str) -> int:
        return self.amounts.get(key, 0)

    def add(self, key: str, fen: int) -> None:
        if fen:
            self.amounts[key] = self.amounts.get(key, 0) + fen

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)

    def bump(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1
