"""Throughput of ``LaporClient.create_complaint`` against hand-built httpx requests, same run.

Starts the mock national systems with uvicorn in a subprocess on a free loopback port, then
sends ``--n`` creates through ``LaporClient`` at ``--concurrency`` (default 32) and the same
number of hand-built ``httpx`` POSTs (same body, same headers) at the same concurrency. The two
alternate in slices of ``--slice`` creates (who goes first alternates too), each slice on a
freshly reset mock, and each side's throughput is its creates over its summed time: on a shared
machine a busy neighbour then slows both alike. The baseline is also measured at 4, 8 and 16
concurrent requests and its best concurrency is printed, as DESIGN.md 7 asks.

    .venv/bin/python -m bench.bench_clients            # 5,000 creates per pass
    .venv/bin/python -m bench.bench_clients --n 500    # a quick run

The figure of merit is ``client / baseline`` at the same concurrency; the goal is >= 0.85.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx

from bench._mock import mock_server
from oss_bridge.clients import LaporClient, build_http_client
from oss_bridge.clients._pool import PooledTransport
from oss_bridge.clients.lapor_wire import complaint_to_wire
from oss_bridge.config import LaporSettings
from oss_bridge.domain import Complaint, ComplaintCategory, ComplaintObject, Reporter
from oss_bridge.process import freeze_startup_heap

GOAL = 0.85
CATEGORY_ID = "105"
SWEEP = (4, 8, 16, 32)
DESCRIPTION = (
    "Permohonan perizinan berusaha saya di sistem OSS tertahan pada tahap verifikasi sejak "
    "dua minggu dan belum ada kabar dari petugas. Mohon ditindaklanjuti."
)


@dataclass(frozen=True)
class Result:
    label: str
    concurrency: int
    count: int
    seconds: float
    failures: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def complaints(count: int) -> list[Complaint]:
    """``count`` distinct complaints (the mock is reset before each pass, so reuse is fine)."""
    received = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
    return [
        Complaint(
            id=number,
            receipt_number=f"PGD-1405-20250106-{number:06d}",
            category=ComplaintCategory.HAMBATAN_OSS,
            object=ComplaintObject.PEMERINTAH_KABUPATEN,
            description=DESCRIPTION,
            service_code="SP-1405-000001",
            reporter=Reporter(name="Siti Aminah"),
            occurred_on=date(2025, 1, 2),
            received_at=received,
            updated_at=received,
        )
        for number in range(1, count + 1)
    ]


async def run_workers(
    count: int, concurrency: int, send: Callable[[int], Awaitable[bool]]
) -> tuple[float, int]:
    """Send ``count`` requests with ``concurrency`` workers; return seconds and failures."""
    indices = iter(range(count))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for index in indices:
            if not await send(index):
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, failures


def settings_for(base: str, concurrency: int) -> LaporSettings:
    return LaporSettings(base_url=f"{base}/lapor", max_connections=concurrency)


async def reset(base: str) -> None:
    async with httpx.AsyncClient() as control:
        (await control.post(f"{base}/_mock/reset")).raise_for_status()


async def client_pass(base: str, items: Sequence[Complaint], concurrency: int) -> Result:
    await reset(base)
    settings = settings_for(base, concurrency)
    async with build_http_client(settings) as http:
        client = LaporClient(http, settings)

        async def send(index: int) -> bool:
            created = await client.create_complaint(items[index], category_id=CATEGORY_ID)
            return bool(created.complaint_id)

        seconds, failures = await run_workers(len(items), concurrency, send)
    return Result("LaporClient", concurrency, len(items), seconds, failures)


async def baseline_pass(
    base: str, items: Sequence[Complaint], concurrency: int, *, bridge_pool: bool = False
) -> Result:
    """Hand-built POSTs: the body and headers the client sends, and a check of the answer.

    On httpx as it comes; ``bridge_pool`` puts them on the bridge's own connection pool
    (``PooledTransport``), to tell the pool's share of a comparison from the rest."""
    await reset(base)
    settings = settings_for(base, concurrency)
    bodies = [
        complaint_to_wire(
            c, category_id=CATEGORY_ID, disposition_id=settings.disposition_id
        ).model_dump(mode="json")
        for c in items
    ]
    auth = {
        "Authorization": f"Bearer {settings.auth_value.get_secret_value()}",
        "token": settings.token.get_secret_value(),
    }
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = PooledTransport(limits) if bridge_pool else None
    async with httpx.AsyncClient(
        base_url=settings.base_url, limits=limits, transport=transport
    ) as http:

        async def send(index: int) -> bool:
            headers = {
                **auth,
                "Idempotency-Key": f"oss-bridge-{items[index].receipt_number}",
                "X-Request-ID": uuid.uuid4().hex,
            }
            answer = await http.post("/complaints/complaint", json=bodies[index], headers=headers)
            return answer.status_code == 201 and bool(answer.json()["results"]["complaint_id"])

        seconds, failures = await run_workers(len(items), concurrency, send)
    label = "hand-built, bridge pool" if bridge_pool else "hand-built httpx"
    return Result(label, concurrency, len(items), seconds, failures)


def show(result: Result) -> None:
    failed = f", {result.failures} FAILED" if result.failures else ""
    print(
        f"  {result.label:<17} c={result.concurrency:<3} {result.count} creates in "
        f"{result.seconds:6.2f} s = {result.rate:7.1f}/s{failed}",
        flush=True,
    )


def total(label: str, concurrency: int, runs: Sequence[Result]) -> Result:
    return Result(
        label,
        concurrency,
        sum(r.count for r in runs),
        sum(r.seconds for r in runs),
        sum(r.failures for r in runs),
    )


@dataclass(frozen=True)
class Figures:
    """What one run measured: the client and the baseline at the same concurrency, the
    baseline's concurrency sweep, and its best concurrency."""

    client: Result
    baseline: Result
    sweep: dict[int, Result]

    @property
    def best_baseline(self) -> Result:
        return max(self.sweep.values(), key=lambda r: r.rate)

    @property
    def ratio(self) -> float:
        return self.client.rate / self.baseline.rate

    @property
    def failures(self) -> int:
        return sum(r.failures for r in [self.client, *self.sweep.values()])


async def measure(n: int, concurrency: int, slice_size: int) -> Figures:
    """Start the mock, run the alternating client and baseline slices and the baseline's
    concurrency sweep (see the module docstring), printing progress; return the figures."""
    with mock_server() as base:
        items = complaints(n)
        slices = [items[start : start + slice_size] for start in range(0, n, slice_size)]
        print(
            f"mock on {base}; {n} creates each way in {len(slices)} alternating slices",
            flush=True,
        )
        # Warm both paths once (imports, the mock's first requests).
        await client_pass(base, items[:200], concurrency)
        await baseline_pass(base, items[:200], concurrency)

        client_runs: list[Result] = []
        base_runs: list[Result] = []
        for number, part in enumerate(slices):
            # Alternate who goes first, so neither always meets the busier moment.
            order = (
                (client_pass, baseline_pass) if number % 2 == 0 else (baseline_pass, client_pass)
            )
            for run in order:
                result = await run(base, part, concurrency)
                (client_runs if run is client_pass else base_runs).append(result)
        client = total("LaporClient", concurrency, client_runs)
        same = total("hand-built httpx", concurrency, base_runs)
        show(client)
        show(same)

        print("baseline concurrency sweep:", flush=True)
        sweep = {concurrency: same}
        for level in SWEEP:
            if level not in sweep:
                sweep[level] = await baseline_pass(base, items, level)
                show(sweep[level])
    return Figures(client=client, baseline=same, sweep=sweep)


async def main_async(n: int, concurrency: int, slice_size: int) -> float:
    figures = await measure(n, concurrency, slice_size)
    client, same, best_base = figures.client, figures.baseline, figures.best_baseline
    ratio = figures.ratio
    print()
    print(f"LaporClient        c={concurrency}: {client.rate:7.1f}/s")
    print(f"hand-built httpx   c={concurrency}: {same.rate:7.1f}/s")
    print(f"hand-built httpx best concurrency c={best_base.concurrency}: {best_base.rate:7.1f}/s")
    print(f"ratio client/baseline at c={concurrency}: {ratio:.3f} (goal >= {GOAL})")
    print(
        f"ratio client at c={concurrency} / baseline at its best c={best_base.concurrency}: "
        f"{client.rate / best_base.rate:.3f}"
    )
    if figures.failures:
        print(f"WARNING: {figures.failures} requests failed; the figures above are not comparable")
    return ratio


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=5000, help="creates per pass (default 5000)")
    parser.add_argument("--concurrency", type=int, default=32, help="(default 32)")
    parser.add_argument(
        "--slice", type=int, default=500, help="creates per alternating slice (default 500)"
    )
    args = parser.parse_args(argv)
    freeze_startup_heap()  # as the command line does
    if args.n < 1 or args.concurrency < 1 or args.slice < 1:
        parser.error(
            f"--n, --concurrency and --slice must be at least 1; got {args.n!r}, "
            f"{args.concurrency!r}, {args.slice!r}"
        )
    asyncio.run(main_async(args.n, args.concurrency, args.slice))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
