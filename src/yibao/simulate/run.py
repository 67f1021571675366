"""`simulate`: the one service function behind `yibao simulate` — settle twice, measure."""

from __future__ import annotations

from pathlib import Path

from yibao.batch.run import JSONL_FILE, PERSONS_FILE
from yibao.simulate.assumptions import Assumptions
from yibao.simulate.measures import (
    burden_tables,
    catastrophic,
    fund_outlay,
    headline,
    overlay_info,
    policy_changes,
    projection,
    winners_losers,
)
from yibao.simulate.paired import Paired, settle_pair


def population_notes(paired: Paired) -> list[str]:
    """What the reader must know about the population counted."""
    notes = []
    if paired.claims_without_person:
        notes.append(
            f"{paired.claims_without_person:,} claims left out: their person_id is in no "
            f"{PERSONS_FILE} row (or null), so their region is unknown"
        )
    if not paired.from_claim_files:
        return notes
    return notes + [
        f"{JSONL_FILE} holds only persons with claims: per-capita figures, deciles, shares and "
        f"contribution income count those persons alone (use the {PERSONS_FILE} tables for "
        "the whole insured population)"
    ]


def simulate(directory: Path, region: str, overlay: Path, assumptions: Assumptions) -> dict:
    """Baseline vs reform on the same population: every measure, as a JSON-ready dict
    (money in yuan as exact Decimals)."""
    paired = settle_pair(directory, region, overlay)
    outlay = fund_outlay(paired)
    winners = winners_losers(paired.persons)
    return {
        "region": region,
        "data": str(directory),
        "reform": overlay_info(overlay),
        "headline": headline(outlay, winners),
        "population": {
            "persons": paired.persons.height,
            "persons_with_claims": int((paired.persons["claims"] > 0).sum()),
            "claims": paired.claims,
            "policy_versions": paired.versions,
            "refused_persons": len(paired.refused),
            "unpaired_claims": paired.unpaired_claims,
            "claims_without_person": paired.claims_without_person,
            "notes": population_notes(paired),
        },
        "outlay": outlay,
        "burden": burden_tables(paired.persons, assumptions),
        "catastrophic": catastrophic(paired.persons, assumptions),
        "winners_losers": winners,
        "projection": projection(paired, assumptions),
        "policy_changes": policy_changes(region, overlay, paired.versions),
    }
