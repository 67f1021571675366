"""Planted-fraud evaluation: per-rule precision and recall of the supervision rules.

`yibao synth` plants each fraud pattern with a label named like the rule that should find it
(`claim_lines.fraud_label`). A claim counts as *planted* for a rule when one of its lines carries
the rule's label, and as *flagged* when a flag of that rule names it in `claim_ids`; precision
and recall are over (person, claim) pairs. Money: *planted* is the amount of the labelled lines,
*found* the part of it on lines that a flag of the rule lists, *at risk* the flags' own
`amount_at_risk_fen` (what the rule says the fund may have lost).

    python -m yibao.supervision.evaluate [--region qingdao] [--persons 20000] [--rate 0.05]
"""

from __future__ import annotations

import argparse

import polars as pl

from yibao.supervision.engine import supervise_tables

PLANTED_RULES = (
    "split_hospitalization",
    "bed_hanging",
    "charge_outside_stay",
    "over_price_limit",
    "duplicate_charge",
    "sex_age_mismatch",
    "pharmacy_non_medical",
)


def evaluate(persons: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """One row per rule: planted / flagged / true-positive claims, precision, recall, money."""
    flags = supervise_tables(persons, lines)
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
        precision=(pl.col("true_positive") / pl.col("flagged")).round(4),
        recall=(pl.col("true_positive") / pl.col("planted")).round(4),
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


def synth_and_evaluate(region: str, persons: int, year: int, seed: int, rate: float):
    from yibao.synth.generate import Options, generate

    people, lines = generate(Options(region, persons, year, seed, rate))
    return evaluate(people, lines)


def render(table: pl.DataFrame) -> str:
    head = (
        f"{'rule':<24}{'planted':>8}{'flagged':>8}{'TP':>6}{'precision':>10}{'recall':>8}"
        f"{'planted ¥':>13}{'found ¥':>13}{'at risk ¥':>13}"
    )
    rows = [head, "-" * len(head)]
    for r in table.iter_rows(named=True):

        def pct(x):
            return "     -" if x is None or x != x else f"{x:6.3f}"

        rows.append(
            f"{r['rule']:<24}{r['planted']:>8}{r['flagged']:>8}{r['true_positive']:>6}"
            f"{pct(r['precision']):>10}{pct(r['recall']):>8}"
            f"{r['planted_fen'] / 100:>13,.2f}{r['found_fen'] / 100:>13,.2f}"
            f"{r['at_risk_fen'] / 100:>13,.2f}"
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
    table = synth_and_evaluate(args.region, args.persons, args.year, args.seed, args.rate)
    print(
        f"{args.region} {args.year}, {args.persons} persons, fraud rate {args.rate}, "
        f"seed {args.seed}"
    )
    print(render(table))


if __name__ == "__main__":
    main()
