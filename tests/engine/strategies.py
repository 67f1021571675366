"""Hypothesis strategies for random persons and claims in every packaged region."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from yibao.policy.schema import Category

REGIONS = {
    # region: (schemes it runs, first day of its policy)
    "tongliao": (["resident"], dt.date(2017, 1, 1)),
    "qingdao": (["resident", "employee"], dt.date(2021, 1, 1)),
    "fuxin": (["resident"], dt.date(2019, 1, 1)),
    "erenhot": (["employee"], dt.date(2022, 10, 1)),
    "liaoyang": (["employee"], dt.date(2005, 1, 1)),
}
CATEGORIES = list(Category.__args__)
DIAGNOSES = [
    "I10",
    "E11.9",
    "Z51.1",
    "F20.0",
    "N18.5",
    "C50.9",
    "K35.8",
    "J18.9",
    "C91.0",
    "O80",
    "G24.0",
    "Q21.0",
    "D66",
]
CODES = [
    "XC08CAA001",
    "XA10AB0001",
    "XC10AAA005",
    "XL01XC0002",
    "XG03AC0001",
    "S002",
    "S006",
    "M001",
    "M002",
    "C001",
    "G001",
    "UNKNOWN",
]

cents = st.integers(min_value=1, max_value=5_000_000)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@st.composite
def items(draw) -> dict:
    entry: dict = {
        "code": draw(st.sampled_from(CODES)),
        "name": "x",
        "price": _yuan(draw(cents)),
        "quantity": draw(st.integers(1, 5)),
    }
    if draw(st.booleans()):
        entry["category"] = draw(st.sampled_from("ABC"))
    if draw(st.integers(0, 4)) == 0:
        entry["price_limit"] = _yuan(draw(cents))
    if entry.get("category") not in ("A", "C") and draw(st.integers(0, 4)) == 0:
        entry["selfpay_ratio"] = draw(st.sampled_from(["0", "0.05", "0.1", "0.3", "1"]))
    return entry


@st.composite
def claims(draw, start: dt.date, n_max: int = 6) -> list[dict]:
    year = draw(st.integers(start.year, 2026))
    out = []
    for i in range(draw(st.integers(1, n_max))):
        day = draw(st.dates(max(start, dt.date(year, 1, 1)), dt.date(min(year + 1, 2026), 12, 31)))
        med = draw(st.sampled_from(["11", "14", "21", "41"]))
        entry = {
            "id": f"C{i}",
            "date": day.isoformat(),
            "med_type": med,
            "hospital_level": draw(st.sampled_from([1, 2, 3, None])),
            "out_of_region": draw(st.booleans()),
            "referral": draw(st.booleans()),
            "diagnoses": draw(st.lists(st.sampled_from(DIAGNOSES), max_size=3)),
            "items": draw(st.lists(items(), min_size=1, max_size=5)),
        }
        if med == "14" and draw(st.booleans()):
            entry["disease"] = draw(
                st.sampled_from(["diabetes", "hypertension", "dialysis", "day_surgery", "E11", "X"])
            )
        out.append(entry)
    return out


@st.composite
def claim_files(draw, region: str | None = None) -> dict:
    region = region or draw(st.sampled_from(sorted(REGIONS)))
    schemes, start = REGIONS[region]
    scheme = draw(st.sampled_from(schemes))
    who: dict = {
        "id": "P",
        "scheme": scheme,
        "categories": draw(st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True)),
        "birth_date": draw(st.dates(dt.date(1930, 1, 1), dt.date(2020, 1, 1))).isoformat(),
        "sex": draw(st.sampled_from(["M", "F"])),
        "products": draw(st.sampled_from([[], ["qindao_ebao"]])),
        "flags": draw(st.sampled_from([[], ["community_contract"]])),
    }
    if scheme == "employee":
        who["employment"] = draw(st.sampled_from(["in_service", "retired", "flexible"]))
        who["account_balance"] = _yuan(draw(st.integers(0, 1_000_000)))
        if draw(st.booleans()):
            who["family_accounts"] = [
                {
                    "holder": "F1",
                    "relation": "spouse",
                    "balance": _yuan(draw(st.integers(0, 500_000))),
                }
            ]
    drawn = draw(claims(start))
    first = min(dt.date.fromisoformat(c["date"]) for c in drawn)
    # born by the first claim: a claim before birth is refused
    who["birth_date"] = min(dt.date.fromisoformat(who["birth_date"]), first).isoformat()
    return {"region": region, "person": who, "claims": drawn}
