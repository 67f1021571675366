"""Throughput of the per-claim engine (claims/s on one core), `make bench`.

Seeded random mix across the five regions: 5-item outpatient claims (the issue's target
case) and a mixed workload. Baseline measured in the same run: a bare Python loop applying
one annual deductible + ratio + cap rule to the same claims' in-scope totals.
"""

from __future__ import annotations

import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from yibao.catalog.load import catalogs_for
from yibao.engine.inputs import Claim, ClaimFile, Person
from yibao.engine.settle import settle_claim
from yibao.engine.state import YearToDate
from yibao.policy.loader import load_region

REGIONS = {
    "tongliao": ("resident", 2023),
    "qingdao": ("resident", 2023),
    "fuxin": ("resident", 2020),
    "erenhot": ("employee", 2023),
    "liaoyang": ("employee", 2010),
}
CODES = ["XC08CAA001", "XA10BAA001", "XJ01DCA011", "S001", "S011", "XC10AAA005", "C002"]
DIAGNOSES = ["I10", "E11.9", "J18.9", "K29.7", "M54.5"]


def make_workload(n: int, seed: int, med_types: list[str]):
    rng = random.Random(seed)
    work = []
    for i in range(n):
        region = rng.choice(list(REGIONS))
        scheme, year = REGIONS[region]
        person = Person.model_validate(
            {
                "id": f"P{i}",
                "scheme": scheme,
                "employment": rng.choice(["in_service", "retired"])
                if scheme == "employee"
                else None,
                "categories": rng.choice([[], [], ["poverty_registered"], ["dibao"]]),
                "account_balance": "500.00" if scheme == "employee" else "0",
            }
        )
        med = rng.choice(med_types)
        claim = Claim.model_validate(
            {
                "id": f"C{i}",
                "date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "med_type": med,
                "hospital_level": rng.choice([1, 2, 3]),
                "diagnoses": [rng.choice(DIAGNOSES)],
                "items": [
                    {
                        "code": rng.choice(CODES),
                        "price": f"{rng.randint(100, 40000) / 100:.2f}",
                        "quantity": rng.randint(1, 3),
                    }
                    for _ in range(5)
                ],
            }
        )
        work.append((region, person, claim))
    return work


def bench_engine(work, policies) -> float:
    states: dict[str, YearToDate] = {}
    start = time.perf_counter()
    for region, person, claim in work:
        policy, catalogs = policies[region]
        state = states.get(person.id) or YearToDate.for_person(person)
        _, states[person.id] = settle_claim(policy, catalogs, person, claim, state)
    return len(work) / (time.perf_counter() - start)


def bench_baseline(work) -> float:
    """One rule, no policy: deductible 1000, ratio 60%, cap 4000 — the floor of any engine."""
    totals = [sum(int(it.price * it.quantity) for it in c.items) for _, _, c in work]
    used: dict[str, list[int]] = {}
    start = time.perf_counter()
    for (_, person, _), inscp in zip(work, totals, strict=True):
        acc = used.setdefault(person.id, [0, 0])
        dedc = min(max(0, 100_000 - acc[0]), inscp)
        acc[0] += dedc
        pay = min(int(Decimal(inscp - dedc) * Decimal("0.6") + Decimal("0.5")), 400_000 - acc[1])
        acc[1] += pay
    return len(work) / (time.perf_counter() - start)


def bench_parse(n: int) -> float:
    raw = {
        "region": "erenhot",
        "person": {"id": "P", "scheme": "employee", "employment": "retired"},
        "claims": [
            {
                "id": "C1",
                "date": "2023-03-01",
                "med_type": "11",
                "hospital_level": 3,
                "items": [{"code": c, "price": "12.50", "quantity": 2} for c in CODES[:5]],
            }
        ],
    }
    start = time.perf_counter()
    for _ in range(n):
        ClaimFile.model_validate(raw)
    return n / (time.perf_counter() - start)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    policies = {}
    for region in REGIONS:
        policy = load_region(region)
        policies[region] = (policy, catalogs_for(policy))
    outpatient = make_workload(n, seed=7, med_types=["11", "41"])
    mixed = make_workload(n, seed=8, med_types=["11", "14", "21", "41"])
    bench_engine(outpatient[:2000], policies)  # warm-up
    base = bench_baseline(outpatient)
    out = bench_engine(outpatient, policies)
    mix = bench_engine(mixed, policies)
    parse = bench_parse(n // 5)
    print(f"per-claim engine, {n:,} claims, 5 items each, seeded mix of 5 regions (1 core)")
    print(f"  baseline one-rule loop          {base:>12,.0f} claims/s")
    print(
        f"  engine, outpatient (11/41)      {out:>12,.0f} claims/s  "
        f"({out / base:.2f}× baseline; target ≥ 20,000)"
    )
    print(f"  engine, mixed (11/14/21/41)     {mix:>12,.0f} claims/s  ({mix / base:.2f}× baseline)")
    print(f"  claim-file validation (pydantic) {parse:>11,.0f} files/s")


if __name__ == "__main__":
    main()
