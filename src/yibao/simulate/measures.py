"""What a policy analyst asks of a reform, computed from the paired settlements.

Sums stay integer fen until the very end, where `fen_to_yuan` turns them into exact decimals;
per-capita figures and percentages are the only divisions, each rounded half-up once.
Every measure is a plain dict of JSON-ready values, so the JSON, text and HTML outputs
print the same numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from yibao.money import fen_to_yuan, round_half_up
from yibao.policy.flatten import flatten
from yibao.policy.loader import load_region, load_with_overlays
from yibao.simulate.assumptions import CATASTROPHIC_SHARE, PROJECTED_FUNDS, Assumptions
from yibao.simulate.paired import FUNDS, Paired, base_col, read_overlay, reform_col

FUND_NAMES = {
    "hifp": "统筹基金 basic pooling",
    "cvlserv": "公务员医疗补助 civil-servant subsidy",
    "hifes": "企业补充 enterprise supplementary",
    "hifob": "大额医疗费用补助 large-expense subsidy",
    "hifmi": "大病保险 critical illness",
    "maf": "医疗救助 medical assistance",
    "oth": "其他 other (兜底 top-up, 惠民保)",
}
MED_TYPES = {
    "11": "普通门诊 general outpatient",
    "14": "门诊慢特病 chronic outpatient",
    "21": "住院 inpatient",
    "41": "定点药店 pharmacy",
}
# A person in several categories is counted once, under the first that applies, so the
# category table partitions the population and sums to the total.
CATEGORY_ORDER = (
    ("tekun", "特困 tekun", ("tekun",)),
    ("dibao", "低保 dibao", ("dibao",)),
    ("poor", "建档立卡 poverty-registered", ("poverty_registered",)),
    ("low_income", "低保边缘 low-income marginal", ("low_income_marginal",)),
    ("disabled", "残疾 disabled", ("severely_disabled", "disabled_child")),
    ("civil_servant", "公务员 civil servant", ("civil_servant",)),
)
DECILES = 10
TOP = 10
HISTOGRAM_BINS = 20
_CENT = Decimal("0.01")


def per_capita(total_fen: int, persons: int) -> Decimal:
    """Yuan per person, two decimals, rounded half-up."""
    if not persons:
        return Decimal("0.00")
    return (Decimal(total_fen) / persons / 100).quantize(_CENT, rounding=ROUND_HALF_UP)


def percent(part: int, whole: int) -> Decimal | None:
    """`part / whole` in percent with two decimals (None when `whole` is 0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(_CENT, rounding=ROUND_HALF_UP)


def compare(base_fen: int, reform_fen: int) -> dict:
    return {
        "baseline": fen_to_yuan(base_fen),
        "reform": fen_to_yuan(reform_fen),
        "difference": fen_to_yuan(reform_fen - base_fen),
        "difference_pct": percent(reform_fen - base_fen, base_fen),
    }


def fund_outlay(paired: Paired) -> dict:
    """Outlay of every fund and layer, and the basic pooling fund by med_type."""
    names = [*FUNDS, "fund_pay_sumamt", "psn_part_amt", "medfee_sumamt"]
    sums = {c: paired.total(c) for n in names for c in (base_col(n), reform_col(n))}
    funds = [
        {"fund": f, "name": FUND_NAMES[f], **compare(sums[base_col(f)], sums[reform_col(f)])}
        for f in FUNDS
    ]
    by_type = paired.by_med_type.select("med_type", base_col("hifp"), reform_col("hifp"))
    pooling = [
        {
            "med_type": row["med_type"],
            "name": MED_TYPES.get(row["med_type"], row["med_type"]),
            **compare(row[base_col("hifp")], row[reform_col("hifp")]),
        }
        for row in by_type.iter_rows(named=True)
    ]
    return {
        "funds": funds,
        "total": compare(sums[base_col("fund_pay_sumamt")], sums[reform_col("fund_pay_sumamt")]),
        "personal_burden": compare(
            sums[base_col("psn_part_amt")], sums[reform_col("psn_part_amt")]
        ),
        "medical_cost": fen_to_yuan(sums[base_col("medfee_sumamt")]),
        "pooling_by_med_type": pooling,
    }


def _group_row(group: pl.DataFrame, threshold: Decimal) -> dict:
    base, new = base_col("psn_part_amt"), reform_col("psn_part_amt")
    n = group.height
    b_total, r_total = int(group[base].sum()), int(group[new].sum())
    b_cat = int((group[base] > threshold).sum())
    r_cat = int((group[new] > threshold).sum())
    return {
        "persons": n,
        "medical_cost": fen_to_yuan(int(group[base_col("medfee_sumamt")].sum())),
        "burden_baseline": fen_to_yuan(b_total),
        "burden_reform": fen_to_yuan(r_total),
        "per_capita_baseline": per_capita(b_total, n),
        "per_capita_reform": per_capita(r_total, n),
        "per_capita_difference": per_capita(r_total - b_total, n),
        "catastrophic_baseline": b_cat,
        "catastrophic_reform": r_cat,
    }


def with_groups(persons: pl.DataFrame) -> pl.DataFrame:
    """Add `decile` (of annual medical cost) and `category` / `scheme_group` labels."""
    n = persons.height
    ordered = persons.sort([base_col("medfee_sumamt"), "person_id"]).with_row_index("rank")
    category = pl.lit("none")
    for key, _, members in reversed(CATEGORY_ORDER):
        hit = pl.col("categories").list.eval(pl.element().is_in(list(members))).list.any()
        category = pl.when(hit.fill_null(False)).then(pl.lit(key)).otherwise(category)
    scheme = (
        pl.when(pl.col("scheme") == "employee")
        .then(pl.lit("employee/") + pl.col("employment").fill_null("unknown"))
        .otherwise(pl.col("scheme"))
    )
    return ordered.with_columns(
        (pl.col("rank") * DECILES // n + 1).cast(pl.Int32).alias("decile"),
        category.alias("category"),
        scheme.alias("scheme_group"),
    )


def burden_tables(persons: pl.DataFrame, assumptions: Assumptions) -> dict:
    """Per-capita burden (psn_part) by decile of annual medical cost, category and scheme."""
    threshold = assumptions.catastrophic_threshold_fen
    grouped = with_groups(persons)
    deciles = []
    for (decile,), group in sorted(grouped.partition_by("decile", as_dict=True).items()):
        cost = group[base_col("medfee_sumamt")]
        deciles.append(
            {
                "decile": decile,
                "cost_from": fen_to_yuan(int(cost.min())),
                "cost_to": fen_to_yuan(int(cost.max())),
                **_group_row(group, threshold),
            }
        )
    labels = {key: label for key, label, _ in CATEGORY_ORDER} | {"none": "none of these"}
    parts = grouped.partition_by("category", as_dict=True)
    categories = [
        {"category": key, "name": labels[key], **_group_row(parts[(key,)], threshold)}
        for key in [*(k for k, _, _ in CATEGORY_ORDER), "none"]
        if (key,) in parts
    ]
    schemes = [
        {"group": key, **_group_row(group, threshold)}
        for (key,), group in sorted(grouped.partition_by("scheme_group", as_dict=True).items())
    ]
    return {
        "by_decile": deciles,
        "by_category": categories,
        "by_scheme": schemes,
        "total": _group_row(grouped, threshold),
    }


def catastrophic(persons: pl.DataFrame, assumptions: Assumptions) -> dict:
    threshold = assumptions.catastrophic_threshold_fen
    n = persons.height
    b = int((persons[base_col("psn_part_amt")] > threshold).sum())
    r = int((persons[reform_col("psn_part_amt")] > threshold).sum())
    return {
        "capacity_to_pay": fen_to_yuan(assumptions.capacity_to_pay_fen),
        "capacity_basis": assumptions.capacity_basis,
        "share_of_capacity": CATASTROPHIC_SHARE,
        "threshold": fen_to_yuan(round_half_up(threshold)),
        "persons_baseline": b,
        "persons_reform": r,
        "rate_baseline_pct": percent(b, n),
        "rate_reform_pct": percent(r, n),
    }


def _person_row(row: dict) -> dict:
    return {
        "person_id": row["person_id"],
        "scheme": row["scheme"],
        "employment": row["employment"],
        "categories": list(row["categories"] or []),
        "burden_baseline": fen_to_yuan(row[base_col("psn_part_amt")]),
        "burden_reform": fen_to_yuan(row[reform_col("psn_part_amt")]),
        "change": fen_to_yuan(row["burden_change_fen"]),
    }


def _nice_width(span_fen: int) -> int:
    """A bin width of 1, 2 or 5 × 10^k fen giving at most HISTOGRAM_BINS bins."""
    width = 1
    while True:
        for step in (1, 2, 5):
            if span_fen <= step * width * HISTOGRAM_BINS:
                return step * width
        width *= 10


def winners_losers(persons: pl.DataFrame) -> dict:
    """Persons whose annual burden falls (gain) or rises (lose) under the reform."""
    change = persons["burden_change_fen"]
    gain, lose = persons.filter(change < 0), persons.filter(change > 0)
    n = persons.height
    moved = persons.filter(change != 0)
    histogram = []
    if moved.height:
        lo, hi = int(moved["burden_change_fen"].min()), int(moved["burden_change_fen"].max())
        width = _nice_width(max(hi - lo, 1))
        start = (lo // width) * width
        counts = dict(
            moved.select(((pl.col("burden_change_fen") - start) // width).alias("bin"))
            .group_by("bin")
            .len()
            .iter_rows()
        )
        # every bin from the lowest to the highest, empty ones too: the chart's categorical
        # axis would otherwise draw bins far apart side by side
        histogram = [
            {
                "from": fen_to_yuan(start + b * width),
                "to": fen_to_yuan(start + (b + 1) * width),
                "persons": counts.get(b, 0),
            }
            for b in range((hi - start) // width + 1)
        ]
    return {
        "gaining": {
            "persons": gain.height,
            "share_pct": percent(gain.height, n),
            "amount": fen_to_yuan(-int(gain["burden_change_fen"].sum())),
        },
        "losing": {
            "persons": lose.height,
            "share_pct": percent(lose.height, n),
            "amount": fen_to_yuan(int(lose["burden_change_fen"].sum())),
        },
        "unchanged": n - gain.height - lose.height,
        "top_gains": [
            _person_row(r)
            for r in gain.sort(["burden_change_fen", "person_id"]).head(TOP).iter_rows(named=True)
        ],
        "top_losses": [
            _person_row(r)
            for r in lose.sort(["burden_change_fen", "person_id"], descending=[True, False])
            .head(TOP)
            .iter_rows(named=True)
        ],
        "histogram": histogram,
    }


def year_outlay(period: dict | None) -> tuple[int, int, str]:
    """How the data's outlay becomes year 1's: × numerator / denominator, and the basis.
    The data is one year when its claims fall in 12 calendar months; otherwise its outlay is
    scaled to 12 months — an assumption (claims spread evenly over the year, no
    seasonality), said so wherever the projection is printed."""
    if period is None or period["one_year"]:
        return 1, 1, "the data's outlay (12 months of claims)"
    months = period["months"]
    return (
        12,
        months,
        f"assumed: the data's outlay over {months} months ({period['first_claim']} … "
        f"{period['last_claim']}) × 12/{months}, as if claims were spread evenly over the "
        "year (no seasonality); it understates a year, since annual deductibles and caps "
        "start afresh at the data's first claim",
    )


def projection(paired: Paired, assumptions: Assumptions, period: dict | None = None) -> dict:
    """Contribution income minus outlay of the contribution-financed funds, year by year."""
    counts = dict(paired.persons.group_by("scheme").len().iter_rows())
    income0 = sum(assumptions.contribution_fen.get(s, 0) * n for s, n in counts.items())
    num, den, outlay_basis = year_outlay(period)
    # one division, in the year loop below, then one rounding: exact until then
    base0 = Decimal(sum(paired.total(base_col(f)) for f in PROJECTED_FUNDS) * num) / den
    new0 = Decimal(sum(paired.total(reform_col(f)) for f in PROJECTED_FUNDS) * num) / den
    years, b_balance, r_balance = (
        [],
        assumptions.opening_balance_fen,
        assumptions.opening_balance_fen,
    )
    for t in range(assumptions.years):
        income = round_half_up(income0 * (1 + assumptions.income_growth) ** t)
        grow = (1 + assumptions.cost_growth) ** t
        b_out, r_out = round_half_up(base0 * grow), round_half_up(new0 * grow)
        b_balance += income - b_out
        r_balance += income - r_out
        years.append(
            {
                "year": t + 1,
                "income": fen_to_yuan(income),
                "outlay_baseline": fen_to_yuan(b_out),
                "outlay_reform": fen_to_yuan(r_out),
                "balance_baseline": fen_to_yuan(b_balance),
                "balance_reform": fen_to_yuan(r_balance),
            }
        )
    return {
        "funds": list(PROJECTED_FUNDS),
        "opening_balance": fen_to_yuan(assumptions.opening_balance_fen),
        "contribution_per_person": {
            s: fen_to_yuan(f) for s, f in assumptions.contribution_fen.items()
        },
        "contribution_basis": assumptions.contribution_basis,
        "outlay_basis": outlay_basis,
        "outlay_scale": None if num == den else f"{num}/{den}",
        "cost_growth": assumptions.cost_growth,
        "income_growth": assumptions.income_growth,
        "years": years,
    }


def overlay_info(overlay: Path) -> dict:
    """The overlay's own name, description and `from:` day (ISO text)."""
    raw = read_overlay(overlay) or {}  # checked already (`paired.check_overlay`)
    start = raw.get("from")
    return {
        "file": overlay.name,
        "name": raw.get("name"),
        "description": raw.get("description"),
        "from": start.isoformat() if isinstance(start, dt.date) else start and str(start),
    }


def data_period(first: dt.date | None, last: dt.date | None) -> dict | None:
    """The settlement dates of the claims, and the calendar months they fall in: the data is
    taken as one year's when that is 12 months (a full synthetic year whose first claim is on
    5 January is still a year; `yibao synth erenhot --year 2022` writes 3 months)."""
    if first is None or last is None:
        return None
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    return {
        "first_claim": first.isoformat(),
        "last_claim": last.isoformat(),
        "days": (last - first).days + 1,
        "months": months,
        "one_year": months == 12,
    }


def reform_reach(start: str | None, period: dict | None) -> str:
    """Which claims of the data the reform run settled under the reform: "all", "part" (the
    overlay's `from:` falls inside the data) or "none" (it starts after the last claim)."""
    if period is None:
        return "none"
    if start is None or start <= period["first_claim"]:  # ISO dates compare as text
        return "all"
    return "none" if start > period["last_claim"] else "part"


def policy_changes(region: str, overlay: Path, versions: list[str] | None = None) -> list[dict]:
    """The values the overlay changed in each policy version the reform run settled the data
    under (`versions`; None: every version), compared like `yibao policy diff`, with the
    reform value's provenance. A reform version no claim reached is not listed: the data
    never saw its changes."""
    base, new = load_region(region), load_with_overlays(region, (overlay,))
    rows = []
    for new_v in new.versions:
        # an overlay with `from:` splits a version: each reform version is compared with the
        # baseline version in force on its first day
        old_v = base.version_on(new_v.valid_from)
        version = new.version_id(new_v)
        if versions is not None and version not in versions:
            continue
        old = {r.path: r for r in flatten(old_v, settings=True)}
        cur = {r.path: r for r in flatten(new_v, settings=True)}
        for path in sorted(old.keys() | cur.keys()):
            a, b = old.get(path), cur.get(path)
            if a and b and (a.value, a.provenance) == (b.value, b.provenance):
                continue
            rows.append(
                {
                    "version": version,
                    "path": path,
                    "baseline": a.value if a else None,
                    "reform": b.value if b else None,
                    "baseline_provenance": a.provenance if a else None,
                    "reform_provenance": b.provenance if b else None,
                }
            )
    return rows


def difference_over(start: str | None, period: dict | None, reach: str) -> str:
    """What the outlay difference is a sum over: "yr" only for one year of data, all of it
    settled under the reform."""
    if reach == "none":
        return "reaching no claim of the data: not a price of the reform"
    if reach == "part":
        return f"over the claims from {start} on, not a year"
    if period is not None and not period["one_year"]:
        return f"over the data's {period['days']:,} days, not a year"
    return "yr"


def not_reached(start: str | None, period: dict | None) -> str:
    """The headline of a reform no claim of the data is settled under."""
    if period is None:
        return "The data holds no settled claim: these figures do not price the reform."
    return (
        f"The reform starts on {start}, after the last claim of the data "
        f"({period['last_claim']}): no claim is settled under it, so these figures do not "
        "price it."
    )


def headline(outlay: dict, winners: dict, over: str = "yr") -> str:
    """The cost and the winners in one sentence; `over` from `difference_over`."""
    total = outlay["total"]
    diff, pct = total["difference"], total["difference_pct"]
    pct_text = f"{pct:+}%" if pct is not None else "n/a"
    unit, where = ("yuan/yr", "") if over == "yr" else ("yuan", f" {over}")
    if diff > 0:
        cost = f"The reform costs the funds {diff:,} {unit} more ({pct_text}){where}"
    elif diff < 0:
        cost = f"The reform saves the funds {-diff:,} {unit} ({pct_text}){where}"
    else:
        cost = f"The reform leaves fund outlay unchanged{where}"
    gain, lose = winners["gaining"], winners["losing"]
    return (
        f"{cost}; {gain['share_pct']}% of persons pay less "
        f"({gain['persons']:,}), {lose['share_pct']}% pay more ({lose['persons']:,})."
    )
