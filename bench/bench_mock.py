"""Requests per second the mock national systems serve on loopback, against bare uvicorn.

Starts ``oss-bridge mock serve`` (plain uvicorn, h11) on a free loopback port and loads it with
a generator that is not itself the limit (DESIGN.md 7): ``wrk`` when it is on PATH, otherwise
several client processes, each holding keep-alive connections over raw asyncio streams (an
``httpx`` client tops out near 500 requests/s, below what is being measured). Each target is
measured at several connection counts and keeps its best, so neither side is held to one
concurrency. The baseline, measured in the same run with the same generator, is a bare ASGI app
answering ``{}`` under the same uvicorn: the ceiling of the server stack on this machine.

    .venv/bin/python -m bench.bench_mock                    # wrk if installed, else Python
    .venv/bin/python -m bench.bench_mock --generator python --duration 2

Targets: a cheap read of each system (complaint categories; reference table 8) and complaint
creates. The goal is at least 1,500 requests/s for the cheap reads.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._mock import free_port, stop

GOAL = 1500.0
CONNECTIONS = (8, 32, 64)
ROOT = Path(__file__).resolve().parents[1]
LAPOR_HEADERS = {"Authorization": "Bearer demo-auth-value", "token": "demo-token"}
COMPLAINT = {
    "title": "Izin belum terbit",
    "content": "Permohonan izin saya belum diproses sejak dua minggu.",
    "category_id": 101,
    "disposition_id": "1405",
    "is_anonymous": False,
    "is_secret": False,
    "external_reference": "PGD-1405-20250106-000001",
}


@dataclass(frozen=True)
class Target:
    label: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    cheap: bool = True


TARGETS = (
    Target(
        "lapor categories (GET)",
        "GET",
        "/lapor/masters/categories?page_size=1000",
        LAPOR_HEADERS,
    ),
    Target(
        "oss getDataReferensi (POST)",
        "POST",
        "/oss/v1/kl/rba/getDataReferensi",
        {"user_key": "demo-user-key", "Content-Type": "application/json"},
        json.dumps({"GETDATAREFERENSI": {"kode": "8"}}).encode(),
    ),
    Target(
        "lapor create complaint (POST)",
        "POST",
        "/lapor/complaints/complaint",
        {**LAPOR_HEADERS, "Content-Type": "application/json"},
        json.dumps(COMPLAINT).encode(),
        cheap=False,
    ),
)
BASELINE = Target("bare uvicorn, {} (GET)", "GET", "/", {})


async def baseline_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The least an ASGI app can do per request: the ceiling of uvicorn on this machine."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


@dataclass(frozen=True)
class Measure:
    rate: float
    connections: int
    failures: int


def _wait_until_ready(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not come up within {seconds}s")


@contextlib.contextmanager
def server(command: Sequence[str], port: int) -> Iterator[int]:
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_ready(port, process)
        yield port
    finally:
        stop(process)


def mock_command(port: int) -> list[str]:
    cli = Path(sys.executable).with_name("oss-bridge")
    launcher = [str(cli)] if cli.exists() else [sys.executable, "-m", "oss_bridge"]
    return [*launcher, "mock", "serve", "--port", str(port)]


def baseline_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bench_mock:baseline_app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


# --- wrk -----------------------------------------------------------------------------------


def _lua(target: Target) -> str:
    lines = [f'wrk.method = "{target.method}"']
    if target.body:
        lines.append(f"wrk.body = {json.dumps(target.body.decode())}")
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in target.headers.items()]
    return "\n".join(lines) + "\n"


def run_wrk(port: int, target: Target, connections: int, duration: float) -> Measure:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(target))
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{target.path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if rate is None:
        raise RuntimeError(f"wrk printed no rate:\n{result.stdout}{result.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    errors = re.search(r"Socket errors:.*?read (\d+), write (\d+), timeout (\d+)", result.stdout)
    failures = int(bad.group(1)) if bad else 0
    if errors:
        failures += sum(int(n) for n in errors.groups())
    return Measure(float(rate.group(1)), connections, failures)


# --- Python client processes ---------------------------------------------------------------


def _raw_request(target: Target, port: int) -> bytes:
    head = [f"{target.method} {target.path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    head += [f"{k}: {v}" for k, v in target.headers.items()]
    if target.body:
        head.append(f"Content-Length: {len(target.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + target.body


_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


async def _connection(port: int, request: bytes, deadline: float) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = failed = 0
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = _LENGTH.search(head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            done += 1
            failed += head[9:10] != b"2"
    finally:
        writer.close()
    return done, failed


def _client_process(
    port: int, request: bytes, connections: int, start: float, duration: float, out: Any
) -> None:
    async def main() -> tuple[int, int]:
        await asyncio.sleep(max(0.0, start - time.time()))
        deadline = time.monotonic() + duration
        runs = await asyncio.gather(
            *(_connection(port, request, deadline) for _ in range(connections))
        )
        return sum(r[0] for r in runs), sum(r[1] for r in runs)

    out.put(asyncio.run(main()))


def run_python(
    port: int, target: Target, connections: int, duration: float, processes: int = 2
) -> Measure:
    request = _raw_request(target, port)
    queue: Any = multiprocessing.get_context("spawn").Queue()
    start = time.time() + 1.0  # every process starts its clock together, after spawning
    workers = [
        multiprocessing.get_context("spawn").Process(
            target=_client_process,
            args=(port, request, max(1, connections // processes), start, duration, queue),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    totals = [queue.get(timeout=duration + 60) for _ in workers]
    for worker in workers:
        worker.join()
    done = sum(t[0] for t in totals)
    return Measure(done / duration, connections, sum(t[1] for t in totals))


# --- the run -------------------------------------------------------------------------------


def best(port: int, target: Target, generator: str, duration: float) -> Measure:
    runner = run_wrk if generator == "wrk" else run_python
    measures = [runner(port, target, c, duration) for c in CONNECTIONS]
    return max(measures, key=lambda m: m.rate)


def measure(duration: float, generator: str) -> tuple[Measure, list[tuple[Target, Measure]]]:
    """Bare uvicorn's best rate (the baseline) and the mock's best rate for each target, each at
    its best connection count; ``generator`` is ``wrk`` or ``python``."""
    port = free_port()
    with server(baseline_command(port), port):
        base = best(port, BASELINE, generator, duration)
    port = free_port()
    with server(mock_command(port), port):
        results = [(t, best(port, t, generator, duration)) for t in TARGETS]
    return base, results


def default_generator() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator; auto uses wrk when it is on PATH",
    )
    args = parser.parse_args(argv)
    generator = args.generator
    if generator == "auto":
        generator = default_generator()
    elif generator == "wrk" and not shutil.which("wrk"):
        parser.error(
            "wrk is not on PATH; install it (apt-get install wrk) or use --generator python"
        )

    print(f"load generator: {generator}; connections tried: {', '.join(map(str, CONNECTIONS))}")
    print(f"cores: {os.cpu_count()}; {args.duration:.0f} s per measurement\n")
    base, results = measure(args.duration, generator)

    width = max(len(t.label) for t in (BASELINE, *TARGETS))
    print(f"{'target':<{width}}  {'requests/s':>10}  {'conns':>5}  {'vs bare':>7}  failures")
    rows = [(BASELINE, base), *results]
    for target, found in rows:
        ratio = found.rate / base.rate
        print(
            f"{target.label:<{width}}  {found.rate:>10.0f}  {found.connections:>5}  "
            f"{ratio:>7.2f}  {found.failures}"
        )
    cheap = min(m.rate for t, m in results if t.cheap)
    verdict = "meets" if cheap >= GOAL else "BELOW"
    print(f"\ncheap reads: {cheap:.0f} requests/s, {verdict} the goal of {GOAL:.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
