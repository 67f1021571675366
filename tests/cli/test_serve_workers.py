"""`yibao serve --workers N`: one SO_REUSEPORT socket per worker, so connections spread.

With the one shared socket of before, a burst of keep-alive connections all landed on the
worker that woke first (8 of 8 on one of two workers in the benchmark)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from yibao.cli.workers import listening_sockets

needs_reuse_port = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT"), reason="no SO_REUSEPORT on this platform"
)
needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/net"), reason="no /proc to find pids")
# 24 connections: all hashed to one of two workers by chance with probability 2**-23.
CONNECTIONS = 24


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def _serving(tmp_path, name: str, workers: int = 2):
    pytest.importorskip("yibao.api.app", reason="the HTTP API is not in this tree yet")
    from yibao.cli.serve_process import serving

    return serving(f"sqlite:///{tmp_path / name}", workers=workers)


def _workers(server) -> set[int]:
    """The uvicorn workers: spawned children (not the parent nor multiprocessing's resource
    tracker), alive."""
    from yibao.cli.serve_process import group_stats

    workers = set()
    for pid, fields in group_stats(server.pid).items():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z" and b"spawn_main" in command:
            workers.add(pid)
    return workers


def _keep_alive_round(server, count: int = CONNECTIONS) -> dict[int, int]:
    """Open `count` connections, two requests on each; how many each process holds."""
    conns = [
        http.client.HTTPConnection("127.0.0.1", _port(server.base), timeout=60)
        for _ in range(count)
    ]
    try:
        for conn in conns:  # a burst, as clients start: all wait to be accepted at once
            conn.connect()
        for _ in range(2):  # the second request must reuse the connection (keep-alive)
            for conn in conns:
                conn.request("GET", "/openapi.json")
                answer = conn.getresponse()
                answer.read()
                assert answer.status == 200
        return dict(server.connections_by_pid())
    finally:
        for conn in conns:
            conn.close()


@needs_reuse_port
def test_each_worker_gets_its_own_socket_on_one_port():
    sockets = listening_sockets("127.0.0.1", 0, 3)  # port 0: one free port for all three
    try:
        assert len(sockets) == 3 and len({s.fileno() for s in sockets}) == 3
        assert len({s.getsockname()[1] for s in sockets}) == 1
        for sock in sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        for sock in sockets:
            sock.close()


@needs_reuse_port
def test_a_busy_port_is_refused_even_though_the_sockets_allow_reuse():
    first = listening_sockets("127.0.0.1", 0, 2)
    try:
        with pytest.raises(OSError) as refused:
            listening_sockets("127.0.0.1", first[0].getsockname()[1], 2)
        assert "in use" in refused.value.strerror
    finally:
        for sock in first:
            sock.close()


def test_without_so_reuse_port_the_workers_share_one_socket(monkeypatch, capsys):
    monkeypatch.delattr(socket, "SO_REUSEPORT", raising=False)
    sockets = listening_sockets("127.0.0.1", 0, 2)
    try:
        assert len(sockets) == 1
        assert sockets[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sockets[0].close()
    note = capsys.readouterr().err
    assert note.startswith("note: SO_REUSEPORT is not available") and note.count("\n") == 1


@needs_reuse_port
@needs_proc
def test_two_workers_both_answer_over_keep_alive_connections(tmp_path):
    from yibao.cli.serve_process import LISTEN, socket_inodes, tcp_inodes

    with _serving(tmp_path, "spread.db") as server:
        held = _keep_alive_round(server)
        workers = _workers(server)
        listeners = tcp_inodes(_port(server.base), LISTEN)
        worker_sockets = [socket_inodes(pid) for pid in workers]
    assert sum(held.values()) == CONNECTIONS  # each connection kept for both requests
    assert set(held) == workers and len(workers) == 2  # both workers hold some; parent none
    assert min(held.values()) >= 2  # fails by chance with probability 2 × 25 / 2**24
    assert len(listeners) == 2  # its own listening socket each (before: one, shared)
    assert all(len(listeners & inodes) == 1 for inodes in worker_sockets)


@needs_reuse_port
@needs_proc
def test_a_dead_worker_is_replaced_and_serves_its_socket(tmp_path):
    with _serving(tmp_path, "restart.db") as server:
        before = _workers(server)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (_workers(server) - before) == set() and time.monotonic() < deadline:
            time.sleep(0.2)
        after = _workers(server)
        assert len(after - before) == 1 and victim not in after
        # the replacement accepts on the dead worker's socket: connections hashed there wait
        # in its queue until it has started, then are answered (a socket nobody accepted on
        # would leave them hanging until the client's timeout)
        held = _keep_alive_round(server)
    assert set(held) == after


@pytest.mark.parametrize("workers", ["2", "1"])  # one worker: uvicorn's own lines, exit 3
def test_a_second_server_on_a_busy_port_fails_with_one_line(tmp_path, workers):
    with _serving(tmp_path, "first.db") as server:
        command = [
            sys.executable, "-m", "yibao.cli.main", "serve", "--port", str(_port(server.base)),
            "--workers", workers, "--database-url", f"sqlite:///{tmp_path / 'second.db'}",
        ]  # fmt: skip
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        with urllib.request.urlopen(server.base + "/openapi.json", timeout=10) as answer:
            assert answer.status == 200  # the first server is undisturbed
    assert second.returncode == 1 and second.stdout == ""
    assert second.stderr.count("\n") == 1
    assert second.stderr.startswith(f"error: {server.base}: cannot listen: ")
    assert "in use" in second.stderr


@needs_proc
def test_sigint_stops_the_parent_and_every_worker(tmp_path):
    from yibao.cli.serve_process import group_stats

    with _serving(tmp_path, "stop.db") as server:
        assert len(_workers(server)) == 2
        os.kill(server.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            running = [pid for pid, f in group_stats(server.pid).items() if f[0] != "Z"]
            if not running:
                break
            time.sleep(0.2)
        assert running == []  # all exited by themselves (zombies until reaped)
