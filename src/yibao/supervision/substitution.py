"""Drug and disease substitution (串换药品 / 串换病种): what is billed does not fit the diagnosis.

- `drug_substitution`: a drug of a class that `rules.yaml` maps to ICD-10 chapters / blocks
  (`drug_classes`) billed on a claim none of whose diagnoses is in them — the drug dispensed is
  not the one billed, or was billed for someone else's illness.
- `disease_substitution`: a chronic / special-disease outpatient claim settled under a disease
  of the region's policy lists (`disease`) whose ICD-10 prefixes (the policy's own mapping, with
  its provenance) none of the claim's diagnoses starts with — the claim was moved to a special
  disease it is not for, usually one that pays more.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from yibao.policy.loader import load_region, packaged_regions
from yibao.supervision.common import STAY_KEYS, core, empty, evidence
from yibao.supervision.params import Rule


def _drug_class(classes: dict[str, list[str]]) -> pl.Expr:
    """The class (code prefix) of a line's code, the longest matching prefix winning."""
    prefixes = sorted(classes, key=lambda p: (-len(p), p))
    expr = pl.when(pl.col("code").str.starts_with(prefixes[0])).then(pl.lit(prefixes[0]))
    for prefix in prefixes[1:]:
        expr = expr.when(pl.col("code").str.starts_with(prefix)).then(pl.lit(prefix))
    return expr.otherwise(pl.lit(None, pl.String))


def _any_diagnosis(prefixes: list[str]) -> pl.Expr:
    starts = pl.any_horizontal(pl.element().str.starts_with(p) for p in prefixes)
    return pl.col("diagnoses").list.eval(starts).list.any().fill_null(False)


def drug_substitution(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """A drug billed on a claim whose diagnoses are outside every chapter its class treats."""
    classes, med_types = rule.p("drug_classes"), rule.p("med_types")
    listed = pl.any_horizontal(pl.col("code").str.starts_with(p) for p in classes)
    found = lines.filter(
        pl.col("med_type").is_in(med_types),
        pl.col("diagnoses").list.len() > 0,
        listed.fill_null(False),
    ).with_columns(drug_class=_drug_class(classes))
    consistent = pl.lit(False)
    for prefix, chapters in classes.items():
        consistent = consistent | ((pl.col("drug_class") == prefix) & _any_diagnosis(chapters))
    found = found.filter(~consistent)
    if found.height == 0:
        return empty()
    expected = pl.col("drug_class").replace_strict(
        {p: "/".join(c) for p, c in classes.items()}, return_dtype=pl.String
    )
    per_claim = (
        found.sort([*STAY_KEYS, "line_no"])
        .group_by(STAY_KEYS, maintain_order=True)
        .agg(
            institution=pl.col("institution").first(),
            diagnoses=pl.col("diagnoses").first(),
            lines=pl.col("line"),
            drugs=pl.format("{} (class {}: {})", "code", "drug_class", expected),
            amount=pl.col("amount_fen").sum(),
        )
    )
    return core(
        per_claim.select(
            "person_id",
            "institution",
            claim_ids=pl.concat_list("claim_id"),
            lines="lines",
            evidence=evidence(
                measure=pl.lit("lines_inconsistent_with_diagnoses"),
                value=pl.col("drugs").list.len(),
                threshold=pl.lit(0),
                comparison=pl.lit(">"),
                diagnoses=pl.col("diagnoses"),
                drugs=pl.col("drugs"),
            ),
            amount_at_risk_fen="amount",
        )
    )


@cache
def disease_icd(region: str, med_types: tuple[str, ...]) -> pl.DataFrame:
    """(disease code, ICD-10 prefix) of every disease listed by a benefit for `med_types` in the
    region's policy (all versions and schemes), its `named_with` prefixes too; codes listed
    without ICD prefixes are left out, as they cannot be judged."""
    rows: set[tuple[str, str]] = set()
    if region in packaged_regions():
        for version in load_region(region).versions:
            for scheme in version.schemes.values():
                for benefit in scheme.pooling.benefits:
                    match = benefit.match
                    if match is None or match.diseases is None:
                        continue
                    if not set(benefit.med_types) & set(med_types):
                        continue
                    rows |= {
                        (d.code, icd)
                        for d in match.diseases.items
                        for icd in (*d.icd, *d.named_with)
                    }
    return pl.DataFrame(sorted(rows), schema={"disease": pl.String, "icd": pl.String}, orient="row")


def disease_substitution(lines: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """A special-disease claim whose diagnoses are outside the ICD prefixes of its disease."""
    med_types = rule.p("med_types")
    claims = lines.filter(
        pl.col("med_type").is_in(med_types),
        pl.col("disease").is_not_null(),
        pl.col("diagnoses").list.len() > 0,  # without a diagnosis there is nothing to compare
    )
    if claims.height == 0:
        return empty()
    icd = disease_icd(claims.get_column("region")[0], tuple(med_types))
    per_claim = (
        claims.sort([*STAY_KEYS, "line_no"])
        .group_by(STAY_KEYS, maintain_order=True)
        .agg(
            institution=pl.col("institution").first(),
            disease=pl.col("disease").first(),
            diagnoses=pl.col("diagnoses").first(),
            lines=pl.col("line"),
            amount=pl.col("amount_fen").sum(),
        )
        .join(icd.group_by("disease").agg(icd=pl.col("icd").sort()), on="disease", how="inner")
    )
    pairs = per_claim.select(*STAY_KEYS, "icd", dx="diagnoses").explode("dx").explode("icd")
    fits = (
        pairs.filter(pl.col("dx").str.starts_with(pl.col("icd")).fill_null(False))
        .select(STAY_KEYS)
        .unique()
    )
    found = per_claim.join(fits, on=list(STAY_KEYS), how="anti", maintain_order="left")
    return core(
        found.select(
            "person_id",
            "institution",
            claim_ids=pl.concat_list("claim_id"),
            lines="lines",
            evidence=evidence(
                measure=pl.lit("diagnoses_matching_the_disease"),
                value=pl.lit(0),
                threshold=pl.lit(0),
                comparison=pl.lit("=="),
                disease=pl.col("disease"),
                disease_icd=pl.col("icd"),
                diagnoses=pl.col("diagnoses"),
            ),
            amount_at_risk_fen="amount",
        )
    )
