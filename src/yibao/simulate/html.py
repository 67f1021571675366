"""The HTML briefing of a simulation: a headline, plotly charts and the tables behind them.

One self-contained file (plotly.js inlined once), so it opens offline and can be mailed.
Charts take floats — for drawing only; every number printed in the page is the exact
decimal of the JSON output.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

import plotly.graph_objects as go

from yibao.simulate.text import (
    cell,
    data_line,
    one_year,
    per_year,
    projection_rows,
    reform_title,
)

BASE, REFORM = "#7f8c9a", "#c0392b"
STYLE = """
body{font-family:-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
 max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:2em;
 border-bottom:1px solid #ddd;padding-bottom:.2em}
.headline{font-size:1.3em;background:#f6f3ee;border-left:5px solid #c0392b;padding:.7em 1em}
.cards{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.card{flex:1;min-width:180px;border:1px solid #ddd;border-radius:6px;padding:.6em .9em}
.card b{display:block;font-size:1.35em} .muted{color:#666;font-size:.9em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{padding:.25em .6em;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left} .prov{text-align:left;color:#555}
.note{background:#fff4d6;border-left:5px solid #e67e22;padding:.5em 1em;font-weight:600}
"""


def _f(value: Decimal | int | None) -> float:
    return float(value or 0)


def _table(headers: list[str], rows: list[list[object]], left: int = 1) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="prov">{escape(cell(v))}</td>'
            if i < left
            else f"<td>{escape(cell(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _layout(fig: go.Figure, title: str, yaxis: str) -> go.Figure:
    fig.update_layout(
        title=title,
        yaxis_title=yaxis,
        barmode="group",
        template="plotly_white",
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
        legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
    )
    return fig


def _outlay_chart(report: dict) -> go.Figure:
    funds = [f for f in report["outlay"]["funds"] if f["baseline"] or f["reform"]]
    names = [f"{f['fund']}<br>{f['name'].split()[0]}" for f in funds]
    fig = go.Figure(
        [
            go.Bar(
                name="baseline", x=names, y=[_f(f["baseline"]) for f in funds], marker_color=BASE
            ),
            go.Bar(name="reform", x=names, y=[_f(f["reform"]) for f in funds], marker_color=REFORM),
        ]
    )
    unit = "year" if one_year(report["population"]) else "the data's period"
    return _layout(fig, "Fund outlay by fund and layer", f"yuan / {unit}")


def _difference_chart(report: dict) -> go.Figure:
    rows = [f for f in report["outlay"]["funds"] if f["difference"]]
    rows += [
        {"fund": f"hifp {p['med_type']}", "name": p["name"], "difference": p["difference"]}
        for p in report["outlay"]["pooling_by_med_type"]
        if p["difference"]
    ]
    fig = go.Figure(
        go.Bar(
            x=[f"{r['fund']}<br>{r['name'].split()[0]}" for r in rows],
            y=[_f(r["difference"]) for r in rows],
            marker_color=[REFORM if r["difference"] > 0 else "#27ae60" for r in rows],
            text=[f"{r['difference']:+,}" for r in rows],
            textposition="outside",
        )
    )
    return _layout(fig, "Change in outlay (reform − baseline), by fund and pooling layer", "yuan")


def _decile_chart(report: dict) -> go.Figure:
    deciles = report["burden"]["by_decile"]
    x = [f"D{d['decile']}" for d in deciles]
    fig = go.Figure(
        [
            go.Bar(
                name="baseline",
                x=x,
                y=[_f(d["per_capita_baseline"]) for d in deciles],
                marker_color=BASE,
            ),
            go.Bar(
                name="reform",
                x=x,
                y=[_f(d["per_capita_reform"]) for d in deciles],
                marker_color=REFORM,
            ),
        ]
    )
    return _layout(
        fig,
        "Per-capita personal burden by decile of annual medical cost (D10 = costliest)",
        f"yuan / person / {'year' if one_year(report['population']) else 'the data'}",
    )


def _histogram_chart(report: dict) -> go.Figure:
    bins = report["winners_losers"]["histogram"]
    fig = go.Figure(
        go.Bar(
            x=[f"{b['from']:,} – {b['to']:,}" for b in bins],
            y=[b["persons"] for b in bins],
            marker_color=["#27ae60" if b["to"] <= 0 else REFORM for b in bins],
        )
    )
    fig = _layout(
        fig, "Change in annual burden per person (persons whose burden changed)", "persons"
    )
    fig.update_xaxes(title="change in burden, yuan (negative = pays less)")
    return fig


def _projection_chart(report: dict) -> go.Figure:
    years = report["projection"]["years"]
    x = [f"year {y['year']}" for y in years]
    fig = go.Figure(
        [
            go.Scatter(
                name="balance, baseline",
                x=x,
                y=[_f(y["balance_baseline"]) for y in years],
                line={"color": BASE, "width": 3},
            ),
            go.Scatter(
                name="balance, reform",
                x=x,
                y=[_f(y["balance_reform"]) for y in years],
                line={"color": REFORM, "width": 3},
            ),
            go.Scatter(
                name="income",
                x=x,
                y=[_f(y["income"]) for y in years],
                line={"color": "#2c7fb8", "dash": "dot"},
            ),
            go.Scatter(
                name="outlay, reform",
                x=x,
                y=[_f(y["outlay_reform"]) for y in years],
                line={"color": REFORM, "dash": "dot"},
            ),
        ]
    )
    return _layout(fig, "Cumulative fund balance projection (assumed income and growth)", "yuan")


def _per_rows(rows: list[dict], label: str) -> list[list[object]]:
    return [
        [
            r[label],
            r["persons"],
            r["per_capita_baseline"],
            r["per_capita_reform"],
            r["per_capita_difference"],
            r["catastrophic_baseline"],
            r["catastrophic_reform"],
        ]
        for r in rows
    ]


PER_HEAD = [
    "persons",
    "burden/person baseline",
    "reform",
    "change",
    "catastrophic baseline",
    "reform",
]


def render_html(report: dict) -> str:
    pop, outlay, wl = report["population"], report["outlay"], report["winners_losers"]
    cat, proj, reform = report["catastrophic"], report["projection"], report["reform"]
    total, over = outlay["total"], outlay["difference_over"]
    charts = [
        _outlay_chart(report),
        _difference_chart(report),
        _decile_chart(report),
        _histogram_chart(report),
        _projection_chart(report),
    ]
    html_charts = [
        fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
        for i, fig in enumerate(charts)
    ]
    cards = [
        (
            "change in fund outlay",
            f"{total['difference']:+,} yuan" + ("/yr" if over == "yr" else ""),
            f"{cell(total['difference_pct'])}% of {total['baseline']:,}"
            + ("" if over == "yr" else f"; {over}"),
        ),
        (
            "persons paying less",
            f"{wl['gaining']['share_pct']}%",
            f"{wl['gaining']['persons']:,} persons, {wl['gaining']['amount']:,} yuan",
        ),
        (
            "persons paying more",
            f"{wl['losing']['share_pct']}%",
            f"{wl['losing']['persons']:,} persons, {wl['losing']['amount']:,} yuan",
        ),
        (
            "catastrophic expenditure",
            f"{cat['rate_baseline_pct']}% → {cat['rate_reform_pct']}%",
            f"burden > {cat['threshold']:,} yuan/yr",
        ),
    ]
    card_html = "".join(
        f'<div class="card"><span class="muted">{escape(t)}</span><b>{escape(v)}</b>'
        f'<span class="muted">{escape(s)}</span></div>'
        for t, v, s in cards
    )
    money_head = ["", "baseline", "reform", "difference", "%"]

    def compared(label: str, c: dict) -> list[object]:
        return [label, c["baseline"], c["reform"], c["difference"], c["difference_pct"]]

    fund_rows = [compared(f"{f['fund']} {f['name']}", f) for f in outlay["funds"]]
    fund_rows += [
        compared("all funds", total),
        compared("personal burden (psn_part)", outlay["personal_burden"]),
    ]
    pooling_rows = [
        compared(f"{p['med_type']} {p['name']}", p) for p in outlay["pooling_by_med_type"]
    ]
    change_rows = [
        [c["path"], c["baseline"], c["reform"], c["reform_provenance"], c["baseline_provenance"]]
        for c in report["policy_changes"]
    ]
    top_rows = [
        [
            p["person_id"],
            p["scheme"],
            ",".join(p["categories"]) or "-",
            p["burden_baseline"],
            p["burden_reform"],
            p["change"],
        ]
        for p in wl["top_gains"] + wl["top_losses"]
    ]
    decile_rows = [
        [f"D{d['decile']} ({d['cost_from']:,}–{d['cost_to']:,})", *row[1:]]
        for d, row in zip(
            report["burden"]["by_decile"],
            _per_rows(report["burden"]["by_decile"], "decile"),
            strict=True,
        )
    ]
    title = f"Reform {reform['file']}" + (f" — {reform['name']}" if reform["name"] else "")
    unit = "year" if one_year(pop) else per_year(pop)
    parts = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>{escape(title)} ({escape(report['region'])})</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>{escape(report['region'])} · reform {escape(reform_title(reform))} · "
        f"data {escape(report['data'])}: {escape(data_line(pop))}</p>",
        # what the figures leave out or do not cover: before the headline, not under it
        *(f"<p class='note'>note: {escape(note)}</p>" for note in pop["notes"]),
        f"<p class='headline'>{escape(report['headline'])}</p>",
        f"<div class='cards'>{card_html}</div>",
        "<h2>What the reform changes in the policy</h2>",
        _table(
            ["value", "baseline", "reform", "reform source", "baseline source"], change_rows, left=5
        )
        if change_rows
        else "<p>The overlay changes no value.</p>",
        "<h2>Fund outlay</h2>",
        html_charts[0],
        html_charts[1],
        _table(money_head, fund_rows),
        "<p class='muted'>Basic pooling fund (hifp) by med_type:</p>",
        _table(money_head, pooling_rows),
        "<h2>Personal burden</h2>",
        html_charts[2],
        f"<p class='muted'>Per-person amounts in yuan per {escape(unit)}. Deciles rank every "
        "insured person the engine settled (claims or not) by medical cost, which the reform "
        "does not change, so each decile holds the same persons in both runs. Catastrophic: "
        "annual burden above "
        f"{cat['share_of_capacity']:.0%} of a capacity to pay of {cat['capacity_to_pay']:,} "
        f"yuan/yr ({escape(cat['capacity_basis'])}).</p>",
        _table(["decile (cost range, yuan)", *PER_HEAD], decile_rows),
        "<p class='muted'>By category (each person once: 特困 &gt; 低保 &gt; 建档立卡 &gt; "
        "低保边缘 &gt; 残疾 &gt; 公务员 &gt; none):</p>",
        _table(["category", *PER_HEAD], _per_rows(report["burden"]["by_category"], "name")),
        _table(
            ["scheme / employment", *PER_HEAD], _per_rows(report["burden"]["by_scheme"], "group")
        ),
        "<h2>Winners and losers</h2>",
        html_charts[3],
        f"<p>{wl['gaining']['persons']:,} persons pay less ({wl['gaining']['amount']:,} yuan in "
        f"all), {wl['losing']['persons']:,} pay more ({wl['losing']['amount']:,} yuan), "
        f"{wl['unchanged']:,} unchanged.</p>",
        _table(
            ["person", "scheme", "categories", "burden baseline", "reform", "change"],
            top_rows,
            left=3,
        )
        if top_rows
        else "",
        "<h2>Fund balance projection</h2>",
        html_charts[4],
        f"<p class='muted'>Funds {escape(' + '.join(proj['funds']))}. Income: contributions of "
        + escape(", ".join(f"{s} {v:,}" for s, v in proj["contribution_per_person"].items()))
        + f" yuan/person/yr ({escape(proj['contribution_basis'])}), growing "
        f"{proj['income_growth']:.1%}/yr; outlay grows {proj['cost_growth']:.1%}/yr (assumed); "
        f"opening balance {proj['opening_balance']:,} yuan. Year-1 outlay: "
        f"{escape(proj['outlay_basis'])}.</p>",
        _table(
            [
                "year",
                "income",
                "outlay baseline",
                "outlay reform",
                "balance baseline",
                "balance reform",
            ],
            projection_rows(proj),
        ),
        "<p class='muted'>Generated by yibao simulate; settlement by the columnar batch engine "
        "(equal to the per-claim engine to the fen). Amounts in yuan.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
