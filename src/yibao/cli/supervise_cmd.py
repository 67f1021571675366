"""`yibao supervise FILE... [--format json|text]`: supervision flags over claim files.

JSON: `{"flags": [...], "institution_flags": [...]}` — person-level flags, then the
institution-level ones (`institution_outlier`: `person_id` null, no claims); `--out` writes
the first to the given Parquet file and the second beside it (`*.institutions.parquet`).

Stdin (`-`) holds one claim file, or JSON Lines (one a line) when a second JSON document
follows the first. A folder of Parquet tables must be the only argument.

Everything is read and checked before anything is printed or written: on bad input one line
on stderr naming the file (when several are given), the line (`.jsonl`) and the field path,
or the table and why it cannot be read (a missing column, one of the wrong type, a line given
twice), or the `--out` file and why it cannot be written; exit code 2. A file (or stdin)
holding no claim file is bad input, and so are a claim given twice and two people under one
person id (`engine.claim_files_frames`: each would raise flags that are not there). The two
`--out` tables are written beside their place and moved in together.
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

from collections.abc import Callable
from pathlib import Path

import polars as pl
import typer

from yibao.atomic_files import written_beside
from yibao.claimfile import read_claim_files
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
        folders = [f for f in files if f != "-" and Path(f).is_dir()]
        if folders and len(files) > 1:
            raise InputError(
                f"{folders[0]}: is a folder; give one folder of Parquet tables alone, "
                "or claim files (.json / .jsonl / -)"
            )
        targets = _out_paths(out, institution_flags_path) if out is not None else None
        if folders:
            persons, lines = _table_paths(Path(folders[0]))
            found = supervise_parquet_files(str(persons), str(lines))
            flags, by_institution = found.flags, found.institution_flags
            if twice := found.listed_twice:
                # which row's facts (death date, enrollment) the rules saw depends on the order
                typer.echo(
                    f"note: {len(twice):,} person_id(s) listed more than once in {persons.name}; "
                    f"the first row of each is used, e.g. {', '.join(twice[:5])}",
                    err=True,
                )
        else:
            flags, by_institution = supervise_all(*claim_files_frames(*_claim_files(files)))
        if targets is not None:
            _write_both([(flags, targets[0]), (by_institution, targets[1])])
    except InputError as exc:
        fail(str(exc))
    if targets is not None:
        typer.echo(
            f"{flags.height} flag(s) written to {targets[0]}, "
            f"{by_institution.height} institution flag(s) to {targets[1]}",
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


def _out_paths(out: str, beside: Callable[[str], str]) -> tuple[Path, Path]:
    """`--out` and the institution table beside it, checked before any work is done."""
    targets = (Path(out), Path(beside(out)))
    for target in targets:
        if target.is_dir():
            raise InputError(f"{target}: is a directory (--out names the Parquet file to write)")
    if not targets[0].parent.is_dir():
        raise InputError(f"{out}: cannot write (no folder {targets[0].parent})")
    return targets


def _write_both(tables: list[tuple[pl.DataFrame, Path]]) -> None:
    """Each (frame, path) written beside its path, then moved into place once all are
    written: a failure leaves neither table, nor a temporary file."""
    where = tables[0][1]  # the table being written when it failed
    try:
        with written_beside(*(path for _, path in tables)) as partials:
            for (frame, path), partial in zip(tables, partials, strict=True):
                where = path
                frame.write_parquet(partial)
    except (OSError, pl.exceptions.PolarsError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise InputError(f"{where}: cannot write ({reason})") from None


def _claim_files(files: list[str]) -> tuple[list, list[str]]:
    """The claim files of `files`, and where each is (`file` or `file: line N`) for the
    errors of `claim_files_frames`: a claim given twice, two people under one id."""
    from yibao.policy.loader import packaged_regions, unknown_region

    known = packaged_regions()
    claim_files, sources = [], []
    for file in files:
        where = f"{file}: " if len(files) > 1 else ""
        parsed, by_line = _read(file, where)
        if not parsed:
            # an empty export (or a truncated one) is not a clean month
            raise InputError(f"{file}: holds no claim file")
        for i, cf in enumerate(parsed):
            line = f"line {i + 1}: " if by_line else ""
            if cf.region not in known:
                raise InputError(f"{where}{line}region: {unknown_region(cf.region, known)}")
            sources.append(f"{file}: line {i + 1}" if by_line else file)
        claim_files += parsed
    return claim_files, sources


def _read(file: str, where: str) -> tuple[list, bool]:
    """`read_claim_files`, its error naming `file` once (`where` when several are given)."""
    try:
        return read_claim_files(file)
    except InputError as exc:
        message = str(exc)  # a read error names the file already
        if not message.startswith(f"{file}: "):
            message = where + message
        raise InputError(message) from None


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
