"""Catalogue entries and lookup. Pure data: loading from CSV lives in `catalog.load`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ItemClass = Literal["A", "B", "C"]
CLASS_NAMES = {"A": "甲类", "B": "乙类", "C": "丙类"}


@dataclass(frozen=True, slots=True)
class Restriction:
    """Who and where an item is reimbursable (限定支付范围); outside it the item is self-paid."""

    sex: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    levels: frozenset[int] | None = None
    indication_icd: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return self == _NO_RESTRICTION


_NO_RESTRICTION = Restriction()


# what an item is (the catalogue's `kind` column): policies name kinds (an account's
# `not_for_kinds`), so a kind outside this list is refused rather than matching nothing
Kind = Literal["drug", "service", "material", "bed", "nursing", "daily_goods"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    code: str
    name: str
    category: ItemClass
    kind: str
    price_limit_fen: int | None
    selfpay_ratio: Decimal | None
    restriction: Restriction
    selfpay_waivable: bool
    restricted: bool = False  # precomputed: most items have no 限定支付范围


@dataclass(frozen=True)
class Catalog:
    """A region's catalogue; `is_sample` marks the small illustrative one shipped with yibao."""

    name: str
    entries: dict[str, CatalogEntry]
    is_sample: bool

    def get(self, code: str) -> CatalogEntry | None:
        return self.entries.get(code)


EMPTY_CATALOG = Catalog(name="empty", entries={}, is_sample=True)
