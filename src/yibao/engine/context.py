"""The working state of one claim's settlement, shared by the layers in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from yibao.engine.funds import Fund
from yibao.engine.inputs import Claim, Person
from yibao.engine.result import FundDetail, LineResult, TraceEntry
from yibao.engine.state import YearToDate
from yibao.policy.provenance import Cites
from yibao.policy.schema import SchemePolicy


@dataclass(slots=True)
class ClaimContext:
    region: str
    person: Person
    claim: Claim
    scheme: SchemePolicy
    ytd: YearToDate
    age: int | None
    lines: list[LineResult]
    medfee: int
    fulamt: int
    overlmt: int
    preselfpay: int
    inscp: int
    paid: dict[str, int] = field(default_factory=dict)
    details: list[FundDetail] = field(default_factory=list)
    trace: list[TraceEntry] = field(default_factory=list)
    act_pay_dedc: int = 0
    pool_ratio: Decimal = Decimal(0)
    overflow_cost: Decimal = Decimal(0)
    disease_code: str | None = None
    benefit_id: str | None = None  # the pooling benefit that settled the claim, if any
    kinds: tuple[str | None, ...] = ()  # each line's catalogue kind (`line_kinds`), by position
    groups_claimed: frozenset[str] = frozenset()  # disease groups this claim showed (两病)

    @property
    def fund_total(self) -> int:
        return sum(self.paid.values())

    @property
    def inscope_left(self) -> int:
        """In-scope cost not yet paid by any fund: the person's in-scope burden so far."""
        return max(0, self.inscp - self.fund_total)

    @property
    def person_left(self) -> int:
        return self.medfee - self.fund_total

    def has_any(self, categories: list[str] | None) -> bool:
        return bool(categories) and not self.person.categories.isdisjoint(categories)

    def note(self, rule: str, cited: Cites | str | None, detail: str) -> None:
        source = cited.cite() if isinstance(cited, Cites) else (cited or "")
        self.trace.append(TraceEntry(f"{self.region}.{rule}", source, detail))

    def pay(self, fund: Fund, amount: int, seen: int, info: str) -> None:
        """Book a fund payment (never more than the person still bears) and its detail row."""
        amount = max(0, min(amount, self.person_left))
        self.paid[fund.field] = self.paid.get(fund.field, 0) + amount
        self.details.append(FundDetail(fund.code, fund.name, seen, amount, info))
