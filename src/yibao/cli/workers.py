"""`yibao serve --workers N`: N uvicorn worker processes, each accepting on its own socket.

With one listening socket shared by every worker, asyncio's accept loop in whichever worker
wakes first takes all pending connections of a burst, so a handful of keep-alive clients
land on one worker (measured: 8 of 8 connections on one of two workers, at 72% vs 6% CPU).
Here each worker gets its own socket bound with SO_REUSEPORT to the same address, and the
kernel spreads new connections over them by a hash of the connection's addresses (Linux
≥ 3.9). Where SO_REUSEPORT is missing the workers share one socket as before, with a note.

A worker slot keeps its socket for the life of the server: the parent holds every socket,
so connections the kernel hashed to a worker that died wait in its socket's queue for the
replacement instead of being refused.
"""

from __future__ import annotations

import logging
import socket
import sys

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


def listening_sockets(host: str, port: int, count: int, backlog: int = 2048) -> list[socket.socket]:
    """`count` sockets listening on host:port, one per worker; one socket for all where the
    platform lacks SO_REUSEPORT. Port 0 picks a free port, the same for every socket.

    Raises OSError when the address is taken — also by another `yibao serve`: the first
    socket is bound without SO_REUSEPORT, so it cannot silently join another server's group,
    and SO_REUSEPORT is set on it only once the bind has succeeded."""
    first = _bound(host, port, reuse_port=False)
    try:
        first.setsockopt(socket.SOL_SOCKET, _reuse_port_option(), 1)
    except OSError as exc:
        return _shared(first, backlog, f"SO_REUSEPORT is not available ({exc.strerror})")
    first.listen(backlog)
    sockets = [first]
    try:
        for _ in range(count - 1):
            sockets.append(_bound(host, first.getsockname()[1], reuse_port=True))
            sockets[-1].listen(backlog)
    except OSError as exc:
        for extra in sockets[1:]:
            extra.close()
        return _shared(first, backlog, f"a second SO_REUSEPORT socket failed ({exc.strerror})")
    return sockets


def _reuse_port_option() -> int:
    option = getattr(socket, "SO_REUSEPORT", None)
    if option is None:
        raise OSError(0, "no such socket option on this platform")
    return option


def _bound(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to host:port, as uvicorn binds one, plus TCP_NODELAY.

    Accepted connections inherit TCP_NODELAY from the listening socket (Linux): without it
    Nagle's algorithm holds each small response for the client's delayed ACK (~40 ms)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT only
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, _reuse_port_option(), 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _shared(sock: socket.socket, backlog: int, why: str) -> list[socket.socket]:
    print(f"note: {why}; the workers share one listening socket", file=sys.stderr)
    sock.listen(backlog)
    return [sock]


class Workers(Multiprocess):
    """uvicorn's supervisor (health pings, restart of a dead or hung worker, graceful stop on
    SIGINT/SIGTERM, SIGHUP replaces every worker) with one socket per worker slot.

    Slot i listens on sockets[i % len(sockets)]: its own socket, or the shared one. The
    number of workers is fixed: SIGTTIN/SIGTTOU are refused, since a removed worker would
    leave its socket in the kernel's group with nobody accepting on it."""

    def _spawn(self, slot: int) -> Process:
        process = Process(self.config, [self.sockets[slot % len(self.sockets)]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._spawn(slot) for slot in range(self.processes_num)]

    def keep_subprocess_alive(self) -> None:
        """uvicorn's check, restarting a dead or hung worker on its own slot's socket."""
        for slot, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung, or already gone
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # It failed before serving (app import, database …): every restart would too.
                logger.error(f"Child process [{process.pid}] failed to start, stopping.")
                self.should_exit.set()
                return
            logger.info(f"Child process [{process.pid}] died")
            self.processes[slot] = self._spawn(slot)

    def restart_all(self) -> None:
        """Replace each worker, the new one serving its slot before the old one stops."""
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._spawn(slot)
            ready = new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit)
            if not ready:
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error(f"New child process [{new.pid}] was not ready; restart aborted.")
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN: the number of workers is fixed; restart with --workers.")

    def handle_ttou(self) -> None:
        logger.info("Received SIGTTOU: the number of workers is fixed; restart with --workers.")


def serve_workers(config: Config, sockets: list[socket.socket]) -> None:
    """Run `config.workers` workers on `sockets` until SIGINT/SIGTERM, then close them."""
    try:
        Workers(config, sockets).run()
    finally:
        for sock in sockets:
            sock.close()
