"""`simulate`: the one service function behind `yibao simulate` — settle twice, measure."""

from __future__ import annotations

from pathlib import Path

from yibao.batch.run import JSONL_FILE, PERSONS_FILE
from yibao.simulate.assumptions import Assumptions
from yibao.simulate.measures import (
    burden_tables,
    catastrophic,
    data_period,
    difference_over,
    fund_outlay,
    headline,
    not_reached,
    overlay_info,
    policy_changes,
    projection,
    reform_reach,
    winners_losers,
)
from yibao.simulate.paired import Paired, settle_pair


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def refusal_notes(paired: Paired) -> list[str]:
    """Persons the engine refused and claims settled in one run only: left out of every
    figure, said first (a briefing silently missing a tenth of the patients misleads)."""
    notes = []
    if paired.refused:
        pid = min(paired.refused)
        notes.append(
            f"{_count(len(paired.refused), 'person')} refused by the engine (bad input, e.g. "
            f"{pid}: {paired.refused[pid]}) are left out of every figure — persons, per-capita "
            "burden, catastrophic rate, shares and contribution income; yibao batch lists "
            "every refusal"
        )
    if paired.unpaired_claims:
        notes.append(
            f"{_count(paired.unpaired_claims, 'claim')} settled in one run only left out of "
            "the amounts"
        )
    return notes


def reach_notes(start: str | None, period: dict | None, reach: str) -> list[str]:
    """A reform with a `from:` day reaches all, part or none of the data's claims."""
    if period is None:
        return ["no claim of the data was settled: nothing is priced"]
    if reach == "none":
        return [
            f"the reform starts on {start}, after the data's last claim "
            f"({period['last_claim']}): no claim is settled under it, so the figures do not "
            "price it (every difference is 0) and no change is listed as applied; run it on "
            f"data from {start} on, or without `from:` to price it on this data"
        ]
    if reach == "part":
        return [
            f"the reform starts on {start}, inside the data ({period['first_claim']} … "
            f"{period['last_claim']}): only the claims from that day are settled under it, so "
            "the differences are its effect on those claims, not a year's; the projection's "
            "reform outlay has it in force only from that day"
        ]
    return []


def period_notes(period: dict | None) -> list[str]:
    """Data that is not one year of claims: amounts are over the data, not per year."""
    if period is None or period["one_year"]:
        return []
    return [
        f"data covers {period['days']:,} days, {period['first_claim']} … "
        f"{period['last_claim']} ({period['months']} calendar months): amounts, per-capita "
        "burden and the catastrophic count (an annual threshold) are over the data, not per "
        f"year; the projection scales the data's outlay × 12/{period['months']} to a year "
        "(assumed: claims spread evenly over the year), which understates a year's outlay and "
        "the reform's cost: annual deductibles and caps start afresh at the data's first claim"
    ]


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
    reform = overlay_info(overlay)
    period = data_period(paired.first_day, paired.last_day)
    reach = reform_reach(reform["from"], period)
    outlay = fund_outlay(paired)
    over = difference_over(reform["from"], period, reach)
    outlay["difference_over"] = over
    winners = winners_losers(paired.persons)
    notes = [
        *refusal_notes(paired),
        *reach_notes(reform["from"], period, reach),
        *period_notes(period),
        *population_notes(paired),
    ]
    return {
        "region": region,
        "data": str(directory),
        "reform": reform | {"reaches": reach},
        "headline": headline(outlay, winners, over)
        if reach != "none"
        else not_reached(reform["from"], period),
        "population": {
            "persons": paired.persons.height,
            "persons_with_claims": int((paired.persons["claims"] > 0).sum()),
            "claims": paired.claims,
            "period": period,
            # every version either run settled a claim under; the reform run's own below
            "policy_versions": sorted({*paired.versions, *paired.reform_versions}),
            "baseline_policy_versions": paired.versions,
            "reform_policy_versions": paired.reform_versions,
            "refused_persons": len(paired.refused),
            "unpaired_claims": paired.unpaired_claims,
            "claims_without_person": paired.claims_without_person,
            "notes": notes,
        },
        "outlay": outlay,
        "burden": burden_tables(paired.persons, assumptions),
        "catastrophic": catastrophic(paired.persons, assumptions),
        "winners_losers": winners,
        "projection": projection(paired, assumptions, period),
        "policy_changes": policy_changes(region, overlay, paired.reform_versions),
    }
