"""Read catalogue CSV files (packaged samples or a bureau's own) into a `Catalog`."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

from yibao.catalog.model import KINDS, Catalog, CatalogEntry, Restriction
from yibao.money import MoneyError, yuan_to_fen

COLUMNS = (
    "code", "name", "category", "kind", "price_limit", "selfpay_ratio",
    "sex", "min_age", "max_age", "levels", "indication_icd", "selfpay_waivable",
)  # fmt: skip


class CatalogError(ValueError):
    pass


@cache
def load_packaged(files: tuple[str, ...]) -> Catalog:
    """Packaged catalogue files merged in order: a later file's row replaces an earlier one."""
    entries: dict[str, CatalogEntry] = {}
    for name in files:
        text = (resources.files("yibao.catalog") / "data" / name).read_text("utf-8")
        entries.update(parse_catalog(text, name))
    return Catalog(name="+".join(files), entries=entries, is_sample=True)


def parse_catalog(text: str, file: str) -> dict[str, CatalogEntry]:
    rows = [r for r in text.splitlines() if r.strip() and not r.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(rows)))
    missing = set(COLUMNS) - set(reader.fieldnames or [])
    if missing:
        raise CatalogError(f"{file}: missing columns {sorted(missing)}")
    entries = {}
    for line, row in enumerate(reader, start=2):
        try:
            entry = _entry(row)
        except (ValueError, InvalidOperation, MoneyError) as exc:
            raise CatalogError(f"{file}: row {line} ({row.get('code')}): {exc}") from None
        entries[entry.code] = entry
    return entries


def _entry(row: dict[str, str]) -> CatalogEntry:
    category = row["category"].strip()
    if category not in ("A", "B", "C"):
        raise ValueError(f"category must be A, B or C, got {category!r}")
    ratio = _opt(row["selfpay_ratio"], Decimal)
    if ratio is not None and not 0 <= ratio <= 1:
        raise ValueError("selfpay_ratio must be between 0 and 1")
    levels = _opt(row["levels"], lambda s: frozenset(int(x) for x in s.split("|")))
    restriction = Restriction(
        sex=_opt(row["sex"], str),
        min_age=_opt(row["min_age"], int),
        max_age=_opt(row["max_age"], int),
        levels=levels,
        indication_icd=tuple(x for x in row["indication_icd"].split("|") if x),
    )
    return CatalogEntry(
        code=row["code"].strip(),
        name=row["name"].strip(),
        category=category,  # type: ignore[arg-type]
        kind=_kind(row["kind"].strip() or "drug"),
        price_limit_fen=_opt(row["price_limit"], yuan_to_fen),
        selfpay_ratio=ratio,
        restriction=restriction,
        selfpay_waivable=row["selfpay_waivable"].strip().lower() in ("1", "true", "yes"),
        restricted=not restriction.is_empty(),
    )


def _opt(text: str | None, convert):
    text = (text or "").strip()
    return convert(text) if text else None


def catalogs_for(policy) -> dict[str, Catalog]:
    """The catalogue of each policy version, keyed by version id (what the engine is given)."""
    return {
        policy.version_id(version): load_packaged(tuple(version.catalog.files))
        for version in policy.versions
    }


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return kind
