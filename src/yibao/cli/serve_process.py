"""`yibao serve` in a child process on a free loopback port, for demos and benchmarks.

`running_server(url)` starts it, waits until it answers HTTP and always stops it again —
the child and any uvicorn workers, which share its process group — even on error.
`serving(url)` does the same and yields a `Server`, whose `cpu_seconds()` is the CPU time
its processes have used so far (a benchmark's stable figure on a busy machine), and
`connections_by_pid()` how many client connections each of its processes holds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path


class ServerFailed(RuntimeError):
    """The server exited or never answered; the message ends with its last log lines."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running `yibao serve`: its base URL and the process group it leads."""

    base: str
    pid: int

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server's processes (master and workers) so far, from
        /proc; None where there is no /proc. A worker that exited no longer counts."""
        return group_cpu_seconds(self.pid)

    def connections_by_pid(self) -> Counter[int] | None:
        """How many established connections to the server's port each of its processes
        holds (which worker serves which client), from /proc; None where there is none."""
        port = int(self.base.rsplit(":", 1)[1])
        inodes = tcp_inodes(port, ESTABLISHED)
        if inodes is None:
            return None
        held: Counter[int] = Counter()
        for pid in group_stats(self.pid):
            held[pid] += len(inodes & socket_inodes(pid))
        return +held  # drop processes holding none


def group_cpu_seconds(pgid: int) -> float | None:
    if not Path("/proc").is_dir():
        return None
    ticks = sum(
        int(fields[11]) + int(fields[12])  # utime, stime
        for fields in group_stats(pgid).values()
    )
    return ticks / os.sysconf("SC_CLK_TCK")


def group_stats(pgid: int) -> dict[int, list[str]]:
    """pid → the /proc/PID/stat fields after the name, for each process of group `pgid`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process went away meanwhile
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, …
            found[int(entry.name)] = fields
    return found


ESTABLISHED, LISTEN = "01", "0A"  # TCP states as /proc/net/tcp writes them


def tcp_inodes(port: int, state: str) -> set[int] | None:
    """Inodes of the TCP sockets in `state` whose local port is `port`; None without /proc."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    inodes = set()
    for table in (t for t in tables if t.exists()):
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local_port, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[9]
            if local_port == port and fields[3] == state:
                inodes.add(int(inode))
    return inodes


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process `pid` has open (empty if it is gone)."""
    inodes = set()
    with suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


@contextmanager
def running_server(
    database_url: str, workers: int = 1, startup_timeout: float = 60.0, log: Path | None = None
) -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:PORT) of a running `yibao serve`.

    The server's output goes to `log` when given (kept afterwards), else to a temporary file
    whose last lines are shown if the server fails to start."""
    with serving(database_url, workers, startup_timeout, log) as server:
        yield server.base


@contextmanager
def serving(
    database_url: str, workers: int = 1, startup_timeout: float = 60.0, log: Path | None = None
) -> Iterator[Server]:
    """As `running_server`, yielding the `Server` (URL and process group)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "yibao.cli.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        database_url,
        "--workers",
        str(workers),
        "--no-access-log",
    ]
    with tempfile.TemporaryDirectory(prefix="yibao-serve-") as tmp:
        log_path = log or Path(tmp) / "server.log"
        with log_path.open("wb") as out:
            child = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_answering(base, child, log_path, startup_timeout)
            yield Server(base, child.pid)
        finally:
            _stop(child)


def _wait_until_answering(
    base: str, child: subprocess.Popen, log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise ServerFailed(f"yibao serve exited with code {child.returncode}" + _tail(log_path))
        try:
            with urllib.request.urlopen(base + "/openapi.json", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is up
        except OSError:
            time.sleep(0.1)
    raise ServerFailed(f"yibao serve did not answer within {timeout:.0f} s" + _tail(log_path))


def _tail(log_path: Path, lines: int = 15) -> str:
    text = log_path.read_text("utf-8", errors="replace").strip().splitlines()[-lines:]
    return ("; server log:\n" + "\n".join(text)) if text else ""


def _stop(child: subprocess.Popen) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL to the child's own group."""
    if child.poll() is None:
        child.terminate()
        with suppress(subprocess.TimeoutExpired):
            child.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)  # leftover workers; the group is ours alone
    child.wait()
