"""A pull reads the next page while it applies one: in order, one ahead, errors in their turn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from oss_bridge.clients import StandardsPage
from oss_bridge.errors import MalformedResponse
from oss_bridge.services.catalogue_sync import _fetching_ahead


class Source:
    """Pages with cursors "1", "2", ...; records how many were fetched and whether it closed."""

    def __init__(self, count: int, *, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.fetched = 0
        self.closed = False

    async def pages(self) -> AsyncGenerator[StandardsPage, None]:
        try:
            for number in range(1, self.count + 1):
                await asyncio.sleep(0)  # a turn of the loop, as a request would take
                if number == self.fail_at:
                    raise MalformedResponse(
                        f"page {number} cannot be read", system="oss", endpoint="inquiry"
                    )
                self.fetched += 1
                last = number == self.count
                yield StandardsPage(entries=(), cursor=None if last else str(number))
        finally:
            self.closed = True


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_every_page_comes_once_in_order() -> None:
    source = Source(5)

    cursors = [page.cursor async for page in _fetching_ahead(source.pages())]

    assert cursors == ["1", "2", "3", "4", None]
    assert source.closed


async def test_one_page_is_read_ahead_of_the_one_in_hand() -> None:
    source = Source(10)
    pages = _fetching_ahead(source.pages())

    first = await anext(pages)
    await settle()

    assert first.cursor == "1"
    assert source.fetched == 2
    await pages.aclose()


async def test_an_error_ahead_comes_after_the_pages_before_it() -> None:
    source = Source(5, fail_at=3)
    read: list[str | None] = []

    async def pull() -> None:
        async for page in _fetching_ahead(source.pages()):
            read.append(page.cursor)

    with pytest.raises(MalformedResponse, match="page 3"):
        await pull()

    assert read == ["1", "2"]
    assert source.closed


async def test_stopping_early_stops_fetching_and_closes_the_source() -> None:
    source = Source(100)
    pages = _fetching_ahead(source.pages())

    await anext(pages)
    await pages.aclose()
    fetched = source.fetched
    await settle()

    assert source.closed
    assert source.fetched == fetched < 100
