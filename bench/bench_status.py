"""The status pull of many open complaints against raw httpx reads of the same, in the same run.

Starts the mock national systems (healthy) with uvicorn on a free loopback port and files
``--n`` complaints there with hand-built creates. The same complaints go into a new SQLite
database as the forwarder leaves them: forwarded (national id recorded), open, due for a pull.
Not timed. Then, in ``--rounds`` alternating slices:

- the status pull: ``StatusPuller.run_once`` over the slice (status with its transitions, then
  follow-ups, per complaint; each result written to the database), at its default concurrency;
- the baseline: the same two GETs per complaint with plain httpx at the same concurrency,
  answers parsed as JSON, nothing stored.

Each side's rate is its complaints over its summed time.

    .venv/bin/python -m bench.bench_status --n 10000
    .venv/bin/python -m bench.bench_status --n 1000 --rounds 2     # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench._mock import mock_server
from bench.bench_clients import baseline_pass, complaints, run_workers
from bench.bench_forwarding import Tally
from oss_bridge.clients import build_http_client
from oss_bridge.config import DatabaseSettings, LaporSettings, Settings, StatusPullSettings
from oss_bridge.domain import Complaint
from oss_bridge.log import configure_logging
from oss_bridge.process import freeze_startup_heap
from oss_bridge.services.status_pull import StatusPuller
from oss_bridge.store import Store, create_engine, upgrade
from oss_bridge.store.schema import complaints as complaints_table
from oss_bridge.store.schema import outbox

CONCURRENCY = StatusPullSettings().concurrency


@dataclass(frozen=True)
class Figures:
    complaints: int
    pulled: Tally
    raw: Tally
    concurrency: int

    @property
    def ratio(self) -> float:
        return self.pulled.rate / self.raw.rate if self.raw.rate else 0.0


async def file_on_channel(base: str, items: list[Complaint]) -> dict[str, str]:
    """Create ``items`` on the mock; their national ids by receipt number."""
    async with httpx.AsyncClient() as control:
        (await control.post(f"{base}/_mock/reset")).raise_for_status()
    result = await baseline_pass(base, items, CONCURRENCY)
    if result.failures:
        raise SystemExit(f"{result.failures} creates failed")
    async with httpx.AsyncClient(timeout=60) as control:
        rows = (await control.get(f"{base}/_mock/state")).json()["complaints"]
    return {row["external_reference"]: row["complaint_id"] for row in rows}


async def forwarded_database(
    settings: Settings, items: list[Complaint], ids: dict[str, str]
) -> None:
    """The complaints as the forwarder leaves them: sent, with their national ids, due now."""
    await upgrade(settings)
    now = datetime.now(UTC)
    engine = create_engine(settings.database)
    try:
        async with engine.begin() as connection:
            rows = [
                {
                    "receipt_number": c.receipt_number,
                    "category": c.category.value,
                    "object": c.object.value,
                    "description": c.description,
                    "reporter_name": c.reporter.name if c.reporter else None,
                    "stage": "c",
                    "external_id": ids[c.receipt_number],
                    "next_pull_at": now,
                    "received_at": now,
                    "updated_at": now,
                }
                for c in items
            ]
            await connection.execute(sa.insert(complaints_table), rows)
            stored = await connection.execute(
                sa.select(complaints_table.c.id, complaints_table.c.receipt_number)
            )
            await connection.execute(
                sa.insert(outbox),
                [
                    {
                        "complaint_id": complaint_id,
                        "state": "sent",
                        "next_attempt_at": now,
                        "idempotency_key": f"oss-bridge-{receipt}",
                        "created_at": now,
                        "updated_at": now,
                        "sent_at": now,
                    }
                    for complaint_id, receipt in stored
                ],
            )
    finally:
        await engine.dispose()


async def raw_reads(base: str, external_ids: list[str], concurrency: int) -> float:
    """Seconds to read each complaint's status and follow-ups with plain httpx."""
    settings = LaporSettings(base_url=f"{base}/lapor")
    headers = {
        "Authorization": f"Bearer {settings.auth_value.get_secret_value()}",
        "token": settings.token.get_secret_value(),
    }
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=settings.base_url, limits=limits) as http:

        async def read(index: int) -> bool:
            complaint_id = external_ids[index]
            status = await http.get(f"/complaints/{complaint_id}/complaint", headers=headers)
            followups = await http.get(f"/complaints/{complaint_id}/followups", headers=headers)
            status.json()
            followups.json()
            return status.status_code == 200 and followups.status_code == 200

        seconds, failures = await run_workers(len(external_ids), concurrency, read)
    if failures:
        raise SystemExit(f"{failures} raw reads failed")
    return seconds


async def pull_slice(settings: Settings, store: Store, count: int) -> float:
    """Seconds for the puller to pull ``count`` due complaints (the longest due first)."""
    async with build_http_client(settings.lapor) as http:
        puller = StatusPuller.from_settings(store, http, settings.status_pull, settings.lapor)
        started = time.perf_counter()
        report = await puller.run_once()
        seconds = time.perf_counter() - started
    if report.pulled != count:
        raise SystemExit(f"the puller pulled {report.pulled} of {count}: {report.as_dict()}")
    return seconds


async def measure(*, n: int, rounds: int) -> Figures:
    items = complaints(n)
    slice_size = max(1, n // rounds)
    pulled, raw = Tally(), Tally()
    with mock_server() as base, tempfile.TemporaryDirectory(prefix="bench-status-") as folder:
        print(f"mock at {base}; filing {n} complaints there ...", flush=True)
        ids = await file_on_channel(base, items)
        settings = Settings(
            database=DatabaseSettings(url=f"sqlite:///{Path(folder) / 'status.db'}"),
            lapor=LaporSettings(base_url=f"{base}/lapor", max_connections=CONCURRENCY),
            status_pull=StatusPullSettings(batch_size=slice_size),
        )
        await forwarded_database(settings, items, ids)
        external = [ids[c.receipt_number] for c in items]
        async with Store.open(settings.database) as store:
            for number in range(rounds):
                part = external[number * slice_size : (number + 1) * slice_size]
                order = ("raw", "pull") if number % 2 == 0 else ("pull", "raw")
                for side in order:
                    if side == "raw":
                        raw.seconds += await raw_reads(base, part, CONCURRENCY)
                        raw.count += len(part)
                    else:
                        pulled.seconds += await pull_slice(settings, store, len(part))
                        pulled.count += len(part)
    figures = Figures(n, pulled, raw, CONCURRENCY)
    print(
        f"status pull of {n} open complaints: {pulled.rate:7.1f}/s   raw httpx reads "
        f"{raw.rate:7.1f}/s (c={CONCURRENCY})   ratio {figures.ratio:4.2f}   "
        f"({pulled.seconds:.1f} s in all)",
        flush=True,
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_status", description=__doc__)
    parser.add_argument("--n", type=int, default=10_000, help="open complaints")
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices")
    args: Any = parser.parse_args(argv)
    freeze_startup_heap()  # as the command line does
    if args.n < 1 or args.rounds < 1 or args.n < args.rounds:
        parser.error(
            f"--n and --rounds must be at least 1, n >= rounds; got {args.n!r}, {args.rounds!r}"
        )
    configure_logging(level="ERROR", fmt="console", stream=sys.stderr)
    asyncio.run(measure(n=args.n, rounds=args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
