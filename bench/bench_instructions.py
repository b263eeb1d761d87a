"""The CPU cost of forwarding one complaint against a raw httpx create, counted in instructions.

The throughput ratio of ``bench_forwarding`` moves with whatever else a shared machine is doing.
The work this process does per complaint does not: run under ``valgrind --tool=callgrind``, the
instructions executed are the same from run to run, whatever the neighbours do. This benchmark
runs each side twice in a child process under callgrind, at ``--small`` and ``--large``
complaints, with instrumentation on for the measured phase only (switched by
``callgrind_control``); the difference of the two counts over the difference of the sizes is the
cost of one complaint, free of start-up and set-up.

Sides: raw httpx creates at concurrency 8 (the baseline of ``bench_forwarding``), and one
forwarding pass (``ComplaintForwarder.run_once``) of complaints received beforehand, on SQLite
and, when ``OSS_BRIDGE_BENCH_POSTGRES_URL`` or ``OSS_BRIDGE_TEST_POSTGRES_URL`` names a server,
on PostgreSQL (in a database made for the run and dropped after). The mock serves from a process
of its own, not counted; neither is the database server.

    .venv/bin/python -m bench.bench_instructions            # about ten minutes
    .venv/bin/python -m bench.bench_instructions --no-postgres --small 50 --large 150

Needs ``valgrind`` (Debian package ``valgrind``). The ratio printed is raw's instructions per
complaint over the side's: 1.00 = as cheap as a raw create.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import bench_forwarding
from bench._mock import mock_server
from bench.bench_clients import baseline_pass, complaints
from oss_bridge.clients import build_http_client
from oss_bridge.log import configure_logging
from oss_bridge.process import freeze_startup_heap
from oss_bridge.services.forwarder import ComplaintForwarder
from oss_bridge.services.intake import ComplaintIntake

CONCURRENCY = 8
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


@dataclass(frozen=True)
class Cost:
    side: str
    per_complaint: float


# --- the child: one measured phase, instrumented on and off by itself ------------------------


def _instrument(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "--instr=on" if on else "--instr=off", str(os.getpid())],
        check=True,
        capture_output=True,
    )


async def child(side: str, count: int, base: str, database_url: str) -> None:
    async with httpx.AsyncClient() as control:
        (await control.post(f"{base}/_mock/reset")).raise_for_status()
    if side == "raw":
        items = complaints(count)
        _instrument(True)
        result = await baseline_pass(base, items, CONCURRENCY)
        _instrument(False)
        if result.failures:
            raise SystemExit(f"{result.failures} raw creates failed")
        return
    settings = bench_forwarding.settings_for(database_url, base, CONCURRENCY, batch=count)
    async with bench_forwarding.migrated_store(settings) as store:
        await bench_forwarding.receive(ComplaintIntake(store, settings), count)
        async with build_http_client(settings.lapor) as http:
            forwarder = ComplaintForwarder.from_settings(
                store, http, settings.forwarder, settings.lapor
            )
            _instrument(True)
            report = await forwarder.run_once()
            _instrument(False)
    if report.sent != count:
        raise SystemExit(f"the forwarder sent {report.sent} of {count}: {report.as_dict()}")


# --- the parent: two counted runs per side ---------------------------------------------------


def counted(side: str, count: int, base: str, database_url: str, folder: Path) -> int:
    """Instructions of one child run's measured phase."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={folder / f'callgrind.{side}.{count}'}",
        sys.executable,
        "-m",
        "bench.bench_instructions",
        "--child",
        side,
        str(count),
        base,
        database_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the {side} run of {count} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def cost(
    side: str,
    args: argparse.Namespace,
    base: str,
    fresh: bench_forwarding.FreshDatabase,
    folder: Path,
) -> Cost:
    small = counted(side, args.small, base, fresh(), folder)
    large = counted(side, args.large, base, fresh(), folder)
    per = (large - small) / (args.large - args.small)
    print(f"  {side:<10} {per / 1e6:6.2f} M instructions per complaint", flush=True)
    return Cost(side, per)


def measure(args: argparse.Namespace) -> list[Cost]:
    costs: list[Cost] = []
    server = bench_forwarding.postgres_server() if args.postgres else None
    with (
        tempfile.TemporaryDirectory(prefix="bench-instructions-") as folder,
        mock_server() as base,
        bench_forwarding.sqlite_databases() as sqlite,
    ):
        costs.append(cost("raw", args, base, lambda: "", Path(folder)))
        costs.append(cost("sqlite", args, base, sqlite, Path(folder)))
        if server is not None:
            with bench_forwarding.postgres_databases(server) as postgres:
                costs.append(cost("postgresql", args, base, postgres, Path(folder)))
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_instructions", description=__doc__)
    parser.add_argument("--small", type=int, default=200, help="complaints of the first run")
    parser.add_argument("--large", type=int, default=600, help="complaints of the second run")
    parser.add_argument(
        "--no-postgres", dest="postgres", action="store_false", help="measure SQLite only"
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("SIDE", "N", "BASE", "URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    freeze_startup_heap()  # as the command line does
    configure_logging(level="ERROR", fmt="console", stream=sys.stderr)
    if args.child:
        side, count, base, url = args.child
        asyncio.run(child(side, int(count), base, url))
        return 0
    if args.large <= args.small:
        parser.error("--large must be more complaints than --small")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind); nothing measured")
        return 2
    print(f"instructions per complaint, from runs of {args.small} and {args.large}:", flush=True)
    costs = measure(args)
    raw = costs[0].per_complaint
    for side in costs[1:]:
        print(f"forwarding on {side.side:<10} / raw create: {raw / side.per_complaint:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
