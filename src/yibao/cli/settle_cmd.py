"""`yibao settle`: read, settle everything, then print — nothing is printed on bad input."""

from __future__ import annotations

from pathlib import Path

import typer

from yibao.claimfile import parse_claim_files
from yibao.cli.common import fail
from yibao.errors import InputError
from yibao.policy.loader import PolicyError


def run_settle(file: str, fmt: str, explain: bool, overlays: tuple[Path, ...]) -> None:
    from yibao.render.bill import render_person
    from yibao.render.jsontext import dumps
    from yibao.render.settlement_json import result_dict
    from yibao.settling import settle_file

    outputs = []
    try:
        claim_files = parse_claim_files(file)
        for i, claim_file in enumerate(claim_files):
            where = f"line {i + 1}: " if file.endswith(".jsonl") else ""
            try:
                settlements, state = settle_file(claim_file, overlays)
            except InputError as exc:
                raise InputError(where + str(exc)) from None
            outputs.append((claim_file, settlements, state))
    except (InputError, PolicyError) as exc:
        fail(str(exc))
    lines = file.endswith(".jsonl")
    for claim_file, settlements, state in outputs:
        region, pid = claim_file.region, claim_file.person.id
        if fmt == "json":
            typer.echo(dumps(result_dict(region, pid, settlements, state), None if lines else 2))
        else:
            typer.echo(render_person(region, pid, settlements, state, explain) + "\n")
