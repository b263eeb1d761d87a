"""Forwarding throughput on SQLite, on PostgreSQL and with three instances on one PostgreSQL,
each against raw httpx creates measured in the same run.

Starts the mock national systems (healthy) with uvicorn on a free loopback port. The raw
baseline is hand-built httpx POSTs (``bench_clients.baseline_pass``) at its best concurrency,
found by a short sweep first (DESIGN.md 7: baselines take their best concurrency). Each row
alternates ``--rounds`` slices of the baseline with slices of forwarding, on a freshly reset mock
each time, and each side's rate is its creates over its summed time, so a busy neighbour on a
shared machine slows both alike. Complaints are received through the intake service before a
forwarding slice starts; receiving is not timed.

- SQLite / PostgreSQL: one forwarder (``ComplaintForwarder.run_once``, its default concurrency).
- three instances: three forwarder processes on one PostgreSQL database, started and connected
  before the clock starts; the slice ends when the last of them has recorded its last delivery.

PostgreSQL is used when ``OSS_BRIDGE_BENCH_POSTGRES_URL`` (or ``OSS_BRIDGE_TEST_POSTGRES_URL``)
names a server: a database is made for the run beside it and dropped after.

    .venv/bin/python -m bench.bench_instances --n 2000
    .venv/bin/python -m bench.bench_instances --n 400 --rounds 2 --no-postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bench._mock import mock_server
from bench.bench_clients import baseline_pass, complaints
from bench.bench_forwarding import (
    FreshDatabase,
    Tally,
    forwarding_slice,
    migrated_store,
    postgres_databases,
    postgres_server,
    receive,
    settings_for,
    sqlite_databases,
)
from oss_bridge.clients import build_http_client
from oss_bridge.config import ForwarderSettings
from oss_bridge.log import configure_logging
from oss_bridge.process import freeze_startup_heap
from oss_bridge.services.forwarder import ComplaintForwarder
from oss_bridge.services.intake import ComplaintIntake
from oss_bridge.store import Store

SWEEP = (4, 8, 16)
INSTANCES = 3
FORWARDER_CONCURRENCY = ForwarderSettings().concurrency

Slice = Callable[[str, str, int], Awaitable[tuple[float, int]]]
"""Forwards ``count`` complaints received into the database at the URL, against the mock at the
base URL: ``(database_url, base, count) -> (seconds, sent)``."""


@dataclass(frozen=True)
class Throughput:
    """One row: forwarding's rate against the raw baseline's, over the same slices."""

    label: str
    forwarded: Tally
    raw: Tally
    raw_concurrency: int

    @property
    def ratio(self) -> float:
        return self.forwarded.rate / self.raw.rate if self.raw.rate else 0.0


async def reset(base: str) -> None:
    async with httpx.AsyncClient() as control:
        (await control.post(f"{base}/_mock/reset")).raise_for_status()


async def best_raw_concurrency(base: str, count: int) -> int:
    """The concurrency at which hand-built creates go fastest on this machine now."""
    items = complaints(count)
    rates = {}
    for level in SWEEP:
        result = await baseline_pass(base, items, level)
        rates[level] = result.rate
    return max(rates, key=lambda level: rates[level])


async def alternating(
    label: str,
    fresh: FreshDatabase,
    base: str,
    forward: Slice,
    *,
    n: int,
    rounds: int,
    raw_concurrency: int,
) -> Throughput:
    slice_size = max(1, n // rounds)
    items = complaints(slice_size)
    forwarded, raw = Tally(), Tally()
    for number in range(rounds):
        order = ("raw", "forward") if number % 2 == 0 else ("forward", "raw")
        for side in order:
            await reset(base)
            if side == "raw":
                result = await baseline_pass(base, items, raw_concurrency)
                if result.failures:
                    raise SystemExit(f"{result.failures} raw creates failed")
                raw.count += result.count
                raw.seconds += result.seconds
            else:
                seconds, sent = await forward(fresh(), base, slice_size)
                forwarded.count += sent
                forwarded.seconds += seconds
    row = Throughput(label, forwarded, raw, raw_concurrency)
    print(
        f"{label:<28} forwarding {forwarded.rate:7.1f}/s   raw httpx creates {raw.rate:7.1f}/s "
        f"(c={raw_concurrency})   ratio {row.ratio:4.2f}",
        flush=True,
    )
    return row


async def one_instance(database_url: str, base: str, count: int) -> tuple[float, int]:
    settings = settings_for(database_url, base, FORWARDER_CONCURRENCY, batch=count)
    async with migrated_store(settings) as store:
        return await forwarding_slice(settings, store, count)


async def several_instances(database_url: str, base: str, count: int) -> tuple[float, int]:
    """Receive ``count`` complaints, then time ``INSTANCES`` forwarder processes sending them."""
    settings = settings_for(database_url, base, FORWARDER_CONCURRENCY, batch=count)
    async with migrated_store(settings) as store:
        await receive(ComplaintIntake(store, settings), count)
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.bench_instances",
            "--child",
            database_url,
            base,
            str(FORWARDER_CONCURRENCY),
            str(count),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(INSTANCES)
    ]
    for child in children:
        assert child.stdout is not None
        if (await child.stdout.readline()).strip() != b"ready":
            raise SystemExit("a forwarder process did not start")
    started = time.time()
    for child in children:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    finished, sent = started, 0
    for child in children:
        output, _ = await child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"a forwarder process exited with {child.returncode}")
        figures = json.loads(output.decode().strip().splitlines()[-1])
        finished = max(finished, figures["finished"])
        sent += figures["sent"]
    if sent != count:
        raise SystemExit(f"the instances sent {sent} of {count}")
    return finished - started, sent


async def child(database_url: str, base: str, concurrency: int, count: int) -> None:
    """One instance's forwarder: connect, say ``ready``, wait for ``go``, forward until the
    outbox holds nothing waiting, print when its last delivery was recorded."""
    settings = settings_for(database_url, base, concurrency, batch=count)
    async with (
        Store.open(settings.database) as store,
        build_http_client(settings.lapor) as http,
    ):
        forwarder = ComplaintForwarder.from_settings(
            store, http, settings.forwarder, settings.lapor
        )
        await store.ping()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        sent, finished = 0, time.time()
        while True:
            report = await forwarder.run_once()
            if report.delivered:
                sent += report.delivered
                finished = time.time()
            if report.claimed == 0:
                if (await store.outbox_counts()).waiting == 0:
                    break
                await asyncio.sleep(0.005)  # the others hold the rest; look again shortly
    print(json.dumps({"finished": finished, "sent": sent}), flush=True)


@dataclass(frozen=True)
class Figures:
    sqlite: Throughput
    postgres: Throughput | None
    instances: Throughput | None


async def measure(*, n: int, rounds: int, postgres: bool) -> Figures:
    """Every row of the module docstring; the PostgreSQL rows are None without a server."""
    with mock_server() as base:
        raw_concurrency = await best_raw_concurrency(base, min(n, 500))
        with sqlite_databases() as fresh:
            sqlite = await alternating(
                "SQLite",
                fresh,
                base,
                one_instance,
                n=n,
                rounds=rounds,
                raw_concurrency=raw_concurrency,
            )
        server = postgres_server() if postgres else None
        if server is None:
            print("PostgreSQL skipped: set OSS_BRIDGE_BENCH_POSTGRES_URL to measure it")
            return Figures(sqlite, None, None)
        with postgres_databases(server) as fresh:
            single = await alternating(
                "PostgreSQL",
                fresh,
                base,
                one_instance,
                n=n,
                rounds=rounds,
                raw_concurrency=raw_concurrency,
            )
            fleet = await alternating(
                f"PostgreSQL, {INSTANCES} instances",
                fresh,
                base,
                several_instances,
                n=n,
                rounds=rounds,
                raw_concurrency=raw_concurrency,
            )
    return Figures(sqlite, single, fleet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_instances", description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="complaints per row")
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices per row")
    parser.add_argument(
        "--no-postgres", dest="postgres", action="store_false", help="measure SQLite only"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    freeze_startup_heap()  # as the command line does
    configure_logging(level="ERROR", fmt="console", stream=sys.stderr)
    if args.child:
        database_url, base, concurrency, count = args.child
        asyncio.run(child(database_url, base, int(concurrency), int(count)))
        return 0
    if args.n < 1 or args.rounds < 1:
        parser.error(f"--n and --rounds must be at least 1; got {args.n!r}, {args.rounds!r}")
    asyncio.run(measure(n=args.n, rounds=args.rounds, postgres=args.postgres))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
