"""Planted-fraud evaluation: per-rule precision and recall of the supervision rules.

`yibao synth` plants each fraud pattern with a label named like the rule that should find it
(`claim_lines.fraud_label`). A claim counts as *planted* for a rule when one of its lines carries
the rule's label, and as *flagged* when a flag of that rule names it in `claim_ids`; precision
and recall are over (person, claim) pairs. Money: *planted* is the amount of the labelled lines,
*found* the part of it on lines that a flag of the rule lists, *at risk* the flags' own
`amount_at_risk_fen` (what the rule says the fund may have lost).

Institution-level fraud has no line label: `yibao synth` names its fraudulent hospitals
(`Generator.fraudulent`) and `institution_ranking` checks where the outlier score ranks them
(the target: all in the top decile of the scored institutions).

    python -m yibao.supervision.evaluate [--region qingdao] [--persons 20000] [--rate 0.05]
"""

from __future__ import annotations

import argparse

import polars as pl

from yibao.money import yuan_str
from yibao.supervision.engine import prepare, supervise_pass, supervise_tables
from yibao.supervision.institutions import indicators, scores
from yibao.supervision.params import rules_for

PLANTED_RULES = (
    "split_hospitalization",
    "bed_hanging",
    "charge_outside_stay",
    "over_price_limit",
    "duplicate_charge",
    "sex_age_mismatch",
    "pharmacy_non_medical",
    "drug_substitution",
    "disease_substitution",
    "low_standard_admission",
    "two_places_one_day",
    "over_frequency",
    "overlapping_stays",
    "deceased_person",
    "unenrolled_person",
)
INSTITUTION_RULE = "institution_outlier"  # no claims: measured by `institution_ranking`


def evaluate(
    persons: pl.DataFrame, lines: pl.DataFrame, flags: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per rule: planted / flagged / true-positive claims, precision, recall, money
    (`flags`: the flags of these tables if already computed)."""
    if flags is None:
        flags = supervise_tables(persons, lines)
    flags = flags.filter(pl.col("rule") != INSTITUTION_RULE)
    if "amount_fen" not in lines.columns:
        amount = (pl.col("price_fen") * pl.col("quantity").cast(pl.Float64)).round(0)
        lines = lines.with_columns(amount_fen=amount.cast(pl.Int64))
    claim = ["rule", "person_id", "claim_id"]
    planted = (
        lines.filter(pl.col("fraud_label").is_not_null())
        .select(rule="fraud_label", person_id="person_id", claim_id="claim_id")
        .unique()
    )
    flagged = flags.select("rule", "person_id", claim_id="claim_ids").explode("claim_id").unique()
    hits = planted.join(flagged, on=claim)
    flagged_lines = (
        flags.select("rule", "person_id", "lines")
        .explode("lines")
        .select("rule", "person_id", pl.col("lines").struct.field("claim_id", "line_no"))
        .unique()
    )
    labelled = lines.filter(pl.col("fraud_label").is_not_null()).select(
        "person_id", "claim_id", "line_no", "amount_fen", rule="fraud_label"
    )
    found = labelled.join(flagged_lines, on=["rule", "person_id", "claim_id", "line_no"])
    counts = [
        planted.group_by("rule").agg(planted=pl.len()),
        flagged.group_by("rule").agg(flagged=pl.len()),
        hits.group_by("rule").agg(true_positive=pl.len()),
        labelled.group_by("rule").agg(planted_fen=pl.col("amount_fen").sum()),
        found.group_by("rule").agg(found_fen=pl.col("amount_fen").sum()),
        flags.group_by("rule").agg(at_risk_fen=pl.col("amount_at_risk_fen").sum()),
    ]
    rules = sorted(set(PLANTED_RULES) | set(flags.get_column("rule").to_list()))
    table = pl.DataFrame({"rule": rules})
    for part in counts:
        table = table.join(part, on="rule", how="left")
    table = table.with_columns(pl.exclude("rule").fill_null(0).cast(pl.Int64))
    return table.with_columns(
        precision=pl.col("true_positive") / pl.col("flagged"),
        recall=pl.col("true_positive") / pl.col("planted"),
    ).select(
        "rule",
        "planted",
        "flagged",
        "true_positive",
        "precision",
        "recall",
        "planted_fen",
        "found_fen",
        "at_risk_fen",
    )


def institution_ranking(
    persons: pl.DataFrame, lines: pl.DataFrame, planted: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Every scored institution (all regions), highest score first: its rank, indicators,
    score, whether it was planted as fraudulent and whether it is in the top decile."""
    prepared = prepare(persons, lines)
    tables = {}
    for region in prepared.get_column("region").unique().drop_nulls().sort():
        rule = rules_for(region)[INSTITUTION_RULE]
        tables[region] = indicators(prepared.filter(pl.col("region") == region), rule)
    return ranking(tables, planted)


def ranking(tables: dict[str, pl.DataFrame], planted: tuple[str, ...] = ()) -> pl.DataFrame:
    """`institution_ranking` from the indicators of each region (`Supervised.indicators`)."""
    frames = []
    for region, table in sorted(tables.items()):
        rule = rules_for(region)[INSTITUTION_RULE]
        scored = scores(table, rule)
        if scored.height:
            keep = ["institution", "level", "admissions", "avg_cost_fen", "peer_avg_cost_fen"]
            keep += ["readmission_rate", "bc_share", "score"]
            frames.append(scored.select(keep).with_columns(region=pl.lit(region)))
    if not frames:
        return pl.DataFrame()
    table = pl.concat(frames).sort(["score", "institution"], descending=[True, False])
    decile = -(-table.height // 10)  # ceil(n / 10)
    rank = pl.int_range(1, pl.len() + 1)
    return table.with_columns(
        rank=rank,
        planted=pl.col("institution").is_in(list(planted)),
        top_decile=rank <= decile,
    )


def synth_and_evaluate(region: str, persons: int, year: int, seed: int, rate: float):
    """(per-rule table, institution ranking, planted institutions) of a generated population
    with planted fraud (one supervision pass for both)."""
    from yibao.synth.generate import Generator, Options, generate

    options = Options(region, persons, year, seed, rate)
    people, lines = generate(options)
    planted = Generator(options).fraudulent
    found = supervise_pass(people, lines)
    return evaluate(people, lines, found.flags), ranking(found.indicators, planted), planted


def render_ranking(ranking: pl.DataFrame, fraudulent: tuple[str, ...] = (), show: int = 12) -> str:
    """The top of the institution ranking and where the planted institutions are."""
    if ranking.height == 0:
        return "institutions: none scored (too few admissions or peers)"
    planted = ranking.filter("planted")
    unscored = sorted(set(fraudulent) - set(planted["institution"]))
    decile = ranking.filter("top_decile").height
    lines = [
        f"institutions scored: {ranking.height}, top decile: {decile}, planted fraudulent "
        f"scored: {planted.height}, of them in the top decile: {planted['top_decile'].sum()} "
        f"(ranks {planted['rank'].to_list()})"
        + (f"; planted but not scored (too few stays): {unscored}" if unscored else ""),
        f"{'rank':>4}  {'institution':<16}{'level':>6}{'stays':>7}{'avg cost ¥':>12}"
        f"{'peers ¥':>10}{'readmit':>9}{'B/C':>7}{'score':>8}  planted",
    ]
    for r in ranking.head(show).iter_rows(named=True):
        lines.append(
            f"{r['rank']:>4}  {r['institution']:<16}{r['level'] or '-':>6}{r['admissions']:>7}"
            f"{r['avg_cost_fen'] // 100:>12,}{r['peer_avg_cost_fen'] // 100:>10,}"
            f"{r['readmission_rate']:>9.3f}{r['bc_share']:>7.3f}{r['score']:>8.1f}  "
            + ("yes" if r["planted"] else "")
        )
    return "\n".join(lines)


def render(table: pl.DataFrame) -> str:
    head = (
        f"{'rule':<24}{'planted':>8}{'flagged':>8}{'TP':>6}{'precision':>10}{'recall':>8}"
        f"{'planted ¥':>16}{'found ¥':>16}{'at risk ¥':>16}"
    )
    rows = [head, "-" * len(head)]
    for r in table.iter_rows(named=True):

        def pct(x):
            return "     -" if x is None or x != x else f"{x:6.3f}"

        rows.append(
            f"{r['rule']:<24}{r['planted']:>8}{r['flagged']:>8}{r['true_positive']:>6}"
            f"{pct(r['precision']):>10}{pct(r['recall']):>8}"
            f"{yuan_str(r['planted_fen']):>16}{yuan_str(r['found_fen']):>16}"
            f"{yuan_str(r['at_risk_fen']):>16}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="qingdao")
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=0.05)
    args = parser.parse_args(argv)
    table, ranking, planted = synth_and_evaluate(
        args.region, args.persons, args.year, args.seed, args.rate
    )
    print(
        f"{args.region} {args.year}, {args.persons} persons, fraud rate {args.rate}, "
        f"seed {args.seed}"
    )
    print(render(table))
    print()
    print(render_ranking(ranking, planted))


if __name__ == "__main__":
    main()
