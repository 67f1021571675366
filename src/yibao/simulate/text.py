"""The terminal form of a simulation: plain aligned tables, amounts in yuan."""

from __future__ import annotations

import unicodedata
from decimal import Decimal


def width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ljust(text: str, n: int) -> str:
    return text + " " * (n - width(text))


def _rjust(text: str, n: int) -> str:
    return " " * (n - width(text)) + text


def cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: list[str], rows: list[list[object]]) -> list[str]:
    """Left-aligned first column, right-aligned numbers."""
    cells = [headers, *([cell(v) for v in row] for row in rows)]
    widths = [max(width(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for n, row in enumerate(cells):
        parts = [_ljust(row[0], widths[0])]
        parts += [_rjust(c, w) for c, w in zip(row[1:], widths[1:], strict=True)]
        out.append("  " + "  ".join(parts).rstrip())
        if n == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out


def reform_title(reform: dict) -> str:
    """The overlay's file, name and `from:` day, as both reports print it."""
    return (
        reform["file"]
        + (f" ({reform['name']})" if reform["name"] else "")
        + (f", in force from {reform['from']}" if reform["from"] else "")
    )


def data_line(pop: dict) -> str:
    """Persons, claims, their dates and the policy versions each run settled them under."""
    period = pop["period"]
    dates = f" ({period['first_claim']} … {period['last_claim']})" if period else ""
    base, new = pop["baseline_policy_versions"], pop["reform_policy_versions"]
    policy = ", ".join(base) + ("" if new == base else f"; reform run {', '.join(new)}")
    return (
        f"{pop['persons']:,} persons ({pop['persons_with_claims']:,} with claims), "
        f"{pop['claims']:,} claims{dates}, policy {policy}"
    )


def one_year(pop: dict) -> bool:
    """Whether the data is one year of claims (`measures.data_period`)."""
    return pop["period"] is None or pop["period"]["one_year"]


def per_year(pop: dict) -> str:
    """The unit of per-person amounts: a year only when the data is one year."""
    return "yr" if one_year(pop) else "the data's period"


def render_text(report: dict) -> str:
    pop, outlay, burden = report["population"], report["outlay"], report["burden"]
    lines = [
        f"yibao simulate {report['region']} — reform {reform_title(report['reform'])}",
        f"data {report['data']}: {data_line(pop)}",
        *(f"note: {note}" for note in pop["notes"]),
        "",
        report["headline"],
        "",
        "Fund outlay (yuan)",
    ]
    money_head = ["", "baseline", "reform", "difference", "%"]

    def compared(label: str, c: dict) -> list[object]:
        return [label, c["baseline"], c["reform"], c["difference"], c["difference_pct"]]

    lines += table(
        money_head,
        [compared(f"{f['fund']} {f['name']}", f) for f in outlay["funds"]]
        + [
            compared("all funds (fund_pay_sumamt)", outlay["total"]),
            compared("personal burden (psn_part)", outlay["personal_burden"]),
        ],
    )
    lines += ["", "Basic pooling fund (hifp) by med_type (yuan)"]
    lines += table(
        money_head,
        [compared(f"{p['med_type']} {p['name']}", p) for p in outlay["pooling_by_med_type"]],
    )
    per_head = ["persons", "burden/cap base", "reform", "change", "catastr. base", "reform"]

    def per(row: dict) -> list[object]:
        return [
            row["persons"],
            row["per_capita_baseline"],
            row["per_capita_reform"],
            row["per_capita_difference"],
            row["catastrophic_baseline"],
            row["catastrophic_reform"],
        ]

    lines += ["", f"Per-capita burden (yuan/person/{per_year(pop)}) by decile of medical cost"]
    lines += table(
        ["decile (cost range)", *per_head],
        [
            [f"{d['decile']} ({d['cost_from']:,}–{d['cost_to']:,})", *per(d)]
            for d in burden["by_decile"]
        ]
        + [["all persons", *per(burden["total"])]],
    )
    lines += ["", "By category (each person once, first of 特困 > 低保 > 建档立卡 > ...)"]
    lines += table(["category", *per_head], [[c["name"], *per(c)] for c in burden["by_category"]])
    lines += ["", "By scheme / employment"]
    lines += table(["group", *per_head], [[s["group"], *per(s)] for s in burden["by_scheme"]])
    cat = report["catastrophic"]
    lines += [
        "",
        f"Catastrophic expenditure: burden > {cat['share_of_capacity']:.0%} of capacity to pay "
        f"{cat['capacity_to_pay']:,} yuan/yr = {cat['threshold']:,} yuan ({cat['capacity_basis']})",
        f"  baseline {cat['persons_baseline']:,} persons ({cat['rate_baseline_pct']}%), "
        f"reform {cat['persons_reform']:,} persons ({cat['rate_reform_pct']}%)",
    ]
    wl = report["winners_losers"]
    lines += [
        "",
        f"Winners and losers (burden over {'a year' if one_year(pop) else 'the data'})",
        f"  pay less: {wl['gaining']['persons']:,} persons ({wl['gaining']['share_pct']}%), "
        f"{wl['gaining']['amount']:,} yuan in all",
        f"  pay more: {wl['losing']['persons']:,} persons ({wl['losing']['share_pct']}%), "
        f"{wl['losing']['amount']:,} yuan in all",
        f"  unchanged: {wl['unchanged']:,} persons",
    ]
    top = wl["top_gains"][:5] + wl["top_losses"][:5]
    if top:
        lines += table(
            ["largest changes", "categories", "baseline", "reform", "change"],
            [
                [
                    f"{p['person_id']} ({p['scheme']})",
                    ",".join(p["categories"]) or "-",
                    p["burden_baseline"],
                    p["burden_reform"],
                    p["change"],
                ]
                for p in top
            ],
        )
    proj = report["projection"]
    lines += [
        "",
        f"Fund balance projection ({' + '.join(proj['funds'])}; contributions "
        f"{', '.join(f'{s} {v:,}' for s, v in proj['contribution_per_person'].items())} "
        f"yuan/person/yr ({proj['contribution_basis']}); cost growth {proj['cost_growth']:.1%}, "
        f"income growth {proj['income_growth']:.1%}; opening balance {proj['opening_balance']:,})",
        f"  year-1 outlay: {proj['outlay_basis']}",
    ]
    lines += table(
        ["year", "income", "outlay base", "outlay reform", "balance base", "balance reform"],
        projection_rows(proj),
    )
    lines += ["", "What the overlay changed"]
    changes = report["policy_changes"]
    if not changes:
        lines.append("  no differences")
    for c in changes:
        lines.append(
            f"  ~ {c['path']}: {c['baseline']} → {c['reform']}  [{c['reform_provenance']}]"
        )
    return "\n".join(lines)


def projection_rows(proj: dict) -> list[list]:
    """The projection table's rows, in the order both reports print them."""
    keys = (
        "year",
        "income",
        "outlay_baseline",
        "outlay_reform",
        "balance_baseline",
        "balance_reform",
    )
    return [[y[k] for k in keys] for y in proj["years"]]
