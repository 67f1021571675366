"""`yibao cases ...`: Supervision cases: flags under review, appeals, decisions and recoveries.

Only typer is imported here; each command imports its code lazily so `yibao --help` stays fast.
The CLI is the operator's: each command acts with the role its step needs (import, decide and
recover as the bureau; review and re-review as an auditor; appeal as the institution named by
`--institution`), recorded under the name given with `--actor`. Reading acts as the bureau.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from yibao.cli.common import DatabaseUrl, Format, OneLineErrors, fail

cases_app = typer.Typer(
    help="Supervision cases: flags under review, appeals, decisions and recoveries.",
    no_args_is_help=True,
)

CaseId = Annotated[int, typer.Argument(min=1, help="Case number (yibao cases list).")]
Actor = Annotated[
    str, typer.Option("--actor", help="Who takes this step (recorded in the steps and audit).")
]
Reader = Annotated[str, typer.Option("--actor", help="Who reads (recorded nowhere).")]
FormatOption = Annotated[Format, typer.Option("--format", help="text (default) or json.")]


class Recommendation(StrEnum):
    confirm = "confirm"
    dismiss = "dismiss"


class Outcome(StrEnum):
    confirmed = "confirmed"
    dismissed = "dismissed"


RecommendationOption = Annotated[
    Recommendation, typer.Option("--recommendation", help="What the reviewer recommends.")
]
NoteOption = Annotated[str, typer.Option("--note", help="The reviewer's finding.")]


@cases_app.command("import", cls=OneLineErrors)
def import_(
    file: Annotated[
        str,
        typer.Argument(help="Flags: `yibao supervise --format json` output, - , or flags.parquet."),
    ],
    actor: Actor,
    group: Annotated[
        bool, typer.Option("--group", help="One case per rule, person and institution.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Open a case for every flag not seen before (as the bureau); safe to repeat."""
    run_import(file, actor, group, database_url)


@cases_app.command("list", cls=OneLineErrors)
def list_(
    status: Annotated[str | None, typer.Option(help="Only cases in this status.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only cases of this rule.")] = None,
    institution: Annotated[str | None, typer.Option(help="Only this institution's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many cases.")] = 100,
    offset: Annotated[int, typer.Option(min=0, max=10**9, help="Skip this many cases first.")] = 0,
    format: FormatOption = Format.text,
    actor: Reader = "cli",
    database_url: DatabaseUrl = None,
) -> None:
    """Cases, oldest first, one line each (or JSON); a page of them says so on stderr."""
    page = (limit, offset)
    run_list(status, rule, institution, page, format.value, actor, database_url)


@cases_app.command("show", cls=OneLineErrors)
def show(
    case_id: CaseId,
    format: FormatOption = Format.text,
    actor: Reader = "cli",
    database_url: DatabaseUrl = None,
) -> None:
    """One case: its evidence and every step."""
    run_show(case_id, format.value, actor, database_url)


@cases_app.command("review", cls=OneLineErrors)
def review(
    case_id: CaseId,
    note: NoteOption,
    recommendation: RecommendationOption,
    actor: Actor,
    database_url: DatabaseUrl = None,
) -> None:
    """First review of an open case (as an auditor)."""
    run_step(case_id, "review", actor, database_url, note=note, recommendation=recommendation)


@cases_app.command("re-review", cls=OneLineErrors)
def re_review(
    case_id: CaseId,
    note: NoteOption,
    recommendation: RecommendationOption,
    actor: Actor,
    database_url: DatabaseUrl = None,
) -> None:
    """Re-review (as an auditor other than the reviewer); opens the appeal window."""
    run_step(case_id, "re_review", actor, database_url, note=note, recommendation=recommendation)


@cases_app.command("appeal", cls=OneLineErrors)
def appeal(
    case_id: CaseId,
    reason: Annotated[str, typer.Option("--reason", help="Why the institution disagrees.")],
    institution: Annotated[
        str, typer.Option("--institution", help="The appealing institution (must be the case's).")
    ],
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who files it [default: the institution code].")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Record the institution's appeal of a re-reviewed case, within the appeal window."""
    who = actor or institution
    run_step(case_id, "appeal", who, database_url, note=reason, institution=institution)


@cases_app.command("decide", cls=OneLineErrors)
def decide(
    case_id: CaseId,
    outcome: Annotated[Outcome, typer.Option("--outcome", help="confirmed or dismissed.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the decision).")],
    actor: Actor,
    database_url: DatabaseUrl = None,
) -> None:
    """Decide a case (as the bureau), after the appeal or after its window closed."""
    run_step(case_id, "decision", actor, database_url, note=reason, outcome=outcome.value)


@cases_app.command("recover", cls=OneLineErrors)
def recover(
    case_id: CaseId,
    amount: Annotated[str, typer.Option("--amount", help="Yuan recovered, e.g. 123.45.")],
    actor: Actor,
    note: Annotated[str, typer.Option("--note", help="How it was recovered.")] = "",
    justification: Annotated[
        str | None,
        typer.Option(help="Needed when the total recovered would exceed the amount at risk."),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Record money recovered on a confirmed case (as the bureau); recoveries add up."""
    run_recover(case_id, amount, actor, note, justification, database_url)


@cases_app.command("precision", cls=OneLineErrors)
def precision(
    format: FormatOption = Format.text,
    actor: Reader = "cli",
    database_url: DatabaseUrl = None,
) -> None:
    """Each rule's measured precision, confirmed / (confirmed + dismissed), with counts."""
    run_precision(format.value, actor, database_url)


# ---------------------------------------------------------------- what the commands run
def _who(actor: str, role: str, institution: str | None = None):
    """The operator acting in `role` as `actor`, a name as `yibao user add` takes it."""
    from yibao.service.institutions import USER_NAME
    from yibao.service.principal import Principal

    if not USER_NAME.fullmatch(actor):
        fail(f"--actor: {actor!r} must be 1–60 characters without spaces")
    return Principal(actor, role, institution)  # type: ignore[arg-type]


def migrated_database(explicit_url: str | None):
    """The service commands' migrated database (imported late: `yibao --help` stays fast)."""
    from yibao.cli.service_cmd import migrated_database as opened

    return opened(explicit_url)


def _echo_json(value) -> None:
    from yibao.cases.render import with_yuan
    from yibao.render.jsontext import dumps, plain

    if isinstance(value, list):
        value = [with_yuan(v) for v in value]
    elif "amount_at_risk_fen" in value:
        value = with_yuan(value)
    typer.echo(dumps(plain(value), 2))


def run_import(file: str, actor: str, group: bool, explicit_url: str | None) -> None:
    from yibao.cases import service

    who = _who(actor, "bureau")
    flags = _read_flags(file)
    with migrated_database(explicit_url) as db:
        done = service.import_flags(db, who, flags, group)
    ids, updated = done["case_ids"], done["updated_case_ids"]
    span = f" (#{ids[0]}…#{ids[-1]})" if ids else ""
    grown = ""
    if updated:
        listed = ", ".join(f"#{i}" for i in updated[:5]) + (", …" if len(updated) > 5 else "")
        grown = f"updated {len(updated)} open case(s) ({listed}), "
    typer.echo(
        f"{done['flags']} flag(s): opened {done['opened']} case(s){span}, {grown}"
        f"{done['already_open']} flag(s) already had a case"
    )


def _read_flags(file: str) -> list:
    """Flags from supervise's JSON (a file or -) or its Parquet (`--out`)."""
    import json
    import sys
    from pathlib import Path

    from yibao.cases.flags import parse_flags
    from yibao.service.errors import ServiceError

    try:
        if file.endswith(".parquet"):
            raw = _parquet_flags(file)
        else:
            text = sys.stdin.read() if file == "-" else Path(file).read_text("utf-8")
            raw = json.loads(text)
        return parse_flags(raw)
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}")
    except ValueError as exc:  # bad JSON; bad Parquet columns
        fail(f"{file}: {str(exc).splitlines()[0]}")
    except ServiceError as exc:
        fail(f"{file}: {exc.message}")
    raise AssertionError("unreachable")


def _parquet_flags(file: str) -> list[dict]:
    import json

    import polars as pl

    try:
        rows = pl.read_parquet(file).to_dicts()
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"not a flags Parquet file ({type(exc).__name__})") from None
    for row in rows:
        if isinstance(row.get("evidence"), str):
            row["evidence"] = json.loads(row["evidence"])
    return rows


def run_list(status, rule, institution, page, fmt, actor, explicit_url) -> None:
    from yibao.cases import service
    from yibao.cases.render import case_line, page_hint

    limit, offset = page
    who = _who(actor, "bureau")
    with migrated_database(explicit_url) as db:
        rows = service.list_cases(db, who, status, rule, institution, limit, offset)
        total = service.count_cases(db, who, status, rule, institution)
    if fmt == "json":
        _echo_json(rows)
    else:
        typer.echo("\n".join(case_line(r) for r in rows) if rows else "no cases")
    hint = page_hint(offset, len(rows), total)
    if hint:
        typer.echo(hint, err=True)


def run_show(case_id: int, fmt: str, actor: str, explicit_url: str | None) -> None:
    from yibao.cases import service
    from yibao.cases.render import case_text

    with migrated_database(explicit_url) as db:
        view = service.case_view(db, _who(actor, "bureau"), case_id)
    if fmt == "json":
        _echo_json(view)
        return
    typer.echo(case_text(view))


ROLE_OF_STEP = {
    "review": "auditor",
    "re_review": "auditor",
    "appeal": "institution",
    "decision": "bureau",
    "recovery": "bureau",
}


def run_step(
    case_id: int,
    action: str,
    actor: str,
    explicit_url: str | None,
    institution: str | None = None,
    **fields,
) -> None:
    from yibao.cases import service
    from yibao.service.errors import NotFound

    who = _who(actor, ROLE_OF_STEP[action], institution)
    with migrated_database(explicit_url) as db:
        try:
            view = service.advance(db, who, case_id, action, **fields)
        except NotFound:
            if institution is not None:
                _check_institution(db, case_id, institution)
            raise
    step = view["steps"][-1]
    typer.echo(f"case #{case_id}: {action.replace('_', '-')} recorded, now {view['status']}")
    if step["action"] == "recovery":
        from yibao.money import yuan_str

        typer.echo(
            f"recovered {yuan_str(view['recovered_fen'])} of "
            f"{yuan_str(view['amount_at_risk_fen'])} yuan at risk"
        )


def _check_institution(db, case_id: int, institution: str) -> None:
    """The operator has the database, so "not found" for a case of another institution is
    said as it is (the API says "not found" to an institution: it may not learn of others)."""
    from yibao.cases import service
    from yibao.service.errors import NotFound, ServiceError
    from yibao.service.principal import SYSTEM

    try:
        named = service.case_view(db, SYSTEM, case_id)["institution"]
    except NotFound:
        return
    names = f"names institution {named}" if named else "names no institution"
    raise ServiceError(f"--institution: case {case_id} {names}, not {institution}")


def run_recover(
    case_id: int,
    amount: str,
    actor: str,
    note: str,
    justification: str | None,
    explicit_url: str | None,
) -> None:
    fen = _recovery_fen(amount)
    run_step(
        case_id, "recovery", actor, explicit_url,
        amount_fen=fen, note=note, justification=justification,
    )  # fmt: skip


def _recovery_fen(amount: str) -> int:
    """Yuan as the API reads a recovery (`money.positive_yuan`), in fen."""
    from yibao.money import MoneyError, positive_yuan, yuan_to_fen

    try:
        return yuan_to_fen(positive_yuan(amount))
    except MoneyError as exc:
        fail(f"--amount: {amount!r} {exc}")


def run_precision(fmt: str, actor: str, explicit_url: str | None) -> None:
    from yibao.cases import service
    from yibao.cases.render import precision_text

    with migrated_database(explicit_url) as db:
        table = service.precision(db, _who(actor, "bureau"))
    typer.echo(_json_text(table) if fmt == "json" else precision_text(table))


def _json_text(value) -> str:
    from yibao.render.jsontext import dumps

    return dumps(value, 2)
