"""`yibao payment ...`: Institution agreements, budgets, DRG and capitation payment, statements.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
The database commands act as the bureau (like `yibao institution add`) and migrate first.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from yibao.cli.common import DatabaseUrl, Format, OneLineErrors, fail

payment_app = typer.Typer(
    help="Institution agreements, budgets, DRG and capitation payment, statements.",
    no_args_is_help=True,
)
agreement_app = typer.Typer(
    help="Service agreements (协议) with institutions.", no_args_is_help=True
)
budget_app = typer.Typer(help="Global budgets (总额) of institution-years.", no_args_is_help=True)
payment_app.add_typer(agreement_app, name="agreement")
payment_app.add_typer(budget_app, name="budget")

Code = Annotated[str, typer.Argument(help="Institution code (fixmedins_code), e.g. H21100200001.")]
YearOption = Annotated[int, typer.Option("--year", min=2000, max=2100, help="Calendar year.")]
FormatOption = Annotated[Format, typer.Option("--format", help="json (default) or text.")]


class AgreementKind(StrEnum):
    hospital = "hospital"
    pharmacy = "pharmacy"
    outpatient_pooling = "outpatient_pooling"


class Ownership(StrEnum):
    public = "public"
    private = "private"


class Method(StrEnum):
    drg = "drg"
    single_disease = "single_disease"
    capitation = "capitation"


def _date(option: str, text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: must be a date YYYY-MM-DD, got {text!r}")


def _fen_or_none(option: str, text: str | None) -> int | None:
    return None if text is None else _fen(option, text)


def _fen(option: str, text: str) -> int:
    """Yuan typed at the command line, read as the API reads them (`money.entered_yuan`):
    plain digits below 10¹² ("1e5", "+5" and full-width digits are refused, as `cases
    recover` refuses them)."""
    from yibao.money import MoneyError, entered_yuan, yuan_to_fen

    try:
        return yuan_to_fen(entered_yuan(text))
    except MoneyError as exc:
        fail(f"{option}: {text!r} {exc}")


def _run(explicit_url: str | None, use_case) -> Any:
    """Migrate, run `use_case(db)` as the bureau; refusals exit 2, database failures exit 1."""
    from yibao.cli.service_cmd import migrated_database

    with migrated_database(explicit_url) as db:
        return use_case(db)


def _echo_json(data: Any) -> None:
    """JSON with money in yuan (two decimals), like the HTTP API."""
    from yibao.payment.lines import yuan_view
    from yibao.render.jsontext import dumps

    typer.echo(dumps(yuan_view(data)))


@agreement_app.command("add", cls=OneLineErrors)
def agreement_add(
    code: Code,
    kind: Annotated[AgreementKind, typer.Option(help="hospital, pharmacy or outpatient_pooling.")],
    ownership: Annotated[Ownership, typer.Option(help="public (VBP retention) or private.")],
    valid_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    valid_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    method: Annotated[
        list[Method] | None,
        typer.Option("--method", help="Payment method beyond fee for service (repeatable)."),
    ] = None,
    persons: Annotated[
        int, typer.Option(min=0, help="Capitation: contracted persons (按人头).")
    ] = 0,
    database_url: DatabaseUrl = None,
) -> None:
    """Sign a service agreement with an institution, with its term and payment methods."""
    from yibao.payment import service
    from yibao.service.principal import SYSTEM

    start, end = _date("--from", valid_from), _date("--to", valid_to)
    methods = [
        service.MethodSpec(m.value, persons if m == Method.capitation else 0)
        for m in (method or [])
    ]
    view = _run(
        database_url,
        lambda db: service.add_agreement(
            db, SYSTEM, code, kind.value, ownership.value, start, end, methods
        ),
    )
    _echo_json(view)


@payment_app.command("assess", cls=OneLineErrors)
def assess(
    code: Code,
    year: YearOption,
    score: Annotated[str, typer.Option(help="Assessment score 0..100 (two decimals at most).")],
    veto: Annotated[
        bool, typer.Option("--veto", help="Pharmacy one-vote veto (LY-25): deposit forfeited.")
    ] = False,
    sanction: Annotated[
        list[str] | None,
        typer.Option("--sanction", help="QD-28 outcome type, e.g. warning_interview (repeatable)."),
    ] = None,
    deduction: Annotated[
        str, typer.Option(help="Yuan deducted from the deposit as a sanction (LY-32).")
    ] = "0",
    note: Annotated[str, typer.Option(help="Free text kept with the assessment.")] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """Record an institution's annual assessment; prints its status and reasons."""
    from decimal import Decimal, InvalidOperation

    from yibao.payment import service
    from yibao.service.principal import SYSTEM

    try:
        points = Decimal(score)
    except InvalidOperation:
        fail(f"--score: not a number: {score!r}")
    if not points.is_finite() or points != points.quantize(Decimal("0.01")):
        fail("--score: must be a number with at most two decimals")
    fen = _fen("--deduction", deduction)
    view = _run(
        database_url,
        lambda db: service.record_assessment(
            db, SYSTEM, code, year, points, veto, list(sanction or []), fen, note
        ),
    )
    _echo_json(view)


@budget_app.command("set", cls=OneLineErrors)
def budget_set(
    code: Code,
    year: YearOption,
    budget: Annotated[str, typer.Option(help="Global budget in yuan (总额).")],
    vbp_budget: Annotated[
        str | None, typer.Option(help="VBP budget in yuan (带量采购); left out: kept (new: 0).")
    ] = None,
    vbp_paid: Annotated[
        str | None,
        typer.Option(help="Yuan the fund paid manufacturers for its VBP items; left out: kept."),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set an institution-year's global budget and VBP figures (before its year-end run)."""
    from yibao.payment import service
    from yibao.service.principal import SYSTEM

    amounts = (_fen("--budget", budget), _fen_or_none("--vbp-budget", vbp_budget))
    paid = _fen_or_none("--vbp-paid", vbp_paid)
    view = _run(
        database_url,
        lambda db: service.set_budget(db, SYSTEM, code, year, amounts[0], amounts[1], paid),
    )
    _echo_json(view)


@payment_app.command("year-end", cls=OneLineErrors)
def year_end(
    region: Annotated[str, typer.Argument(help="Region id, e.g. liaoyang.")],
    year: YearOption,
    database_url: DatabaseUrl = None,
) -> None:
    """Write the year-end statement of every institution of REGION with an agreement.

    Safe to repeat: done institutions are skipped; after a crash it finishes the rest."""
    from yibao.payment import service
    from yibao.service.principal import SYSTEM

    _echo_json(_run(database_url, lambda db: service.run_year_end(db, SYSTEM, region, year)))


@payment_app.command("statement", cls=OneLineErrors)
def statement(
    code: Code,
    year: YearOption,
    format: FormatOption = Format.json,
    database_url: DatabaseUrl = None,
) -> None:
    """Print an institution's stored year-end statement (json, or text with each rule)."""
    from yibao.payment import service
    from yibao.payment.lines import lines_text
    from yibao.service.principal import SYSTEM

    view = _run(database_url, lambda db: service.statement_view(db, SYSTEM, code, year))
    if format == Format.json:
        _echo_json(view)
        return
    typer.echo(f"{view['institution_code']} {view['year']} ({view['region']}) year-end statement")
    typer.echo(lines_text(view["lines"]))
    for flag, count in sorted(view["flags"].items()):
        typer.echo(f"flag {flag}: {count} stays")


@payment_app.command("drg", cls=OneLineErrors)
def drg(
    file: Annotated[str, typer.Argument(help="JSON stay (see examples/payment/), or -.")],
    format: FormatOption = Format.json,
) -> None:
    """Group and price one stay under its region's DRG terms (pure: no database)."""
    from yibao.claimfile import read_json
    from yibao.errors import InputError
    from yibao.payment.lines import lines_text
    from yibao.payment.pricing import price_stay_file

    try:
        paid = price_stay_file(read_json(file), file)
    except InputError as exc:
        fail(str(exc))
    if format == Format.json:
        _echo_json(paid)
        return
    flag = f" flag={paid['flag']}" if paid["flag"] else ""  # why it is not paid by group
    typer.echo(f"{paid['method']} group={paid['group'] or 'none'}{flag}")
    typer.echo(lines_text(paid["lines"]))
