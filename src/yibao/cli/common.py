"""What every command shares: the one-line error, the usage-error class, `--format`, and
`--database-url`. Command modules import these from here, never from `yibao.cli.main`, which
imports them while it loads."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from typer.core import TyperCommand


class Format(StrEnum):
    json = "json"
    text = "text"


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, nothing on stdout, non-zero exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


class OneLineErrors(TyperCommand):
    """A bad or missing option is reported like every other input error: one line, exit 2."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as exc:  # typer's usage errors exit with code 2
            if exc.exit_code != 2:
                raise
            fail(" ".join(exc.format_message().split()))


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql://postgres@127.0.0.1:5432/yibao "
        "[default: $YIBAO_DATABASE_URL, else sqlite:///yibao.db in the working directory]",
        show_default=False,
    ),
]


@contextmanager
def sigterm_stops() -> Iterator[None]:
    """SIGTERM (kill, a scheduler's stop) raises SystemExit (exit 143) in the main thread, as
    Ctrl-C raises KeyboardInterrupt: the command unwinds and removes its partial output, where
    the default action would end the process with it in place. Only the main thread may
    install a handler (tests may call from another: nothing is installed then)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


ProgressOption = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress", help="Progress bar on stderr (default: if a terminal)."
    ),
]
