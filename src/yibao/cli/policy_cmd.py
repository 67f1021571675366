"""`yibao policy list | show | diff | validate`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from yibao.cli.common import fail
from yibao.policy.loader import PolicyError, load_region, load_with_overlays, packaged_regions


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)")
    return None


def _load(region: str, overlays: tuple[Path, ...]):
    try:
        return load_with_overlays(region, overlays)
    except PolicyError as exc:
        fail(str(exc))


def run_list() -> None:
    """Every region that loads; one bad region file is reported after the others, exit 2."""
    bad = []
    for region in packaged_regions():
        try:
            policy = load_region(region)
        except PolicyError as exc:
            bad.append(str(exc))
            continue
        typer.echo(f"{region}  {policy.name}  seed {policy.seed}")
        for v in policy.versions:
            end = v.valid_to.isoformat() if v.valid_to else "open"
            typer.echo(f"    {v.valid_from.isoformat()} → {end}  {v.label}")
    for message in bad:
        typer.echo(f"error: {message}", err=True)
    if bad:
        raise typer.Exit(2)


def run_validate(paths: list[Path], region: str | None, seeds: Path | None) -> None:
    """`ok: FILE` for each good file, `FILE: path: reason` for each problem; exit 2 on any."""
    from yibao.policy.checks import DEFAULT_SEEDS, known_ids, validate_file

    try:
        known = known_ids(seeds or DEFAULT_SEEDS)
    except FileNotFoundError as exc:
        fail(f"--seeds: {exc} (give --seeds DIR, the folder of the seed .txt files)")
    failed = False
    for path in paths:
        problems = validate_file(path, region, known)
        failed = failed or bool(problems)
        for p in problems:
            typer.echo(f"{path}: {p.path}: {p.reason}" if p.path else f"{path}: {p.reason}")
        if not problems:
            typer.echo(f"ok: {path}")
    if failed:
        raise typer.Exit(2)


def _version(policy, day: dt.date | None):
    if day is None:
        return policy.versions[-1]
    try:
        return policy.version_on(day)
    except LookupError as exc:
        fail(str(exc))


def run_show(region: str, date: str | None, fmt: str, overlays: tuple[Path, ...]) -> None:
    from yibao.policy.flatten import flatten
    from yibao.render.jsontext import dumps

    policy = _load(region, overlays)
    version = _version(policy, _date(date, "--date"))
    rows = flatten(version)
    if fmt == "json":
        typer.echo(
            dumps(
                {
                    "region": region,
                    "version": policy.version_id(version),
                    "valid_from": version.valid_from.isoformat(),
                    "valid_to": version.valid_to.isoformat() if version.valid_to else None,
                    "label": version.label,
                    "values": [
                        {"path": r.path, "value": r.value, r.kind: r.provenance} for r in rows
                    ],
                }
            )
        )
        return
    typer.echo(f"{policy.name} {policy.version_id(version)} — {version.label}")
    for r in rows:
        typer.echo(f"  {r.path} = {r.value}\n      [{r.provenance}]")


def run_diff(region: str, start: str, end: str, overlays: tuple[Path, ...]) -> None:
    from yibao.policy.flatten import flatten

    base = _load(region, ())
    new = _load(region, overlays)
    old_v = _version(base, _date(start, "--from"))
    new_v = _version(new, _date(end, "--to"))
    old = {r.path: r for r in flatten(old_v, settings=True)}
    cur = {r.path: r for r in flatten(new_v, settings=True)}
    typer.echo(f"{region}: {base.version_id(old_v)} → {new.version_id(new_v)}")
    changed = 0
    for path in sorted(old.keys() | cur.keys()):
        a, b = old.get(path), cur.get(path)
        if a and b and (a.value, a.provenance) == (b.value, b.provenance):
            continue
        changed += 1
        if a is None:
            typer.echo(f"+ {path} = {b.value}  [{b.provenance}]")
        elif b is None:
            typer.echo(f"- {path} = {a.value}  [{a.provenance}]")
        elif a.value == b.value:  # the number stands; only where it comes from changed
            typer.echo(f"~ {path}: {b.value}, source changed: [{a.provenance}] → [{b.provenance}]")
        else:
            typer.echo(f"~ {path}: {a.value} → {b.value}  [{b.provenance}]")
    if not changed:
        typer.echo("no differences")
