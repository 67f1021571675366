"""The two tables of a synthetic or real population, and conversion to and from claim files.

`persons` has one row per insured person; `claim_lines` one row per claim item, with the
claim's fields repeated on each of its lines. Money is integer fen (`*_fen` columns); ratios
are decimal strings so nothing passes through a float. `docs/tables.md` documents the columns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

import polars as pl

from yibao.engine.inputs import ClaimFile
from yibao.money import fen_to_yuan

PERSONS_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "region": pl.String(),
    "scheme": pl.String(),
    "employment": pl.String(),
    "categories": pl.List(pl.String()),
    "birth_date": pl.Date(),
    "sex": pl.String(),
    "account_balance_fen": pl.Int64(),
    "flags": pl.List(pl.String()),
    "products": pl.List(pl.String()),
    # optional, for supervision only (the batch engine ignores them): null unless known
    "death_date": pl.Date(),
    "enrolled_until": pl.Date(),
}

LINES_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "claim_id": pl.String(),
    "date": pl.Date(),
    "med_type": pl.String(),
    "hospital_level": pl.Int8(),
    "out_of_region": pl.Boolean(),
    "referral": pl.Boolean(),
    "admit_date": pl.Date(),
    "discharge_date": pl.Date(),
    "diagnoses": pl.List(pl.String()),
    "disease": pl.String(),
    "institution": pl.String(),
    "line_no": pl.Int32(),
    "code": pl.String(),
    "name": pl.String(),
    "category": pl.String(),
    "price_fen": pl.Int64(),
    "quantity": pl.Int32(),
    "selfpay_ratio": pl.String(),
    "price_limit_fen": pl.Int64(),
    "item_date": pl.Date(),
    "fraud_label": pl.String(),
}

# the largest quantity LINES_SCHEMA's Int32 column holds (the claim file's has no bound of
# its own: 0.01 yuan × 3,000,000,000 is within a claim's limit)
MAX_QUANTITY = 2**31 - 1

CLAIM_FIELDS = (
    "claim_id",
    "date",
    "med_type",
    "hospital_level",
    "out_of_region",
    "referral",
    "admit_date",
    "discharge_date",
    "diagnoses",
    "disease",
    "institution",
)


UNNUMBERED = "must not be null (a claim's fields are read from its lowest line_no)"
# the claim fields each line repeats that tell one claim from another: lines of one claim
# that disagree on one are refused. Not the diagnoses: a list on every line, comparing them
# cost the batch ~10% more; a claim takes its first line's.
IDENTIFYING_CLAIM_FIELDS = tuple(
    name for name in CLAIM_FIELDS if name not in ("claim_id", "diagnoses")
)


def claim_disagreement(claim: dict, first_line_no: int, row: dict) -> str | None:
    """Why a line cannot belong to `claim` (built from its line `first_line_no`): the first
    identifying claim field whose copy on this line differs — most likely two claims given one
    claim_id, which merged would settle as one claim of the first one's date and type."""
    for name in IDENTIFYING_CLAIM_FIELDS:
        if row[name] != claim[name]:
            return (
                f"claim {claim['id']}: {name}: its lines disagree ({_shown(claim[name])} on "
                f"line_no {first_line_no}, {_shown(row[name])} on line_no {row['line_no']}): "
                "two claims under one claim_id? Give each claim its own"
            )
    return None


def _shown(value: object) -> str:
    return "null" if value is None else str(value)


def listed_twice(persons: pl.DataFrame, column: str = "person_id") -> pl.Series:
    """The person ids (`column`) of more than one persons row, each once, sorted; a null id
    is no person's."""
    ids = persons.get_column(column)
    return ids.filter(ids.is_duplicated()).drop_nulls().unique().sort()


def unbatchable(files: Iterable[ClaimFile]) -> str | None:
    """Why a `.jsonl` of claim files cannot go through the tables (the first line that holds
    what they have no column for), or None. Dropping it would settle other numbers than
    `yibao settle` does, and `--verify` would not see it."""
    for i, cf in enumerate(files, 1):
        if (field := next(_without_column(cf), None)) is not None:
            return (
                f"line {i}: {field}: the batch tables have no column for it (a fractional "
                f"quantity or one above {MAX_QUANTITY:,}, a carried-in year-to-date, family "
                "accounts, acct_used false); settle such persons with `yibao settle`"
            )
    return None


def _without_column(cf: ClaimFile) -> Iterator[str]:
    """The paths of what `cf` holds that the tables cannot."""
    if cf.person.ytd is not None:
        yield "person.ytd"
    if cf.person.family_accounts:
        yield "person.family_accounts"
    yield from (f"claims[{k}].acct_used" for k, c in enumerate(cf.claims) if not c.acct_used)
    for k, claim in enumerate(cf.claims):
        for n, item in enumerate(claim.items):
            if item.quantity != int(item.quantity) or item.quantity > MAX_QUANTITY:
                yield f"claims[{k}].items[{n}].quantity"


def claim_files_to_frames(files: Iterable[ClaimFile]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Claim files → (persons, claim_lines). Quantities must be whole numbers that fit the
    Int32 column (`unbatchable` names the line of one that does not)."""
    persons, lines = [], []
    for cf in files:
        p = cf.person
        persons.append(
            {
                "person_id": p.id,
                "region": cf.region,
                "scheme": p.scheme,
                "employment": p.employment,
                "categories": sorted(p.categories),
                "birth_date": p.birth_date,
                "sex": p.sex,
                "account_balance_fen": p.account_balance,
                "flags": sorted(p.flags),
                "products": sorted(p.products),
                "death_date": None,
                "enrolled_until": None,
            }
        )
        for claim in cf.claims:
            head = {
                "person_id": p.id,
                "claim_id": claim.id,
                "date": claim.date,
                "med_type": claim.med_type,
                "hospital_level": claim.hospital_level,
                "out_of_region": claim.out_of_region,
                "referral": claim.referral,
                "admit_date": claim.admit_date,
                "discharge_date": claim.discharge_date,
                "diagnoses": list(claim.diagnoses),
                "disease": claim.disease,
                "institution": claim.institution,
            }
            for n, item in enumerate(claim.items, 1):
                if item.quantity != int(item.quantity) or item.quantity > MAX_QUANTITY:
                    raise ValueError(
                        f"{claim.id}: tables hold whole quantities up to {MAX_QUANTITY:,} only"
                    )
                lines.append(
                    {
                        **head,
                        "line_no": n,
                        "code": item.code,
                        "name": item.name,
                        "category": item.category,
                        "price_fen": item.price,
                        "quantity": int(item.quantity),
                        "selfpay_ratio": None
                        if item.selfpay_ratio is None
                        else str(item.selfpay_ratio),
                        "price_limit_fen": item.price_limit,
                        "item_date": item.date,
                        "fraud_label": None,
                    }
                )
    return (pl.DataFrame(persons, schema=PERSONS_SCHEMA), pl.DataFrame(lines, schema=LINES_SCHEMA))


def frames_to_claim_files(persons: pl.DataFrame, lines: pl.DataFrame) -> list[ClaimFile]:
    """(persons, claim_lines) → claim files, one per person, as `yibao settle` reads them.
    A claim takes its fields from its line with the lowest `line_no`; a line without a
    `line_no`, or whose copy of an identifying claim field differs from that line's, is a
    ValueError naming the claim (`claim_disagreement`)."""
    by_person: dict[str, dict[str, dict]] = defaultdict(dict)
    first_line_no: dict[tuple[str, str], int] = {}
    for row in lines.sort(["person_id", "claim_id", "line_no"]).iter_rows(named=True):
        if row["line_no"] is None:
            raise ValueError(f"claim {row['claim_id']}: line_no: {UNNUMBERED}")
        claims = by_person[row["person_id"]]
        claim = claims.get(row["claim_id"])
        if claim is None:
            claim = claims[row["claim_id"]] = {
                "id": row["claim_id"],
                **{k: row[k] for k in CLAIM_FIELDS if k != "claim_id"},
                "hospital_level": row["hospital_level"],
                "items": [],
            }
            first_line_no[row["person_id"], row["claim_id"]] = row["line_no"]
        else:
            first = first_line_no[row["person_id"], row["claim_id"]]
            if (problem := claim_disagreement(claim, first, row)) is not None:
                raise ValueError(problem)
        item = {
            "code": row["code"],
            "name": row["name"],
            "category": row["category"],
            "price": None if row["price_fen"] is None else fen_to_yuan(row["price_fen"]),
            "quantity": row["quantity"],
            "date": row["item_date"],
        }
        if row["selfpay_ratio"] is not None:
            item["selfpay_ratio"] = row["selfpay_ratio"]
        if row["price_limit_fen"] is not None:
            item["price_limit"] = fen_to_yuan(row["price_limit_fen"])
        claim["items"].append(item)
    files = []
    for p in persons.iter_rows(named=True):
        person = {
            "id": p["person_id"],
            "scheme": p["scheme"],
            "employment": p["employment"],
            "categories": p["categories"] or [],
            "birth_date": p["birth_date"],
            "sex": p["sex"],
            "account_balance": fen_to_yuan(p["account_balance_fen"] or 0),
            "flags": p["flags"] or [],
            "products": p["products"] or [],
        }
        claims = list(by_person.get(p["person_id"], {}).values())
        if claims:
            files.append(
                ClaimFile.model_validate(
                    {"region": p["region"], "person": person, "claims": claims}
                )
            )
    return files
