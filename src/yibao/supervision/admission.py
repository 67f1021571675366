"""Low-standard admission (低标准入院): outpatient care billed as an inpatient stay.

A stay fires when it is short (`max_stay_days`), cheap (`max_total`), every diagnosis is a
condition treated as an outpatient (`outpatient_icd_prefixes`) and it bills none of the
procedures or implants that need a bed (`inpatient_codes`): the four together describe care a
clinic gives, admitted so that it is paid at the inpatient ratios (诱导住院, EH-39).
"""

from __future__ import annotations

import polars as pl

from yibao.supervision.common import STAY_KEYS, core, days, evidence, stays
from yibao.supervision.params import Rule


def low_standard_admission(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """A short, cheap stay for outpatient conditions with only outpatient-type items."""
    longest, most = rule.p("max_stay_days"), rule.fen("max_total")
    prefixes, codes = rule.p("outpatient_icd_prefixes"), rule.p("inpatient_codes")
    minor = pl.any_horizontal(pl.element().str.starts_with(p) for p in prefixes)
    all_minor = pl.col("diagnoses").list.eval(minor).list.all().fill_null(False)
    treated = lines.filter("is_stay", pl.col("code").is_in(codes)).select(STAY_KEYS).unique()
    found = (
        stays(lines)
        .with_columns(length=days(pl.col("discharge") - pl.col("admit")))
        .filter(
            pl.col("length") <= longest,
            pl.col("amount") <= most,
            pl.col("diagnoses").list.len() > 0,
            all_minor,
        )
        .join(treated, on=list(STAY_KEYS), how="anti", maintain_order="left")
    )
    return core(
        found.select(
            "person_id",
            "institution",
            claim_ids=pl.concat_list("claim_id"),
            lines="lines",
            evidence=evidence(
                measure=pl.lit("stay_days"),
                value=pl.col("length"),
                threshold=pl.lit(longest),
                comparison=pl.lit("<="),
                total_fen=pl.col("amount"),
                max_total_fen=pl.lit(most),
                diagnoses=pl.col("diagnoses"),
                admit_date=pl.col("admit").cast(pl.String),
                discharge_date=pl.col("discharge").cast(pl.String),
            ),
            amount_at_risk_fen="amount",
        )
    )
