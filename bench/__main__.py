"""``python -m bench`` (``make bench``): every benchmark of oss-bridge in one run, one table.

Runs, in order: forwarding throughput on SQLite, on PostgreSQL and with three instances
(``bench_instances``), the channel client (``bench_clients``), the catalogue sync
(``bench_catalogue``), the status pull (``bench_status``), intake latency and the daemon's peak
memory (``bench_intake``), and the mock's capacity (``bench_mock``). Each figure stands beside a
baseline measured in the same run (DESIGN.md section 7). Progress goes to stderr; stdout gets the
table alone, in Markdown, as the README shows it.

    .venv/bin/python -m bench            # the full run, several minutes
    .venv/bin/python -m bench --quick    # smaller sizes, about two minutes

PostgreSQL rows need a server: ``OSS_BRIDGE_BENCH_POSTGRES_URL`` (or
``OSS_BRIDGE_TEST_POSTGRES_URL``), e.g. ``postgresql://postgres@127.0.0.1:5432/test``; the run
makes a database of its own there and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    bench_catalogue,
    bench_clients,
    bench_instances,
    bench_intake,
    bench_mock,
    bench_status,
)
from bench._mock import mock_server
from bench._table import LEGEND, AllFigures, render, rows
from bench.bench_instances import FORWARDER_CONCURRENCY
from oss_bridge.log import configure_logging
from oss_bridge.process import freeze_startup_heap


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is."""

    name: str
    forwarding: int
    forwarding_rounds: int
    client_creates: int
    catalogue_entries: int
    catalogue_rounds: int
    catalogue_edits: int
    status_complaints: int
    status_rounds: int
    intake_complaints: int
    intake_rate: float
    mock_seconds: float


FULL = Sizes(
    name="full",
    forwarding=2000,
    forwarding_rounds=4,
    client_creates=2000,
    catalogue_entries=10_000,
    catalogue_rounds=3,
    catalogue_edits=100,
    status_complaints=10_000,
    status_rounds=4,
    intake_complaints=1000,
    intake_rate=50.0,
    mock_seconds=3.0,
)
QUICK = Sizes(
    name="quick",
    forwarding=400,
    forwarding_rounds=2,
    client_creates=500,
    catalogue_entries=2000,
    catalogue_rounds=1,
    catalogue_edits=50,
    status_complaints=1000,
    status_rounds=2,
    intake_complaints=200,
    intake_rate=50.0,
    mock_seconds=1.0,
)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Everything written to stdout in the block, by this process or its children, goes to
    stderr, so that stdout holds the table alone."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def step(title: str) -> None:
    print(f"\n== {title}", file=sys.stderr, flush=True)


def catalogue(sizes: Sizes) -> bench_catalogue.Figures:
    args = argparse.Namespace(
        entries=sizes.catalogue_entries,
        page_limit=200,
        rounds=sizes.catalogue_rounds,
        edits=sizes.catalogue_edits,
        memory_entries=sizes.catalogue_entries,
        large=False,
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-catalogue-") as folder,
        mock_server(sizes.catalogue_entries) as base,
    ):
        return asyncio.run(bench_catalogue.measure(args, base, Path(folder)))


def measure(sizes: Sizes, *, postgres: bool) -> AllFigures:
    step("forwarding: SQLite, PostgreSQL, 3 instances (bench_instances)")
    forwarding = asyncio.run(
        bench_instances.measure(
            n=sizes.forwarding, rounds=sizes.forwarding_rounds, postgres=postgres
        )
    )
    step("channel client (bench_clients)")
    # At the forwarder's concurrency: the client's share of the forwarding figures above.
    clients = asyncio.run(
        bench_clients.measure(
            sizes.client_creates, FORWARDER_CONCURRENCY, max(1, sizes.client_creates // 4)
        )
    )
    step("catalogue sync (bench_catalogue)")
    catalogue_figures = catalogue(sizes)
    step("status pull (bench_status)")
    status = asyncio.run(
        bench_status.measure(n=sizes.status_complaints, rounds=sizes.status_rounds)
    )
    step("intake latency and peak memory (bench_intake)")
    intake = asyncio.run(bench_intake.measure(n=sizes.intake_complaints, rate=sizes.intake_rate))
    step("mock capacity (bench_mock)")
    mock = bench_mock.measure(sizes.mock_seconds, bench_mock.default_generator())
    return AllFigures(forwarding, clients, catalogue_figures, status, intake, mock)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a fast run")
    parser.add_argument(
        "--no-postgres", dest="postgres", action="store_false", help="leave PostgreSQL out"
    )
    args = parser.parse_args(argv)
    freeze_startup_heap()  # as the command line does
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    with stdout_to_stderr():
        configure_logging(level="ERROR", fmt="console", stream=sys.stderr)
        figures = measure(sizes, postgres=args.postgres)
    took = time.monotonic() - started
    print(
        f"oss-bridge benchmarks, {sizes.name} run of {datetime.now(UTC):%Y-%m-%d}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {took / 60:.1f} min"
    )
    print()
    print(render(rows(figures)))
    print()
    print(LEGEND)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
