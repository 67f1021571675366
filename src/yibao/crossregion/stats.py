"""Cross-region statistics like the seeds report them (TL-30/31, QD-30): visits and amounts
per month, by direction — our insured treated elsewhere (outbound), others' insured treated
here (inbound) — and by scheme. Only settlements still `settled` are counted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from yibao.crossregion.clearing import month_bounds
from yibao.crossregion.rules import load_rules
from yibao.errors import InputError
from yibao.money import fen_to_yuan
from yibao.service.errors import Forbidden, ServiceError
from yibao.store.db import Database
from yibao.store.models import Institution, Person, Settlement

Key = tuple[str, str, str]  # month, direction, scheme


def bucket(
    region: str, rows: Iterable[tuple[str, str, str, Any, int, int, int]]
) -> dict[Key, list[int]]:
    """Sum (insured, treating, scheme, date, visits, medfee, fund) rows per month, direction
    and scheme, seen from `region` (pure)."""
    out: dict[Key, list[int]] = {}
    for insured, treating, scheme, day, visits, medfee, fund in rows:
        if insured == treating or region not in (insured, treating):
            continue
        direction = "outbound" if insured == region else "inbound"
        acc = out.setdefault((f"{day:%Y-%m}", direction, scheme), [0, 0, 0])
        acc[0] += int(visits)
        acc[1] += int(medfee)
        acc[2] += int(fund)
    return dict(sorted(out.items()))


def statistics(db: Database, who, region: str, begin: str, end: str) -> dict[str, Any]:
    """Monthly cross-region statistics of `region` for the months begin..end (YYYY-MM)."""
    if who.role not in ("bureau", "auditor"):
        raise Forbidden("only the bureau and auditors read statistics")
    try:
        first, _ = month_bounds(begin)
        _, last = month_bounds(end)
    except InputError as exc:
        raise ServiceError(str(exc)) from None
    if last < first:
        raise ServiceError("end: is before begin")
    person, inst = aliased(Person), aliased(Institution)
    query = (
        select(
            person.region, inst.region, person.scheme, Settlement.setl_date,
            func.count(), func.sum(Settlement.medfee_sumamt), func.sum(Settlement.fund_pay_sumamt),
        )
        .join(person, person.id == Settlement.person_id)
        .join(inst, inst.code == Settlement.institution_code)
        .where(
            Settlement.status == "settled",
            Settlement.setl_date.between(first, last),
            person.region != inst.region,
            (person.region == region) | (inst.region == region),
        )
        .group_by(person.region, inst.region, person.scheme, Settlement.setl_date)
    )  # fmt: skip
    with db.sessions() as session:
        rows = session.execute(query).all()
    return render(region, begin, end, bucket(region, rows))


def render(region: str, begin: str, end: str, buckets: dict[Key, list[int]]) -> dict[str, Any]:
    totals: dict[str, list[int]] = {}
    for (_, direction, _), (visits, medfee, fund) in buckets.items():
        acc = totals.setdefault(direction, [0, 0, 0])
        acc[0], acc[1], acc[2] = acc[0] + visits, acc[1] + medfee, acc[2] + fund
    return {
        "region": region,
        "begin": begin,
        "end": end,
        "rows": [
            {"month": m, "direction": d, "scheme": s, **_amounts(*v)}
            for (m, d, s), v in buckets.items()
        ],
        "totals": {d: _amounts(*v) for d, v in sorted(totals.items())},
        "benchmarks": benchmarks(),
    }


def _amounts(visits: int, medfee: int, fund: int) -> dict[str, Any]:
    return {
        "visits": visits,
        "medfee_sumamt": fen_to_yuan(medfee),
        "fund_pay_sumamt": fen_to_yuan(fund),
    }


def benchmarks() -> list[dict[str, Any]]:
    """The seeds' own figures, for scale, each with its source."""
    return [
        {
            "id": b.id,
            "label": b.label,
            "visits": b.visits.value,
            "amount": fen_to_yuan(b.amount.fen) if b.amount else None,
            "source": b.visits.cite(),
        }
        for b in load_rules().benchmarks
    ]
