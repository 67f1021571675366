"""Institution-level indicators against the peer group, with a robust outlier score.

Per institution (within one region): the average cost per admission (fen), the readmission
rate (stays admitted within `readmission_days` of a discharge of the same person at the same
institution) and the share of the billed amount on 乙/丙 (B/C) items. Institutions with at
least `min_admissions` stays are compared with the others of the same region and hospital
level and area (the first `peer_area_chars` characters of the institution code: the 行政区划
of a 定点医药机构编号; a group needs `min_peers`): each indicator becomes a robust z-score,
(value − peer median) / max(1.4826 × MAD, floor), and the score is the sum of the positive
ones (only "higher than the peers" is suspicious). An institution whose score reaches
`min_score` is flagged (`person_id` null, no claims or lines, the indicators, peer medians and
z-scores in the evidence). Scores are floats (not money); money stays integer fen.
"""

from __future__ import annotations

import json
from fractions import Fraction

import polars as pl

from yibao.supervision.common import (
    FLAG_SCHEMA,
    core,
    empty,
    readmitted,
    stays,
    with_previous_stay,
)
from yibao.supervision.params import Rule

MAD_SCALE = 1.4826  # float-ok: makes the MAD of a normal sample estimate its sigma
INDICATORS = ("avg_cost_fen", "readmission_rate", "bc_share")


def indicators(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """One row per institution with stays: level, admissions and the three indicators."""
    return combine([partial(lines, rule)])


Partial = tuple[pl.DataFrame, pl.DataFrame]


def partial(lines: pl.DataFrame, rule: Rule) -> Partial:
    """The sums behind `indicators` over some persons' lines: (per institution: admissions,
    stay amount, readmissions; per institution and hospital level: lines, amount, B/C amount).
    A readmission needs only the person's own stays, so the sums of person partitions add up
    to those of all the lines (`combine`). Lines of an unknown institution are nobody's:
    neither scored nor a peer (a flag would name no one to inspect)."""
    window, classes = rule.p("readmission_days"), rule.p("bc_categories")
    lines = lines.filter(pl.col("institution").is_not_null())
    s = with_previous_stay(stays(lines), "discharge", "institution")
    per_stay = s.with_columns(readmit=readmitted(window).fill_null(False))
    admissions = per_stay.group_by("institution").agg(
        admissions=pl.len(),
        stay_fen=pl.col("amount").sum(),
        readmissions=pl.col("readmit").sum(),
    )
    bc = pl.col("item_class").is_in(classes).fill_null(False)
    billed = lines.group_by("institution", "hospital_level").agg(
        n_lines=pl.len(),
        total_fen=pl.col("amount_fen").sum(),
        bc_fen=pl.col("amount_fen").filter(bc).sum(),
    )
    return admissions, billed


def combine(partials: list[Partial]) -> pl.DataFrame:
    """`indicators` from the `partial` sums of disjoint sets of persons."""
    admissions = (
        pl.concat([a for a, _ in partials])
        .group_by("institution")
        .agg(pl.col("admissions", "stay_fen", "readmissions").sum())
    )
    lines = pl.concat([b for _, b in partials])
    # the institution's most frequent hospital level over its lines (ties: the lowest)
    counted = lines.filter(pl.col("hospital_level").is_not_null())
    counted = counted.group_by("institution", "hospital_level").agg(n=pl.col("n_lines").sum())
    level = counted.sort(["institution", "n", "hospital_level"], descending=[False, True, False])
    level = level.group_by("institution").agg(level=pl.col("hospital_level").first())
    billed = (
        lines.group_by("institution")
        .agg(pl.col("total_fen", "bc_fen").sum())
        .join(level, on="institution", how="left")
        .select("institution", "level", "total_fen", "bc_fen")
    )
    both = admissions.join(billed, on="institution", how="left")
    n = pl.col("admissions")
    return both.with_columns(
        avg_cost_fen=(2 * pl.col("stay_fen") + n) // (2 * n),  # half-up on positive integers
        readmission_rate=pl.col("readmissions") / n,  # float-ok: a rate
        bc_share=pl.when(pl.col("total_fen") > 0).then(  # float-ok: a share of the amount
            pl.col("bc_fen") / pl.col("total_fen")
        ),
    ).sort("institution")


def _median(values: list) -> Fraction:
    ordered = sorted(Fraction(v) for v in values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _half_up(value: Fraction) -> int:
    return int((value * 2 + 1) // 2)


def scores(table: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """The eligible institutions of `indicators` with peer medians, z-scores and the score."""
    fewest, peers_needed = rule.p("min_admissions"), rule.p("min_peers")
    area = pl.col("institution").str.slice(0, rule.p("peer_area_chars") or None)
    floor_share, floor_rate = rule.p("mad_floor_share"), rule.p("mad_floor_rate")
    eligible = table.filter(pl.col("admissions") >= fewest, pl.col("bc_share").is_not_null())
    eligible = eligible.with_columns(area=area)
    rows = []
    for _, group in eligible.group_by(["area", "level"], maintain_order=True):
        if group.height < peers_needed:
            continue
        columns = {name: group.get_column(name).to_list() for name in INDICATORS}
        medians, spreads = {}, {}
        for name, values in columns.items():
            med = _median(values)
            mad = _median([abs(Fraction(v) - med) for v in values])
            floor = (
                float(med) * floor_share if name == "avg_cost_fen" else floor_rate
            )  # float-ok: a spread
            medians[name] = med
            spreads[name] = max(MAD_SCALE * float(mad), floor, 1e-9)  # float-ok: a z-score
        for row in group.iter_rows(named=True):
            z = {
                n: (float(row[n]) - float(medians[n])) / spreads[n] for n in INDICATORS
            }  # float-ok
            row |= {
                "peers": group.height,
                "peer_avg_cost_fen": _half_up(medians["avg_cost_fen"]),
                "peer_readmission_rate": float(medians["readmission_rate"]),  # float-ok: a rate
                "peer_bc_share": float(medians["bc_share"]),  # float-ok: a share
                **{f"z_{n}": z[n] for n in INDICATORS},
                "score": sum(max(v, 0.0) for v in z.values()),  # float-ok: a score
            }
            rows.append(row)
    if not rows:
        return pl.DataFrame()
    return pl.DataFrame(rows).sort(["score", "institution"], descending=[True, False])


def _flag_evidence(row: dict, threshold: float) -> str:
    def r4(x: float) -> float:
        return round(x, 4)  # float-ok: rates and scores shown, not money

    return json.dumps(
        {
            "measure": "robust_z_score_sum",
            "value": round(row["score"], 2),
            "threshold": threshold,
            "comparison": ">=",
            "level": row["level"],
            "admissions": row["admissions"],
            "peers": row["peers"],
            "indicators": {
                "avg_cost_per_admission_fen": row["avg_cost_fen"],
                "readmission_rate": r4(row["readmission_rate"]),
                "bc_share": r4(row["bc_share"]),
            },
            "peer_medians": {
                "avg_cost_per_admission_fen": row["peer_avg_cost_fen"],
                "readmission_rate": r4(row["peer_readmission_rate"]),
                "bc_share": r4(row["peer_bc_share"]),
            },
            "z": {n: round(row[f"z_{n}"], 2) for n in INDICATORS},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def institution_outlier(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """Institutions whose score against their peers reaches `min_score`."""
    return outlier_flags(indicators(lines, rule), rule)


def outlier_flags(table: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """The institutions of an `indicators` table whose score reaches `min_score`."""
    threshold = rule.p("min_score")
    scored = scores(table, rule)
    if scored.height == 0:
        return empty()
    found = scored.filter(pl.col("score") >= threshold)
    rows = [
        {
            "person_id": None,
            "institution": row["institution"],
            "claim_ids": [],
            "lines": [],
            "evidence": _flag_evidence(row, threshold),
            # the stays' cost above the peers' average cost, over all the admissions
            "amount_at_risk_fen": max(
                0, row["stay_fen"] - row["peer_avg_cost_fen"] * row["admissions"]
            ),
        }
        for row in found.iter_rows(named=True)
    ]
    schema = {k: FLAG_SCHEMA[k] for k in ("person_id", "institution", "claim_ids", "lines")}
    schema |= {"evidence": pl.String(), "amount_at_risk_fen": pl.Int64()}
    return core(pl.DataFrame(rows, schema=schema)) if rows else empty()
