"""Benchmark 3: the fake served over HTTP, against a bare Flask route on the same stack.

``python -m bench._serve`` runs, in a separate process, the fake (``FakeServer``: werkzeug's
threaded server) and a bare Flask app on the same server stack whose route does nothing: the
most that stack can serve. This process drives them on 127.0.0.1 with 1, 8 and 32 concurrent
keep-alive clients (threads, each with its own persistent connection and a minimal HTTP/1.1
client so that the load generator costs little), for a fixed time per point.

Four targets, interleaved point by point (the order rotating): an authenticated room fetch
(``GET /video/v1/Rooms/{sid}``) and a Sync map item update (``POST .../Items/{key}``, form
body ``Data=...``), each against the bare route sent the same request shape (same method,
headers and body). Figures: requests per second and client-side p50/p99 latency; the ratio
fake/bare throughput is per repetition.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .measure import BenchResult, Stats

NAME = "server"
GOAL = 0.7
_LENGTH_RE = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CLOSE_RE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)


class Connection:
    """One keep-alive HTTP/1.1 connection; ``send(raw)`` returns the status code."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = self._connect()
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def send(self, raw: bytes) -> int:
        self.sock.sendall(raw)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head = self.buffer[:end]
        self.buffer = self.buffer[end + 4 :]
        match = _LENGTH_RE.search(head)
        if match is None:
            raise ConnectionError("answer without Content-Length")
        length = int(match.group(1))
        while len(self.buffer) < length:
            self._fill()
        self.buffer = self.buffer[length:]
        if _CLOSE_RE.search(head):
            self.close()
            self.sock, self.buffer = self._connect(), b""
        return int(head[9:12])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _raw(method: str, path: str, port: int, auth: str, body: str | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Authorization: {auth}"]
    payload = b""
    if body is not None:
        payload = body.encode()
        lines += [
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(payload)}",
        ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class Point:
    """One measured point: a target at a concurrency for a duration."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def drive(
    port: int, requests_for: list[bytes], expect: int, concurrency: int, duration: float
) -> Point:
    """``concurrency`` threads, one connection each, sending their request until time is up."""
    point = Point()
    lock = threading.Lock()
    connections = [Connection(port) for _ in range(concurrency)]
    for index, conn in enumerate(connections):  # one warm-up request per connection
        conn.send(requests_for[index % len(requests_for)])
    barrier = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        conn, raw = connections[index], requests_for[index % len(requests_for)]
        latencies: list[float] = []
        errors = 0
        barrier.wait()
        end = deadline[0]
        clock = time.perf_counter
        while True:
            t0 = clock()
            if t0 >= end:
                break
            status = conn.send(raw)
            latencies.append(clock() - t0)
            if status != expect:
                errors += 1
        with lock:
            point.latencies.extend(latencies)
            point.errors += errors

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    deadline[0] = start + duration
    barrier.wait()
    for thread in threads:
        thread.join()
    point.seconds = time.perf_counter() - start
    point.requests = len(point.latencies)
    for conn in connections:
        conn.close()
    return point


def start_servers() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("the benchmark server did not start")
    return proc, json.loads(line)


def targets(info: dict[str, Any]) -> dict[str, tuple[int, list[bytes], int]]:
    """Name -> (port, request bytes per client, expected status)."""
    auth, fake, bare = info["authorization"], info["fake_port"], info["bare_port"]
    room = f"/video/v1/Rooms/{info['room_sid']}"
    item = f"/sync/v1/Services/{info['service_sid']}/Maps/{info['map']}/Items/k{{}}"
    body = "Data=" + quote(json.dumps({"raised": True, "n": 1}))
    writes = [_raw("POST", item.format(k), fake, auth, body) for k in range(info["keys"])]
    bare_writes = [_raw("POST", "/bare", bare, auth, body) for _ in range(info["keys"])]
    return {
        "bare GET": (bare, [_raw("GET", "/bare", bare, auth)], 200),
        "fake GET room": (fake, [_raw("GET", room, fake, auth)], 200),
        "bare POST": (bare, bare_writes, 200),
        "fake POST map item": (fake, writes, 200),
    }


PAIRS = (("fake GET room", "bare GET"), ("fake POST map item", "bare POST"))


def run(quick: bool = False) -> BenchResult:
    concurrencies = (1, 8) if quick else (1, 8, 32)
    duration, repeats = (0.4, 1) if quick else (1.5, 3)
    result = BenchResult(
        NAME,
        "Server mode: throughput and latency vs a bare Flask route",
        "Requests per second and client-side p50/p99 latency (ms) of the fake on 127.0.0.1 "
        "(werkzeug threaded server, separate process) with N concurrent keep-alive clients, "
        f"{duration:g} s per point, {repeats} interleaved repetition(s); 'bare' is a Flask "
        "route doing nothing on the same stack, sent the same request shape. Ratio = fake "
        "rps / bare rps per repetition.",
    )
    proc, info = start_servers()
    try:
        plan = targets(info)
        names = list(plan)
        points: dict[tuple[str, int], list[Point]] = {}
        for port, raws, expect in plan.values():  # warm both servers up
            drive(port, raws, expect, 2, 0.2)
        for concurrency in concurrencies:
            for rep in range(repeats):
                shift = rep % len(names)
                for name in names[shift:] + names[:shift]:
                    port, raws, expect = plan[name]
                    point = drive(port, raws, expect, concurrency, duration)
                    points.setdefault((name, concurrency), []).append(point)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    errors = sum(p.errors for ps in points.values() for p in ps)
    summary: dict[str, Any] = {}
    for concurrency in concurrencies:
        for name in names:
            ps = points[(name, concurrency)]
            rps = Stats.of([p.rps for p in ps])
            p50 = Stats.of([p.percentile(0.50) * 1e3 for p in ps])
            p99 = Stats.of([p.percentile(0.99) * 1e3 for p in ps])
            result.add(f"c={concurrency} {name}: throughput", rps, "req/s")
            result.add(f"c={concurrency} {name}: p50 latency", p50, "ms")
            result.add(f"c={concurrency} {name}: p99 latency", p99, "ms")
            summary[f"{name} c={concurrency}"] = {
                "rps": rps.as_dict(),
                "p50_ms": p50.as_dict(),
                "p99_ms": p99.as_dict(),
                "requests": sum(p.requests for p in ps),
            }
        for fake_name, bare_name in PAIRS:
            ratios = Stats.of(
                [
                    f.rps / b.rps
                    for f, b in zip(
                        points[(fake_name, concurrency)],
                        points[(bare_name, concurrency)],
                        strict=True,
                    )
                    if b.rps
                ]
            )
            result.add(
                f"c={concurrency} {fake_name} / {bare_name}",
                ratios,
                "x",
                goal=f">= {GOAL}x",
                met=ratios.median >= GOAL,
            )
    result.data = {
        "concurrencies": list(concurrencies),
        "duration_s": duration,
        "repeats": repeats,
        "errors": errors,
        "points": summary,
    }
    if errors:
        result.notes.append(f"{errors} answers had an unexpected status")
    return result
