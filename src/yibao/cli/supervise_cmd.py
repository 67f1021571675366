"""`yibao supervise FILE... [--format json|text]`: supervision flags over claim files.

JSON: `{"flags": [...], "institution_flags": [...]}` — person-level flags, then the
institution-level ones (`institution_outlier`: `person_id` null, no claims); `--out` writes
the first to the given Parquet file and the second beside it (`*.institutions.parquet`).

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

from pathlib import Path

import typer

from yibao.claimfile import parse_claim_files
from yibao.errors import InputError


def run_supervise(files: list[str], fmt: str = "json", out: str | None = None) -> None:
    """Claim files, or one folder of Parquet tables (`yibao synth`); `out` writes Parquet."""
    from yibao.cli.common import fail
    from yibao.render.jsontext import dumps
    from yibao.supervision.engine import (
        claim_files_frames,
        flag_dicts,
        institution_flags_path,
        supervise_all,
        supervise_parquet_files,
    )

    try:
        if len(files) == 1 and Path(files[0]).is_dir():
            persons, lines = _table_paths(Path(files[0]))
            found = supervise_parquet_files(str(persons), str(lines))
            flags, by_institution = found.flags, found.institution_flags
        else:
            flags, by_institution = supervise_all(*claim_files_frames(_claim_files(files)))
    except InputError as exc:
        fail(str(exc))
    if out is not None:
        flags.write_parquet(out)
        second = institution_flags_path(out)
        by_institution.write_parquet(second)
        typer.echo(
            f"{flags.height} flag(s) written to {out}, "
            f"{by_institution.height} institution flag(s) to {second}",
            err=True,
        )
        return
    found, institutions = flag_dicts(flags), flag_dicts(by_institution)
    if fmt == "json":
        typer.echo(dumps({"flags": found, "institution_flags": institutions}, 2))
    else:
        typer.echo(render_text(found + institutions))


def _table_paths(folder: Path) -> list[Path]:
    """The two synth tables of `folder`; read one person partition at a time later."""
    paths = [folder / "persons.parquet", folder / "claim_lines.parquet"]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise InputError(f"{folder}: missing {', '.join(missing)}")
    return paths


def _claim_files(files: list[str]) -> list:
    from yibao.policy.loader import packaged_regions

    known = packaged_regions()
    claim_files = []
    for file in files:
        where = f"{file}: " if len(files) > 1 else ""
        try:
            parsed = parse_claim_files(file)
        except InputError as exc:
            raise InputError(where + str(exc)) from None
        for i, cf in enumerate(parsed):
            if cf.region not in known:
                line = f"line {i + 1}: " if file.endswith(".jsonl") else ""
                raise InputError(
                    f"{where}{line}region: unknown region {cf.region!r} (known: {', '.join(known)})"
                )
        claim_files += parsed
    return claim_files


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
        who = f"person {f['person_id']}" if f["person_id"] else "institution-level flag"
        out += [
            "",
            f"[{f['severity']}] {f['rule']} {f['name_zh']} ({f['name_en']})",
            f"  {who}  institution {f['institution'] or '-'}  "
            f"claims {', '.join(f['claim_ids']) or '-'}",
            f"  {ev['measure']} = {ev['value']} {ev.get('comparison', 'vs')} {ev['threshold']}"
            + (f"  ({extra})" if extra else ""),
            f"  amount at risk {f['amount_at_risk_fen'] / 100:.2f} yuan",
            f"  lines: {lines or '-'}",
            f"  basis: {f['basis']}",
        ]
    return "\n".join(out)
