"""Settle a partition of the tables: buckets → basic pooling → layers → accounts, columnar.

The chain mirrors `engine/settle.py` one step to one step. Each (policy version, scheme)
group of claims runs the named builders of its plan in the scheme's `layer_order`, on the
claims a basic benefit settled; year-to-date accumulators never cross a person-year, which
lies in one group (a year under two versions goes to the fallback), while the account
balance runs over the person's whole history after the groups are put back together.
Persons the columnar rules cannot settle exactly are settled by the per-claim engine in the
same partition (`fallback.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from yibao.batch.account import pay_from_accounts
from yibao.batch.buckets import (
    Catalogues,
    catalogues,
    claim_totals,
    line_buckets,
    version_numbers,
)
from yibao.batch.context import Fallbacks, start
from yibao.batch.exact import ratio4_text
from yibao.batch.fallback import settle_through_engine
from yibao.batch.layers import LAYERS
from yibao.batch.matching import MED_CODE, in_list
from yibao.batch.output import RESULT_SCHEMA
from yibao.batch.plan import SchemePlan, plan_scheme
from yibao.batch.pooling import basic_pooling
from yibao.batch.prepare import REFUSED, prepare
from yibao.catalog.load import catalogs_for
from yibao.engine.funds import INSUTYPE
from yibao.money import MAX_CLAIM_FEN
from yibao.policy.loader import UnknownRegion, load_with_overlays
from yibao.policy.overlays import overlays_for
from yibao.policy.schema import SchemePolicy


@dataclass
class PartitionResult:
    rows: pl.DataFrame
    persons: int = 0  # persons with a settled claim
    columnar_persons: int = 0
    columnar_claims: int = 0
    fallback_persons: dict[str, int] = field(default_factory=dict)
    fallback_claims: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    unknown_persons: dict[str | None, int] = field(default_factory=dict)  # `Prepared`'s
    persons_without_id: int = 0


class Settler:
    """The policies, catalogues and plans of a run, built once and used for every partition."""

    def __init__(self, regions: Iterable[str], overlays: tuple[Path, ...] = ()) -> None:
        self.policies, self.catalogs, self.unknown = {}, {}, {}
        for region in sorted(set(regions)):
            try:
                policy = load_with_overlays(region, overlays_for(region, overlays))
            except UnknownRegion as exc:
                self.unknown[region] = exc.reason
                continue
            self.policies[region] = policy
            self.catalogs[region] = catalogs_for(policy)
        self.catalogues: Catalogues = catalogues(self.policies, self.catalogs)
        self.plans: dict[tuple[str, str], SchemePlan] = {}

    def plan(self, region: str, version: str, scheme: str) -> SchemePlan:
        key = (version, scheme)
        if key not in self.plans:
            problem = self.catalogues.unscalable.get(version)
            self.plans[key] = plan_scheme(self.policies[region], version, scheme, problem)
        return self.plans[key]

    def notes(self) -> list[str]:
        return [plan.note() for _, plan in sorted(self.plans.items())]

    def settle(self, persons: pl.DataFrame, lines: pl.DataFrame) -> PartitionResult:
        """Settle every person of the partition; columnar where the plan allows."""
        fallbacks = Fallbacks()
        persons, lines = _contiguous(persons), _contiguous(lines)
        prep = prepare(persons, lines, self.policies)
        for reason, pids in prep.suspects.items():
            fallbacks.add_ids(reason, pids)
        suspects = fallbacks.persons()
        # `ck` is still the claims' row number here: each line finds its claim's by position
        vi = version_numbers(prep.claims, self.catalogues)
        claims = prep.claims.with_columns(vi)
        line_rows = prep.lines.with_columns(vi.gather(prep.lines.get_column("ck")))
        claims, line_rows = _without(claims, suspects), _without(line_rows, suspects)
        totals = claim_totals(line_buckets(line_rows, self.catalogues, claims))
        claims = with_totals(claims, totals)
        too_large = claims.filter(pl.col("medfee") > MAX_CLAIM_FEN).get_column("pid").unique()
        fallbacks.add_ids(REFUSED, too_large)
        claims = _without(claims, too_large)
        groups = []
        for (region, version, scheme), group in _groups(claims):
            plan = self.plan(region, version, scheme)
            if not plan.columnar:
                fallbacks.add_ids(f"scheme not vectorized: {plan.fallback}", group["pid"].unique())
                continue
            groups.append((group, plan))
        result = PartitionResult(
            rows=pl.DataFrame(schema=RESULT_SCHEMA),
            unknown_persons=prep.unknown_persons,
            persons_without_id=prep.persons_without_id,
        )
        parts = []
        if groups:
            frame = _settle_groups(groups, fallbacks)
            parts.append(frame)
            result.columnar_persons = _runs_of(frame, "person_id")
            result.columnar_claims = frame.height
        fallback_ids = fallbacks.persons()
        if fallback_ids.len():
            mine = pl.col("person_id").is_in(fallback_ids.implode())
            rows, errors = settle_through_engine(
                persons.filter(mine), lines.filter(mine), self.policies, self.catalogs, self.unknown
            )
            parts.append(rows)
            result.fallback_persons = fallbacks.counts()
            result.fallback_claims = rows.height
            result.errors = errors
        if len(parts) > 1:
            result.rows = pl.concat(parts).sort(["person_id", "setl_date", "claim_id"])
        elif parts:  # the columnar rows alone are in that order already (by `ck`)
            result.rows = (
                parts[0] if groups else parts[0].sort(["person_id", "setl_date", "claim_id"])
            )
        if groups and len(parts) == 1:  # the columnar rows alone, counted above
            result.persons = result.columnar_persons
        else:
            result.persons = _runs_of(result.rows, "person_id")  # sorted by person
        return result


def _contiguous(frame: pl.DataFrame) -> pl.DataFrame:
    """A filtered scan arrives in hundreds of chunks; one contiguous chunk is much faster."""
    return frame.rechunk() if max(frame.n_chunks("all"), default=1) > 1 else frame


def _without(frame: pl.DataFrame, pids: pl.Series) -> pl.DataFrame:
    return frame.filter(~pl.col("pid").is_in(pids.implode())) if pids.len() else frame


def with_totals(claims: pl.DataFrame, totals: pl.DataFrame) -> pl.DataFrame:
    """The claims with their bucket totals. `ck` numbers the claims 0, 1, ... before any are
    dropped, each claim has lines, so the totals sorted by `ck` line up with the claims row
    for row (checked) — no join needed."""
    totals = totals.sort("ck")
    if totals.height == claims.height and totals["ck"].equals(claims["ck"]):
        return claims.hstack(totals.drop("ck").get_columns())
    return claims.join(totals, on="ck", how="left", maintain_order="left")


def _groups(claims: pl.DataFrame) -> list[tuple[tuple[str, str, str], pl.DataFrame]]:
    """The claims by (region, version, scheme), in settlement order within each; a
    partition of one region, version and scheme (the usual case) is not copied."""
    keys = ["region", "version", "scheme"]
    if claims.height == 0:
        return []
    first = claims.row(0, named=True)
    same = claims.select(
        pl.all_horizontal((pl.col(k) == first[k]).fill_null(False).all() for k in keys)
    ).item()
    if same and all(first[k] is not None for k in keys):
        return [((first["region"], first["version"], first["scheme"]), claims)]
    return list(claims.partition_by(keys, as_dict=True, maintain_order=True).items())


def _settle_groups(
    groups: list[tuple[pl.DataFrame, SchemePlan]], fallbacks: Fallbacks
) -> pl.DataFrame:
    """The result rows of the columnar groups, persons sent to the fallback left out.

    One group (the usual case) is one lazy query, accounts and output columns included:
    the account runs over each person's own rows, so dropping the fallback persons after
    it changes nobody else's. Several groups are put back in settlement order first, since
    a person's account runs through all their versions."""
    if len(groups) == 1:
        group, plan = groups[0]
        frame = _rows(pay_from_accounts(_group_chain(group, plan, fallbacks)), keep_flags=True)
        frame = fallbacks.gather(frame.collect(), pid="person_id")
        return _without_persons(frame, fallbacks.persons())
    settled = [
        fallbacks.gather(_group_chain(group, plan, fallbacks).collect()) for group, plan in groups
    ]
    frame = pl.concat(settled, how="diagonal_relaxed")
    # `ck` numbers the claims in settlement order (ORDER), an integer sort key
    frame = _without(frame, fallbacks.persons()).sort("ck")
    return _rows(pay_from_accounts(frame.lazy())).collect()


def _without_persons(rows: pl.DataFrame, pids: pl.Series) -> pl.DataFrame:
    return rows.filter(~pl.col("person_id").is_in(pids.implode())) if pids.len() else rows


def _runs_of(frame: pl.DataFrame, column: str) -> int:
    """Distinct values of a column whose equal values are adjacent (sorted by it)."""
    if frame.height == 0:
        return 0
    return frame.select(pl.col(column).rle_id().max()).item() + 1


def _group_chain(group: pl.DataFrame, plan: SchemePlan, fallbacks: Fallbacks) -> pl.LazyFrame:
    """`settle_claim` for every claim of one policy version and scheme, in settlement order,
    as one lazy query (rows a rule cannot settle exactly carry a fallback flag column)."""
    scheme = plan.scheme
    frame = start(group.lazy())
    frame = basic_pooling(frame, scheme, fallbacks)
    frame = _layers(frame, scheme, fallbacks)
    account = scheme.account
    acct_ok = in_list("med_type", account.med_types) if account is not None else pl.lit(False)
    return frame.with_columns(
        acct_ok.alias("acct_ok"), pl.lit(INSUTYPE[plan.scheme_name]).alias("insutype")
    )


def _layers(frame: pl.LazyFrame, scheme: SchemePolicy, fallbacks: Fallbacks) -> pl.LazyFrame:
    """The scheme's layers in order, on the claims a basic benefit settled (`benefit` ≥ 0) —
    `_pool_and_layers` of the engine: a claim basic pooling matched no benefit for is none of
    theirs, and none pays or accumulates on it. Every layer's eligibility opens with its med
    types, so such a claim is shown to them with no med type (`med_code` null), and gets its
    own back after them (the account's eligibility needs it)."""
    kept = f"{MED_CODE}:kept"
    settled = pl.when(pl.col("benefit") >= 0).then(pl.col(MED_CODE))
    frame = frame.with_columns(pl.col(MED_CODE).alias(kept), settled.alias(MED_CODE))
    for name in scheme.layer_order.value:
        frame = LAYERS[name](frame, getattr(scheme, name), scheme, fallbacks)
    return frame.with_columns(pl.col(kept).alias(MED_CODE)).drop(kept)


def _rows(frame: pl.LazyFrame, keep_flags: bool = False) -> pl.LazyFrame:
    """`_setlinfo`: the settlement amounts of each claim, named as the result table names them
    (with the fallback flag columns too when `keep_flags`)."""
    fund = pl.col("fund_total")
    person_part = pl.col("medfee") - fund
    flags = [pl.col(f"^{Fallbacks.PREFIX}.*$")] if keep_flags else []
    return frame.select(
        pl.col("pid").alias("person_id"),
        pl.col("cid").alias("claim_id"),
        "date",
        "setl_date",
        "region",
        pl.col("version").alias("policy_version"),
        "med_type",
        "insutype",
        pl.col("medfee").alias("medfee_sumamt_fen"),
        pl.col("fulamt").alias("fulamt_ownpay_amt_fen"),
        pl.col("overlmt").alias("overlmt_selfpay_fen"),
        pl.col("pre").alias("preselfpay_amt_fen"),
        pl.col("inscp").alias("inscp_scp_amt_fen"),
        pl.col("act_pay_dedc").alias("act_pay_dedc_fen"),
        pl.col("hifp_pay").alias("hifp_pay_fen"),
        _ratio_text(),
        pl.col("cvlserv_pay").alias("cvlserv_pay_fen"),
        pl.col("hifes_pay").alias("hifes_pay_fen"),
        pl.col("hifmi_pay").alias("hifmi_pay_fen"),
        pl.col("hifob_pay").alias("hifob_pay_fen"),
        pl.col("maf_pay").alias("maf_pay_fen"),
        pl.col("oth_pay").alias("oth_pay_fen"),
        fund.alias("fund_pay_sumamt_fen"),
        person_part.alias("psn_part_amt_fen"),
        pl.col("acct_pay").alias("acct_pay_fen"),
        pl.col("acct_mulaid_pay").alias("acct_mulaid_pay_fen"),
        (person_part - pl.col("acct_pay")).alias("psn_cash_pay_fen"),
        pl.col("balc").alias("balc_fen"),
        *flags,
    ).cast(RESULT_SCHEMA)


def _ratio_text() -> pl.Expr:
    return ratio4_text(pl.col("pool_ratio")).alias("pool_prop_selfpay")
