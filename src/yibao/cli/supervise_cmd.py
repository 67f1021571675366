"""`yibao supervise FILE... [--format json|text]`: supervision flags over claim files.

Everything is read and checked before anything is printed: on bad input one line on stderr
naming the file (when several are given), the line (`.jsonl`) and the field path, exit code 2.
The lead registers `run_supervise` in `cli/main.py`, e.g.:

    @app.command(cls=OneLineErrors)
    def supervise(
        files: Annotated[list[str], typer.Argument(help="Claim files (.json / .jsonl) or -.")],
        fmt: Annotated[Format, typer.Option("--format")] = Format.json,
    ) -> None:
        \"\"\"Run the supervision rules over claim files and print the flags.\"\"\"
        run_supervise(files, fmt.value)
"""

from __future__ import annotations

import typer

from yibao.claimfile import parse_claim_files
from yibao.errors import InputError


def run_supervise(files: list[str], fmt: str = "json") -> None:
    from yibao.cli.main import fail
    from yibao.policy.loader import packaged_regions
    from yibao.render.jsontext import dumps
    from yibao.supervision.engine import flag_dicts, supervise_claim_files

    claim_files = []
    try:
        for file in files:
            where = f"{file}: " if len(files) > 1 else ""
            try:
                parsed = parse_claim_files(file)
            except InputError as exc:
                raise InputError(where + str(exc)) from None
            known = packaged_regions()
            for i, cf in enumerate(parsed):
                if cf.region not in known:
                    line = f"line {i + 1}: " if file.endswith(".jsonl") else ""
                    raise InputError(
                        f"{where}{line}region: unknown region {cf.region!r} "
                        f"(known: {', '.join(known)})"
                    )
            claim_files += parsed
    except InputError as exc:
        fail(str(exc))
    flags = flag_dicts(supervise_claim_files(claim_files))
    if fmt == "json":
        typer.echo(dumps({"flags": flags}, 2))
        return
    typer.echo(render_text(flags))


def render_text(flags: list[dict]) -> str:
    """One block per flag: rule, person, claims, measured value vs threshold, money, basis."""
    if not flags:
        return "no flags"
    out = [f"{len(flags)} flag(s)"]
    for f in flags:
        ev = f["evidence"]
        lines = ", ".join(f"{x['claim_id']}#{x['line_no']} {x['code']}" for x in f["lines"])
        skip = ("measure", "value", "threshold", "comparison")
        extra = "  ".join(f"{k}={v}" for k, v in ev.items() if k not in skip)
        out += [
            "",
            f"[{f['severity']}] {f['rule']} {f['name_zh']} ({f['name_en']})",
            f"  person {f['person_id']}  institution {f['institution'] or '-'}  "
            f"claims {', '.join(f['claim_ids'])}",
            f"  {ev['measure']} = {ev['value']} {ev.get('comparison', 'vs')} {ev['threshold']}"
            + (f"  ({extra})" if extra else ""),
            f"  amount at risk {f['amount_at_risk_fen'] / 100:.2f} yuan",
            f"  lines: {lines}",
            f"  basis: {f['basis']}",
        ]
    return "\n".join(out)
