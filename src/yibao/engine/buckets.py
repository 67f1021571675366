"""Claim lines → four buckets: 丙类 self-paid, over the price limit, 乙类 first self-pay, in scope.

Each line's amount is split exactly: `fulamt + overlmt + preselfpay + inscp == amount`.
The item's own fields win over the catalogue, the catalogue over the region's default.
"""

from __future__ import annotations

from decimal import Decimal

from yibao.catalog.model import Catalog, CatalogEntry, Restriction
from yibao.engine.inputs import Claim, Item
from yibao.engine.result import LineResult
from yibao.money import apply_ratio, round_half_up
from yibao.policy.schema import CatalogPolicy

_ZERO = Decimal(0)


def split_lines(
    claim: Claim, catalog: Catalog, policy: CatalogPolicy, sex: str | None, age: int | None
) -> list[LineResult]:
    return [_split(item, catalog.get(item.code), policy, claim, sex, age) for item in claim.items]


def line_kinds(claim: Claim, catalog: Catalog) -> tuple[str | None, ...]:
    """Each line's catalogue `kind` (drug, service, daily_goods, ...), None when the catalogue
    does not list the code: the kind is the catalogue's, whatever class the item gives itself."""
    kinds = []
    for item in claim.items:
        entry = catalog.get(item.code)
        kinds.append(entry.kind if entry is not None else None)
    return tuple(kinds)


def _split(
    item: Item,
    entry: CatalogEntry | None,
    policy: CatalogPolicy,
    claim: Claim,
    sex: str | None,
    age: int | None,
) -> LineResult:
    amount = _times(item.price, item.quantity)
    category = item.category or (entry.category if entry else "C")
    name = item.name or (entry.name if entry else "")
    if category == "C":
        note = "丙类/目录外" if entry or item.category else "目录外 (not in catalogue)"
        return LineResult(item.code, name, "C", amount, amount, 0, 0, 0, note)
    if entry is not None and entry.restricted:
        refusal = _restriction_refusal(entry.restriction, claim, sex, age)
        if refusal:
            return LineResult(item.code, name, category, amount, amount, 0, 0, 0, refusal)
    limit = item.price_limit if item.price_limit is not None else (entry and entry.price_limit_fen)
    over = 0
    if limit is not None and item.price > limit:
        over = min(amount, _times(item.price - limit, item.quantity))
    base = amount - over
    ratio = selfpay_ratio(item, entry, category, policy)
    pre = apply_ratio(base, ratio) if ratio else 0
    note = f"先行自付 {ratio:.0%}" if pre else ""
    return LineResult(item.code, name, category, amount, 0, over, pre, base - pre, note)


def _times(fen: int, quantity: Decimal) -> int:
    """price × quantity in fen; whole quantities (the usual case) stay in integers."""
    whole = int(quantity)
    if whole == quantity:
        return fen * whole
    return round_half_up(Decimal(fen) * quantity)


def selfpay_ratio(
    item: Item, entry: CatalogEntry | None, category: str, policy: CatalogPolicy
) -> Decimal:
    if item.selfpay_ratio is not None and category == "B":  # 甲类 is wholly in scope (G-ALL-5)
        return item.selfpay_ratio
    if entry is not None and entry.category != category:
        entry = None  # the item re-classed itself: the catalogue's ratio is for another class
    waive = policy.waive_listed_b_selfpay
    if entry is not None and entry.selfpay_waivable and waive is not None and waive.value:
        return _ZERO
    if entry is not None and entry.selfpay_ratio is not None:
        return entry.selfpay_ratio
    return policy.b_selfpay_ratio.value if category == "B" else _ZERO


def _restriction_refusal(rule: Restriction, claim: Claim, sex: str | None, age: int | None) -> str:
    """Why the item falls outside its 限定支付范围 for this claim, or '' if it is inside."""
    if rule.sex and sex and sex != rule.sex:
        return f"限定性别 {rule.sex}"
    if age is not None and rule.min_age is not None and age < rule.min_age:
        return f"限定年龄 ≥{rule.min_age}"
    if age is not None and rule.max_age is not None and age > rule.max_age:
        return f"限定年龄 ≤{rule.max_age}"
    if rule.levels and claim.level not in rule.levels:
        return f"限定医院等级 {sorted(rule.levels)}"
    if rule.indication_icd and not any(
        dx.startswith(rule.indication_icd) for dx in claim.diagnoses
    ):
        return "限定适应症 (diagnosis outside the indication)"
    return ""
