"""`yibao settle`: read, settle everything, then print — nothing is printed on bad input.

Each person's result is rendered as soon as it is settled into a spooled temporary file (in
memory up to `SPOOL_BYTES`, then on disk), which goes to stdout only once every person has
settled: memory stays flat on a large `.jsonl` while a bad line still leaves stdout empty.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from yibao.claimfile import claim_files_of
from yibao.cli.common import fail
from yibao.errors import InputError
from yibao.policy.loader import PolicyError
from yibao.policy.overlays import check_overlay_regions, overlays_for

SPOOL_BYTES = 16 * 1024 * 1024


def run_settle(file: str, fmt: str, explain: bool, overlays: tuple[Path, ...]) -> None:
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES, "w+", encoding="utf-8") as spool:
        try:
            _settle_into(spool, file, fmt, explain, overlays)
        except (InputError, PolicyError) as exc:
            message = str(exc)
            # a line of a .jsonl is a place in the file: name the file with it
            fail(f"{file}: {message}" if message.startswith("line ") and file != "-" else message)
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout)


def _settle_into(spool, file: str, fmt: str, explain: bool, overlays: tuple[Path, ...]) -> None:
    from yibao.render.bill import render_person
    from yibao.render.jsontext import dumps
    from yibao.render.settlement_json import result_dict
    from yibao.settling import settle_file

    claim_files, by_line = claim_files_of(file, one_per_person=True)
    regions: set[str] = set()
    for i, claim_file in enumerate(claim_files):
        regions.add(claim_file.region)
        try:
            settlements, state = settle_file(claim_file, overlays_for(claim_file.region, overlays))
        except InputError as exc:
            raise InputError((f"line {i + 1}: " if by_line else "") + str(exc)) from None
        region, pid = claim_file.region, claim_file.person.id
        if fmt == "json":
            result = result_dict(region, pid, settlements, state)
            spool.write(dumps(result, None if by_line else 2) + "\n")
        else:
            spool.write(render_person(region, pid, settlements, state, explain) + "\n\n")
    if not regions:
        raise InputError(f"{file}: holds no claim file")
    # persons of several regions each take their region's overlays, as in `yibao batch`;
    # one written for a region no person is in would have changed nothing
    check_overlay_regions(overlays, regions)
