"""Set-up of a process that runs oss-bridge, before its work starts."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Take every object alive now out of the cyclic garbage collector's sight, for good.

    What a process builds at start-up (modules, classes, schemas, settings) lives as long as the
    process, yet every full collection walks all of it: over 100,000 objects once SQLAlchemy,
    pydantic and the app are imported. Work that allocates in bursts, like a catalogue pull
    reading pages of entries, sets off full collections every few pages, and a pull of 10,000
    entries spent a third of a second walking the start-up heap. Call this once, after the
    imports and before the work; garbage made later is collected as usual. No collection comes
    first: it would cost every command a tenth of a second for the little garbage imports leave.
    """
    gc.freeze()
