"""`yibao simulate REGION --reform OVERLAY.yaml --data DIR [--report FILE.html]
[--format json|text]`: baseline vs reform on the same population.

Register with `app.command("simulate", cls=OneLineErrors)(simulate_command)`: the signature
carries the typer options. The simulation is imported lazily, so registering costs nothing
at start-up. How to read the output: docs/simulate.md.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class SimulateFormat(StrEnum):
    text = "text"
    json = "json"


def _decimal(text: str | None, option: str, minimum: Decimal = Decimal(0)) -> Decimal | None:
    from yibao.cli.common import fail

    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"{option}: {text!r} is not a number")
        return None
    if not value.is_finite() or value < minimum:
        fail(f"{option}: must be a number >= {minimum}, got {text!r}")
    return value


def _yuan(text: str | None, option: str, minimum: Decimal = Decimal(0)) -> Decimal | None:
    """A yuan amount: exact to the fen (a third decimal would be rounded away silently), typed
    as plain digits as every amount a person enters is read ("1e5", "1_000", "+5" refused)."""
    from yibao.cli.common import fail
    from yibao.money import YUAN_TEXT

    if text is not None and not YUAN_TEXT.fullmatch(text):
        fail(f"{option}: {text!r} must be yuan like 100.00")
    value = _decimal(text, option, minimum)
    if value is not None and value != value.quantize(Decimal("0.01")):
        fail(f"{option}: {text!r} has more than two decimals (yuan, to the fen)")
    return value


def simulate_command(
    region: Annotated[str, typer.Argument(help="Region id (yibao policy list).")],
    reform: Annotated[
        Path, typer.Option("--reform", help="Reform overlay YAML (docs/policy-format.md).")
    ],
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="Folder of persons.parquet + claim_lines.parquet (or claims.jsonl)."
        ),
    ],
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write a self-contained HTML briefing here."),
    ] = None,
    format: Annotated[
        SimulateFormat, typer.Option("--format", help="Standard output: text tables or JSON.")
    ] = SimulateFormat.text,
    capacity_to_pay: Annotated[
        str | None,
        typer.Option(
            "--capacity-to-pay",
            help="Capacity to pay, yuan per person per year; catastrophic = burden above 40% "
            "of it (default: assumed, 60% of an assumed per-capita disposable income of the "
            "region)",
            show_default=False,
        ),
    ] = None,
    contribution_resident: Annotated[
        str | None,
        typer.Option(
            "--contribution-resident",
            help="Contribution income per resident per year, yuan (default: 1020, assumed)",
            show_default=False,
        ),
    ] = None,
    contribution_employee: Annotated[
        str | None,
        typer.Option(
            "--contribution-employee",
            help="Pooled contribution income per employee per year, yuan (default: 4800, assumed)",
            show_default=False,
        ),
    ] = None,
    cost_growth: Annotated[
        str | None,
        typer.Option(
            "--cost-growth",
            help="Yearly growth of outlay in the projection (default: 0.08, assumed)",
            show_default=False,
        ),
    ] = None,
    income_growth: Annotated[
        str | None,
        typer.Option(
            "--income-growth",
            help="Yearly growth of contribution income (default: 0.05, assumed)",
            show_default=False,
        ),
    ] = None,
    years: Annotated[
        int, typer.Option("--years", min=1, max=50, help="Years of fund balance projection.")
    ] = 5,
    opening_balance: Annotated[
        str,
        typer.Option("--opening-balance", help="Fund balance before year 1, yuan."),
    ] = "0",
) -> None:
    """Baseline vs reform on the same population: fund outlay, burden, winners and losers."""
    import polars as pl

    from yibao.batch.run import check_out
    from yibao.cli.common import fail
    from yibao.errors import InputError
    from yibao.policy.loader import PolicyError, packaged_regions, unknown_region
    from yibao.render.jsontext import dumps
    from yibao.simulate.assumptions import assumptions_for
    from yibao.simulate.html import render_html
    from yibao.simulate.run import simulate
    from yibao.simulate.text import render_text

    if region not in (known := packaged_regions()):
        fail(f"region: {unknown_region(region, known)}")
    if report is not None:
        try:
            check_out(data, report, "--report", ".html")
        except InputError as exc:
            fail(str(exc))
    assumptions = assumptions_for(
        region,
        capacity_to_pay=_yuan(capacity_to_pay, "--capacity-to-pay", Decimal("0.01")),
        contribution_resident=_yuan(contribution_resident, "--contribution-resident"),
        contribution_employee=_yuan(contribution_employee, "--contribution-employee"),
        cost_growth=_decimal(cost_growth, "--cost-growth", Decimal(-1)),
        income_growth=_decimal(income_growth, "--income-growth", Decimal(-1)),
        years=years,
        opening_balance=_yuan(opening_balance, "--opening-balance", Decimal("-1e15")),
    )
    try:
        result = simulate(data, region, reform, assumptions)
    except (InputError, PolicyError) as exc:
        fail(str(exc))
        return
    except pl.exceptions.PolarsError as exc:
        fail(f"{data}: cannot read the tables ({str(exc).splitlines()[0]})")
        return
    if report is not None:
        try:
            report.write_text(render_html(result), "utf-8")
        except OSError as exc:
            fail(f"{report}: {exc.strerror or exc}")
    if SimulateFormat(format) is SimulateFormat.json:
        typer.echo(dumps(result))
    else:
        typer.echo(render_text(result))
    if report is not None:
        typer.echo(f"wrote {report}", err=True)
