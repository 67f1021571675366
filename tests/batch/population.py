"""A small seeded population generator for batch tests and the quick throughput measurement.

Persons get categories, employment, accounts and products; claims span year boundaries,
transfers out of region, chronic diseases and heavy inpatient stays that reach the caps.
The same seed gives the same claim files. (`yibao synth` is the realistic generator.)
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from tests.engine.strategies import CATEGORIES, REGIONS
from yibao.batch.tables import claim_files_to_frames
from yibao.engine.inputs import ClaimFile

DIAGNOSES = [
    "I10",
    "I11.9",
    "E11.9",
    "E10",
    "Z51.1",
    "Z51.102",  # a national code under Z51.1 (LY-19's waiver matches it by prefix)
    "Z51.0",
    "F20.0",
    "F31",
    "N18.5",
    "C50.9",
    "C53",
    "C91.0",
    "K35.8",
    "J18.9",
    "J44",
    "O80",
    "O20",
    "G24.0",
    "G80",
    "Q21.0",
    "D66",
    "U84",
    "I25.1",
    "B20",
]
CODES = [
    "XC08CAA001",
    "XA10BAA001",
    "XA10AB0001",
    "XC10AAA005",
    "XJ01DCA011",
    "XB01ACA056",
    "XL01XC0002",
    "XG03AC0001",
    "XN05AH0004",
    "ZB02BBA0002",
    "S001",
    "S002",
    "S003",
    "S005",
    "S006",
    "S007",
    "S010",
    "M001",
    "M002",
    "C001",
    "G001",
    "UNKNOWN",
]
DISEASES = ["diabetes", "hypertension", "day_surgery", "esrd", "E11", "X", "uraemia_dialysis"]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _item(rng: random.Random, scale: float) -> dict:
    fen = max(1, int(rng.lognormvariate(8.5, 1.4) * scale))
    entry: dict = {
        "code": rng.choice(CODES),
        "name": "x",
        "price": _yuan(min(fen, 90_000_000)),
        "quantity": rng.choice([1, 1, 1, 2, 3, 10]),
    }
    roll = rng.random()
    if roll < 0.3:
        entry["category"] = rng.choice("AABBC")
    if rng.random() < 0.1:
        entry["price_limit"] = _yuan(max(1, int(fen * rng.uniform(0.3, 1.5))))
    if rng.random() < 0.1:
        ratio = rng.choice(["0", "0.05", "0.1", "0.15", "0.3", "1"])
        if entry.get("category") not in ("A", "C"):  # a 乙类 ratio (or the catalogue's class)
            entry["selfpay_ratio"] = ratio
    return entry


def _claim(rng: random.Random, n: int, day: dt.date, heavy: bool) -> dict:
    med = rng.choices(["11", "14", "21", "41"], weights=[4, 3, 3, 1])[0]
    scale = 1.0
    if med == "21":
        scale = 6.0 * (8.0 if heavy else 1.0)
    elif heavy:
        scale = 3.0
    claim: dict = {
        "id": f"C{n:03d}",
        "date": day.isoformat(),
        "med_type": med,
        "hospital_level": rng.choice([1, 2, 3, 3, None]),
        "out_of_region": rng.random() < 0.15,
        "referral": rng.random() < 0.5,
        "diagnoses": rng.sample(DIAGNOSES, rng.choice([0, 1, 1, 2, 3])),
        "items": [_item(rng, scale) for _ in range(rng.randint(1, 8 if med == "21" else 4))],
    }
    if med == "21":
        stay = rng.randint(0, 40)
        claim["admit_date"] = day.isoformat()
        claim["discharge_date"] = (day + dt.timedelta(days=stay)).isoformat()
    if med == "14" and rng.random() < 0.6:
        claim["disease"] = rng.choice(DISEASES)
    return claim


def person_file(rng: random.Random, region: str, pid: str, max_claims: int = 14) -> dict:
    schemes, start = REGIONS[region]
    scheme = rng.choice(schemes)
    heavy = rng.random() < 0.15
    cats = rng.sample(CATEGORIES, rng.choice([0, 0, 0, 1, 1, 2, 3]))
    who: dict = {
        "id": pid,
        "scheme": scheme,
        "categories": cats,
        "birth_date": (dt.date(1930, 1, 1) + dt.timedelta(days=rng.randint(0, 33000))).isoformat(),
        "sex": rng.choice(["M", "F"]),
        "products": rng.choice([[], [], ["qindao_ebao"]]),
        "flags": rng.choice([[], [], ["community_contract"]]),
    }
    if scheme == "employee":
        who["employment"] = rng.choice(["in_service", "retired", "flexible"])
        who["account_balance"] = _yuan(rng.choice([0, rng.randint(0, 2_000_000)]))
    first = max(start, dt.date(rng.randint(start.year, 2025), 1, 1))
    days = sorted(
        first + dt.timedelta(days=rng.randint(0, 700)) for _ in range(rng.randint(1, max_claims))
    )
    claims = [_claim(rng, n, day, heavy) for n, day in enumerate(days)]
    rng.shuffle(claims)
    # born by the first claim (a claim before birth is refused); the draw above is kept as is
    who["birth_date"] = min(dt.date.fromisoformat(who["birth_date"]), days[0]).isoformat()
    return {"region": region, "person": who, "claims": claims}


def claim_files(region: str, persons: int, seed: int, max_claims: int = 14) -> list[ClaimFile]:
    rng = random.Random(f"{region}:{seed}")
    return [
        ClaimFile.model_validate(
            person_file(rng, region, f"{region[:2].upper()}{i:06d}", max_claims)
        )
        for i in range(persons)
    ]


def population(
    regions: list[str], persons: int, seed: int, max_claims: int = 14
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(persons, claim_lines) for `persons` persons in each region."""
    files = [cf for r in regions for cf in claim_files(r, persons, seed, max_claims)]
    return claim_files_to_frames(files)
