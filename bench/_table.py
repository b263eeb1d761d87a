"""The one table ``python -m bench`` prints: a row per figure, each beside its baseline.

Rows are built from the figures the bench modules return (``rows``) and printed as a Markdown
table whose columns are also aligned as plain text (``render``), so the same output reads well
in a terminal and pastes into the README.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.bench_catalogue import Figures as CatalogueFigures
from bench.bench_clients import Figures as ClientFigures
from bench.bench_instances import Figures as ForwardingFigures
from bench.bench_instances import Throughput
from bench.bench_intake import Figures as IntakeFigures
from bench.bench_mock import Measure, Target
from bench.bench_status import Figures as StatusFigures

HEADER = ("figure", "oss-bridge", "baseline, same run", "ratio")
NOT_MEASURED = "not measured: set OSS_BRIDGE_BENCH_POSTGRES_URL"
LEGEND = (
    "ratio: oss-bridge's speed over its baseline's (1.00 = as fast; for latency, baseline "
    "latency over oss-bridge's)"
)


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    baseline: str = "-"
    ratio: float | None = None

    def cells(self) -> tuple[str, str, str, str]:
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        return (self.figure, self.value, self.baseline, ratio)


@dataclass(frozen=True)
class AllFigures:
    forwarding: ForwardingFigures
    clients: ClientFigures
    catalogue: CatalogueFigures
    status: StatusFigures
    intake: IntakeFigures
    mock: tuple[Measure, list[tuple[Target, Measure]]]


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _forwarding(label: str, row: Throughput | None) -> Row:
    if row is None:
        return Row(label, NOT_MEASURED)
    return Row(
        f"{label} ({row.forwarded.count:,} complaints)",
        f"{row.forwarded.rate:,.0f} complaints/s",
        f"raw httpx creates {row.raw.rate:,.0f}/s (c={row.raw_concurrency})",
        row.ratio,
    )


def rows(figures: AllFigures) -> list[Row]:
    """Every figure of a run, in the order of the README's table."""
    f, c, cat, s, i = (
        figures.forwarding,
        figures.clients,
        figures.catalogue,
        figures.status,
        figures.intake,
    )
    bare, targets = figures.mock
    entries = cat.entries
    table = [
        _forwarding("Forwarding, SQLite", f.sqlite),
        _forwarding("Forwarding, PostgreSQL", f.postgres),
        _forwarding("Forwarding, PostgreSQL, 3 instances", f.instances),
        Row(
            f"Channel client creates (c={c.client.concurrency})",
            f"{c.client.rate:,.0f} creates/s",
            f"raw httpx creates {c.baseline.rate:,.0f}/s",
            c.ratio,
        ),
        Row(
            f"Catalogue initial pull ({entries:,} entries)",
            f"{cat.pull_seconds:.2f} s ({entries / cat.pull_seconds:,.0f} entries/s)",
            f"raw httpx pages {cat.raw_seconds:.2f} s",
            cat.raw_seconds / cat.pull_seconds,
        ),
        Row(
            "Catalogue resync, nothing changed",
            f"{_count(cat.resync_requests, 'request')}, {cat.resync_seconds:.2f} s",
        ),
        Row(
            f"Catalogue sync after {cat.edits} remote edits",
            f"{cat.edit_sync_fetched} fetched, {cat.edit_sync_updated} updated, "
            f"{cat.edit_sync_seconds:.2f} s",
        ),
        Row(
            f"Status pull, {s.complaints:,} open complaints",
            f"{s.pulled.rate:,.0f} complaints/s ({s.pulled.seconds:.1f} s)",
            f"raw httpx reads {s.raw.rate:,.0f}/s (c={s.concurrency})",
            s.ratio,
        ),
        Row(
            f"Intake latency p50 / p99 ({i.bridge.count:,} at {i.rate:g}/s)",
            f"{i.bridge.p50_ms:.1f} / {i.bridge.p99_ms:.1f} ms",
            f"bare uvicorn {i.bare.p50_ms:.1f} / {i.bare.p99_ms:.1f} ms",
            1 / i.ratio_p50 if i.ratio_p50 else None,
        ),
        Row("Peak memory, daemon after that intake", f"{i.peak_memory_mb:.0f} MB"),
        Row(
            f"Peak memory, first catalogue sync ({cat.memory_entries:,} entries)",
            f"{cat.memory_mb:.0f} MB",
        ),
    ]
    for target, measure in targets:
        table.append(
            Row(
                f"Mock national systems: {target.label}",
                f"{measure.rate:,.0f} requests/s",
                f"bare uvicorn {bare.rate:,.0f}/s",
                measure.rate / bare.rate if bare.rate else None,
            )
        )
    return table


def render(table: Sequence[Row]) -> str:
    """``table`` as a Markdown table with aligned columns."""
    lines = [HEADER, *(row.cells() for row in table)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADER))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if column == 3 else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 1) + ":" if column == 3 else "-" * (width + 2)
            for column, width in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(HEADER), rule, *(line(cells) for cells in lines[1:])])
