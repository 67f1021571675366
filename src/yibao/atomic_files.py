"""Output files that appear only complete: written under a temporary name beside their place
(the same file system, so the move is atomic) and moved onto it when the writing succeeded.
A stopped run (an error, Ctrl-C, SIGTERM raised as SystemExit) leaves a previous file as it
was and no temporary one; a closed Parquet file would look complete however little it held."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_beside(*targets: Path) -> Iterator[list[Path]]:
    """A temporary file beside each target, to write; when the block ends without an
    exception each is moved onto its target, otherwise all are removed."""
    partials: list[Path] = []
    try:
        partials += [partial_path(target) for target in targets]
        yield partials
        for partial, target in zip(partials, targets, strict=True):
            os.replace(partial, target)
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)


def partial_path(out: Path) -> Path:
    """A new empty file `.{name}.partial-XXXXXXXX` beside `out`, created exclusively (two runs
    never share one), with the permissions a new `out` would have (umask applies)."""
    while True:
        path = out.with_name(f".{out.name}.partial-{secrets.token_hex(4)}")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:  # name what the user gave, not the hidden temporary name
            folder = out.parent if str(out.parent) else Path(".")
            raise OSError(
                exc.errno, f"cannot write in {folder} ({exc.strerror})", str(out)
            ) from None
        return path
