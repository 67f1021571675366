"""The per-claim engine inside a partition: persons a columnar rule cannot settle exactly.

FALLBACK — correct by construction, slower: the persons' rows become claim files
(`frames_to_claim_files`, as `yibao settle` would read them) and go through
`engine.settle.settle_history`. A person whose rows the claim-file model refuses, or
whose claims no policy version covers, is reported with the engine's one-line reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl
from pydantic import ValidationError

from yibao.batch.output import RESULT_SCHEMA, settlement_row
from yibao.batch.tables import frames_to_claim_files, listed_twice
from yibao.catalog.model import Catalog
from yibao.engine.inputs import ClaimFile
from yibao.engine.settle import SettlementError, settle_history
from yibao.errors import first_error
from yibao.policy.loader import unknown_region
from yibao.policy.schema import RegionPolicy

LISTED_TWICE = "person_id: listed more than once in persons"


def without_twice_listed(persons: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """The persons listed once, and an error for each id listed more than once."""
    twice = listed_twice(persons)
    errors = [(pid, LISTED_TWICE) for pid in twice]
    return persons.filter(~pl.col("person_id").is_in(twice.implode())), errors


def settle_through_engine(
    persons: pl.DataFrame,
    lines: pl.DataFrame,
    policies: Mapping[str, RegionPolicy],
    catalogs: Mapping[str, Mapping[str, Catalog]],
    unknown_regions: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """(result rows, [(person_id, error)]) for every person of `persons` with claims."""
    rows: list[dict] = []
    persons, errors = without_twice_listed(persons)
    for person_id, claim_file, error in _claim_files(persons, lines):
        if error is not None:
            errors.append((person_id, error))
            continue
        region = claim_file.region
        if region not in policies:
            reason = (unknown_regions or {}).get(region, unknown_region(region))
            errors.append((person_id, f"region: {reason}"))
            continue
        try:
            settlements, _ = settle_history(claim_file, policies[region], catalogs[region])
        except SettlementError as exc:
            errors.append((person_id, str(exc)))
            continue
        dates = {claim.id: claim.date for claim in claim_file.claims}
        rows.extend(settlement_row(region, person_id, dates[s.claim_id], s) for s in settlements)
    return pl.DataFrame(rows, schema=RESULT_SCHEMA), errors


_CLAIM_PATH = re.compile(r"^claims\[(\d+)\](?:\.items\[(\d+)\])?\.?")


def table_path(message: str, lines: pl.DataFrame) -> str:
    """A claim-file error path (`claims[2].items[1].price: ...`) in the tables' terms
    (`claim C0003 line_no 2: price: ...`): claims and items are in (claim_id, line_no) order."""
    found = _CLAIM_PATH.match(message)
    if found is None:
        return message
    ordered = lines.select("claim_id", "line_no").sort("claim_id", "line_no")
    claim_ids = ordered.get_column("claim_id").unique(maintain_order=True)
    k, n = int(found[1]), found[2]
    if k >= claim_ids.len():
        return message
    claim_id = claim_ids[k]
    where = f"claim {claim_id}"
    if n is not None:
        numbers = ordered.filter(pl.col("claim_id") == claim_id).get_column("line_no")
        where += f" line_no {numbers[int(n)]}" if int(n) < numbers.len() else ""
    rest = message[found.end() :]
    return f"{where}: {rest}" if not rest.startswith(":") else f"{where}{rest}"


def _claim_files(persons: pl.DataFrame, lines: pl.DataFrame):
    """(person_id, claim file or None, error or None): all at once, one by one on an error."""
    try:
        files = frames_to_claim_files(persons, lines)
    except (TypeError, ValueError, ArithmeticError):
        files = None
    if files is not None:
        for claim_file in files:
            yield claim_file.person.id, claim_file, None
        return
    for person in persons.iter_slices(1):
        pid = person.item(0, "person_id")
        mine = lines.filter(pl.col("person_id") == pid)
        try:
            found: list[ClaimFile] = frames_to_claim_files(person, mine)
        except ValidationError as exc:
            yield pid, None, table_path(first_error(exc), mine)
            continue
        except (TypeError, ValueError, ArithmeticError) as exc:
            yield pid, None, str(exc)
            continue
        for claim_file in found:
            yield pid, claim_file, None
