"""Intake latency of a running daemon, p50 and p99, against bare uvicorn in the same run; and the
daemon's peak memory.

Starts the mock national systems (healthy) and ``oss-bridge run`` on a new SQLite database, each
a process on a free loopback port, as an office runs them. ``--n`` complaints are posted to
``POST /api/v1/complaints`` at ``--rate`` per second (open loop: each is sent on time whether or
not earlier ones were answered), while the daemon forwards them; the time from sending to the
receipt is each one's latency. The baseline is the same requests at the same rate to a bare ASGI
app under the same uvicorn (``bench_mock.baseline_app``), answering ``{}``: what the network
stack and the server cost on their own. The daemon's peak memory is its ``VmHWM`` once every
complaint has been forwarded.

    .venv/bin/python -m bench.bench_intake --n 1000 --rate 50
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench._mock import free_port, mock_server, stop
from bench.bench_mock import baseline_command, server
from oss_bridge.config import DatabaseSettings
from oss_bridge.log import configure_logging
from oss_bridge.process import freeze_startup_heap
from oss_bridge.store import Store

BODY = {
    "category": "hambatan_oss",
    "object": "pemerintah_kabupaten",
    "description": "Permohonan perizinan berusaha saya di sistem OSS tertahan pada tahap "
    "verifikasi sejak dua minggu dan belum ada kabar dari petugas. Mohon ditindaklanjuti.",
    "reporter": {"name": "Siti Aminah", "email": "siti@contoh.id"},
}


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    count: int


@dataclass(frozen=True)
class Figures:
    bridge: Latency
    bare: Latency
    rate: float
    peak_memory_mb: float

    @property
    def ratio_p50(self) -> float:
        return self.bridge.p50_ms / self.bare.p50_ms if self.bare.p50_ms else 0.0


def percentiles(waits: list[float]) -> Latency:
    ordered = sorted(waits)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return Latency(statistics.median(ordered) * 1000, p99 * 1000, len(ordered))


async def post_at_rate(url: str, count: int, rate: float, *, expect: int) -> Latency:
    """Post ``count`` complaints to ``url`` at ``rate`` per second; their latencies."""
    waits: list[float] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one() -> None:
            sent = time.perf_counter()
            answer = await client.post(url, json=BODY)
            waits.append(time.perf_counter() - sent)
            if answer.status_code != expect:
                raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:200]}")

        for _ in range(20):  # warm the connections and the server's first requests
            await one()
        waits.clear()
        started = time.perf_counter()
        tasks = []
        for number in range(count):
            await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return percentiles(waits)


@contextlib.contextmanager
def daemon(mock: str, database: Path) -> Iterator[tuple[str, int]]:
    """``oss-bridge run`` against ``mock`` on ``database``; yields its URL and process id."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("OSS_BRIDGE_")}
    env |= {
        "OSS_BRIDGE_DATABASE__URL": f"sqlite:///{database}",
        "OSS_BRIDGE_API__PORT": str(port),
        "OSS_BRIDGE_OSS__BASE_URL": f"{mock}/oss",
        "OSS_BRIDGE_LAPOR__BASE_URL": f"{mock}/lapor",
        "OSS_BRIDGE_LOGGING__LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "oss_bridge"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    process = subprocess.Popen([*cli, "run"], env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the daemon exited with {process.returncode} before serving")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"the daemon did not answer on {url} within 60 s")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        stop(process, within=15)


def peak_memory_mb(pid: int) -> float:
    """The peak resident memory of process ``pid`` (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmHWM for process {pid}")


async def all_forwarded(database: Path, count: int) -> None:
    deadline = time.monotonic() + 120
    async with Store.open(DatabaseSettings(url=f"sqlite:///{database}")) as store:
        while (await store.outbox_counts()).count("sent") < count:
            if time.monotonic() > deadline:
                raise SystemExit("the daemon did not forward every complaint within 120 s")
            await asyncio.sleep(0.1)


async def measure(*, n: int, rate: float) -> Figures:
    with mock_server() as mock, tempfile.TemporaryDirectory(prefix="bench-intake-") as folder:
        database = Path(folder) / "bridge.db"
        with daemon(mock, database) as (url, pid):
            bridge = await post_at_rate(f"{url}/api/v1/complaints", n, rate, expect=201)
            await all_forwarded(database, n + 20)
            memory = peak_memory_mb(pid)
    port = free_port()
    with server(baseline_command(port), port):
        bare = await post_at_rate(f"http://127.0.0.1:{port}/", n, rate, expect=200)
    figures = Figures(bridge, bare, rate, memory)
    print(
        f"intake at {rate:g}/s, {n} complaints: p50 {bridge.p50_ms:.1f} ms, p99 "
        f"{bridge.p99_ms:.1f} ms; bare uvicorn p50 {bare.p50_ms:.1f} ms, p99 {bare.p99_ms:.1f} ms; "
        f"daemon peak memory {memory:.0f} MB",
        flush=True,
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_intake", description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="complaints posted")
    parser.add_argument("--rate", type=float, default=50.0, help="complaints per second")
    args = parser.parse_args(argv)
    freeze_startup_heap()  # as the command line does
    if args.n < 1 or not args.rate > 0:
        parser.error(f"--n must be at least 1 and --rate positive; got {args.n!r}, {args.rate!r}")
    configure_logging(level="ERROR", fmt="console", stream=sys.stderr)
    asyncio.run(measure(n=args.n, rate=args.rate))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
