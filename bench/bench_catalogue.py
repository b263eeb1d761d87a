"""The catalogue sync against the mock OSS on loopback, with a raw httpx baseline from the same run.

Starts ``oss-bridge mock serve --generate-catalogue N`` in a subprocess on a free loopback port,
then measures, each on a new SQLite database:

1. initial pull: ``CatalogueSync.sync()`` of the whole catalogue, against a raw baseline of the
   same pages fetched with plain ``httpx`` (same page size, answers parsed as JSON, cursor
   followed). Sync and baseline alternate for ``--rounds`` rounds and each keeps its best round,
   so a noisy neighbour slows both alike. The OSS client alone (pages read into models, nothing
   stored) is measured beside them, to show where the time goes. Goal: sync <= 1.5 x baseline.
2. a second sync with nothing changed: requests the mock counted, and time. Goal: <= 3
   requests, < 1 s.
3. a sync after ``--edits`` remote edits: entries fetched. Goal: about the number of edits.
4. peak memory (``ru_maxrss``) of a whole first sync run in a subprocess of its own, against a
   mock holding ``--memory-entries`` entries (100,000 with ``--large``). Goal: < 200 MB.

    .venv/bin/python -m bench.bench_catalogue                 # 10,000 entries; memory at 10,000
    .venv/bin/python -m bench.bench_catalogue --large         # memory measured at 100,000 (slow)
    .venv/bin/python -m bench.bench_catalogue --entries 2000  # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench._mock import mock_server
from oss_bridge.clients import OssClient, build_http_client
from oss_bridge.config import DatabaseSettings, OssSettings, Settings
from oss_bridge.log import configure_logging
from oss_bridge.process import freeze_startup_heap
from oss_bridge.services.catalogue_sync import CatalogueSync
from oss_bridge.store import Store, upgrade

REGION = "1405"
USER_KEY = "demo-user-key"
PULL_GOAL = 1.5
RESYNC_REQUEST_GOAL = 3
RESYNC_SECONDS_GOAL = 1.0
MEMORY_GOAL_MB = 200.0


def settings_for(base: str, database: Path, page_limit: int) -> Settings:
    return Settings(
        database=DatabaseSettings(url=f"sqlite:///{database}"),
        oss=OssSettings(base_url=f"{base}/oss", page_limit=page_limit),
    )


async def requests_counted(base: str) -> dict[str, int]:
    async with httpx.AsyncClient() as control:
        counts: dict[str, int] = (await control.get(f"{base}/_mock/state")).json()["requests"]
        return counts


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await work()
    return time.perf_counter() - started, result


# --- what is measured ------------------------------------------------------------------------------


async def raw_pages(base: str, page_limit: int) -> int:
    """Every page of the region with plain httpx: the baseline. Returns the entries read."""
    entries = 0
    cursor = None
    async with httpx.AsyncClient(base_url=f"{base}/oss") as http:
        while True:
            body = {
                "INQUERYSTANDARPELAYANAN": {
                    "kd_daerah": REGION,
                    "sejak": None,
                    "cursor": cursor,
                    "limit": page_limit,
                }
            }
            answer = await http.post(
                "/v1/kl/rba/inqueryStandarPelayanan", json=body, headers={"user_key": USER_KEY}
            )
            page = answer.json()["responinqueryStandarPelayanan"]
            entries += len(page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                return entries


async def client_pages(settings: Settings) -> int:
    """Every page through the OSS client, read into models and dropped."""
    entries = 0
    async with build_http_client(settings.oss) as http:
        oss = OssClient(http, settings.oss, kd_daerah=REGION, agency=settings.region.agency)
        async for page in oss.standards_since(None, tolerant=True):
            entries += len(page.entries)
    return entries


@contextlib.asynccontextmanager
async def catalogue_sync(settings: Settings) -> Any:
    await upgrade(settings)
    store = Store.open(settings.database)
    try:
        async with build_http_client(settings.oss) as http:
            oss = OssClient(http, settings.oss, kd_daerah=REGION, agency=settings.region.agency)
            yield CatalogueSync(store, oss, settings)
    finally:
        await store.close()


@dataclass(frozen=True)
class Figures:
    entries: int
    raw_seconds: float
    client_seconds: float
    pull_seconds: float
    resync_requests: int
    resync_seconds: float
    edits: int
    edit_sync_fetched: int
    edit_sync_updated: int
    edit_sync_seconds: float
    memory_entries: int
    memory_mb: float
    memory_seconds: float


async def edit_remotely(base: str, count: int, entries: int) -> None:
    """Change ``count`` generated entries as OSS staff would."""
    chosen = random.Random(0).sample(range(1, entries + 1), count)
    async with httpx.AsyncClient(base_url=base) as control:
        for number in chosen:
            answer = await control.post(
                "/_mock/edit",
                json={
                    "id_layanan": f"GEN-{REGION}-{number:06d}",
                    "changes": {"nama_layanan": f"Layanan Perizinan Sintetis {number} (diubah)"},
                },
            )
            answer.raise_for_status()


async def measure(args: argparse.Namespace, base: str, workdir: Path) -> Figures:
    limit = args.page_limit
    raw_best = client_best = pull_best = float("inf")
    for round_number in range(1, args.rounds + 1):
        raw_seconds, _ = await timed(lambda: raw_pages(base, limit))
        settings = settings_for(base, workdir / f"client-{round_number}.db", limit)
        client_seconds, _ = await timed(lambda: client_pages(settings))  # noqa: B023  # awaited at once
        settings = settings_for(base, workdir / f"pull-{round_number}.db", limit)
        async with catalogue_sync(settings) as sync:
            pull_seconds, _ = await timed(lambda: sync.sync("pull"))
        print(
            f"  round {round_number}: raw {raw_seconds:.2f}s, client {client_seconds:.2f}s, "
            f"sync {pull_seconds:.2f}s",
            flush=True,
        )
        raw_best = min(raw_best, raw_seconds)
        client_best = min(client_best, client_seconds)
        pull_best = min(pull_best, pull_seconds)

    # The last round's database holds the whole catalogue: sync it again, then after edits.
    async with catalogue_sync(settings) as sync:
        before = await requests_counted(base)
        resync_seconds, _ = await timed(lambda: sync.sync())
        after = await requests_counted(base)
        resync_requests = sum(after.values()) - sum(before.values())
        await edit_remotely(base, args.edits, args.entries)
        edit_seconds, edited = await timed(lambda: sync.sync())

    memory = await memory_in_subprocess(args, workdir)
    return Figures(
        entries=args.entries,
        raw_seconds=raw_best,
        client_seconds=client_best,
        pull_seconds=pull_best,
        resync_requests=resync_requests,
        resync_seconds=resync_seconds,
        edits=args.edits,
        edit_sync_fetched=edited.counts.fetched,
        edit_sync_updated=edited.counts.updated,
        edit_sync_seconds=edit_seconds,
        memory_entries=memory["entries"],
        memory_mb=memory["maxrss_kb"] / 1024,
        memory_seconds=memory["seconds"],
    )


async def memory_in_subprocess(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    entries = 100_000 if args.large else args.memory_entries
    print(f"  memory: a first sync of {entries:,} entries in a subprocess ...", flush=True)
    with mock_server(entries) as base:
        command = [
            sys.executable,
            "-m",
            "bench.bench_catalogue",
            "--child-sync",
            base,
            "--page-limit",
            str(args.page_limit),
            "--database",
            str(workdir / "memory.db"),
        ]
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, check=True
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["entries"] = entries
    return result


async def child_sync(base: str, database: Path, page_limit: int) -> None:
    """One first sync in this process; prints its time and this process's peak memory."""
    settings = settings_for(base, database, page_limit)
    async with catalogue_sync(settings) as sync:
        seconds, report = await timed(lambda: sync.sync())
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"seconds": seconds, "maxrss_kb": maxrss_kb, "created": report.counts.created})
    )


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_figures(f: Figures) -> None:
    ratio = f.pull_seconds / f.raw_seconds
    client_ratio = f.client_seconds / f.raw_seconds
    print()
    print(f"catalogue of {f.entries:,} entries, best of the rounds:")
    print(f"  raw httpx, pages only        {f.raw_seconds:8.2f} s")
    print(f"  OSS client, pages into models{f.client_seconds:8.2f} s   ({client_ratio:.1f} x raw)")
    print(
        f"  initial pull (sync)          {f.pull_seconds:8.2f} s   ({ratio:.1f} x raw; goal <= "
        f"{PULL_GOAL} x)  {verdict(ratio <= PULL_GOAL)}"
    )
    print(
        f"  resync, nothing changed      {f.resync_requests:8d} requests, {f.resync_seconds:.2f} s "
        f"(goal <= {RESYNC_REQUEST_GOAL}, < {RESYNC_SECONDS_GOAL:.0f} s)  "
        f"{verdict(f.resync_requests <= RESYNC_REQUEST_GOAL and f.resync_seconds < RESYNC_SECONDS_GOAL)}"
    )
    print(
        f"  sync after {f.edits} remote edits  {f.edit_sync_fetched:8d} entries fetched, "
        f"{f.edit_sync_updated} updated (goal: about {f.edits})  "
        f"{verdict(f.edit_sync_fetched <= 2 * f.edits)}"
    )
    print(
        f"  peak memory, first sync of {f.memory_entries:,}: {f.memory_mb:.0f} MB in "
        f"{f.memory_seconds:.1f} s (goal < {MEMORY_GOAL_MB:.0f} MB)  "
        f"{verdict(f.memory_mb < MEMORY_GOAL_MB)}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=10_000, help="generated catalogue size")
    parser.add_argument("--page-limit", type=int, default=200, help="entries per page")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of pull vs baseline")
    parser.add_argument("--edits", type=int, default=100, help="remote edits before a sync")
    parser.add_argument(
        "--memory-entries", type=int, default=10_000, help="catalogue size of the memory run"
    )
    parser.add_argument(
        "--large", action="store_true", help="measure memory with 100,000 entries (slow)"
    )
    parser.add_argument("--child-sync", metavar="BASE", help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    freeze_startup_heap()  # as the command line does
    configure_logging(level="WARNING", fmt="console", stream=sys.stderr)
    if args.child_sync:
        asyncio.run(child_sync(args.child_sync, args.database, args.page_limit))
        return
    with tempfile.TemporaryDirectory(prefix="bench-catalogue-") as tmp:
        print(f"starting the mock with {args.entries:,} entries ...", flush=True)
        with mock_server(args.entries) as base:
            figures = asyncio.run(measure(args, base, Path(tmp)))
    print_figures(figures)


if __name__ == "__main__":
    main()
