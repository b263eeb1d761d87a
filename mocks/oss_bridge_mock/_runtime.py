"""Everything one mock instance holds, and how it goes back to its starting state."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oss_bridge_mock._catalogue import Catalogue
from oss_bridge_mock._complaints import ComplaintBook
from oss_bridge_mock._data import PERMIT_TABLE, load_seed_data, synthetic_entries
from oss_bridge_mock._time import MockClock, system_clock
from oss_bridge_mock.faults import FaultPlan, FaultProfile

Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True)
class Credentials:
    """What the mock accepts; the defaults are also the bridge's defaults (INTERFACES.md)."""

    user_key: str = "demo-user-key"
    auth_value: str = "demo-auth-value"
    token: str = "demo-token"


class Runtime:
    """The state of one mock: catalogue, complaints, reference data, faults and counters."""

    def __init__(
        self,
        *,
        faults: FaultProfile | None,
        seed: int,
        generate_catalogue: int,
        clock: Callable[[], datetime] | None,
        sleep: Sleep | None,
        auto_advance_seconds: float | None,
        credentials: Credentials,
    ) -> None:
        if generate_catalogue < 0:
            raise ValueError(
                f"generate_catalogue must be zero or more entries; got {generate_catalogue!r}"
            )
        self.seed = seed
        self.generate_catalogue = generate_catalogue
        self.clock = MockClock(clock or system_clock)
        self.sleep: Sleep = sleep or asyncio.sleep
        self.auto_advance_seconds = auto_advance_seconds
        self.credentials = credentials
        self.initial_faults = faults or FaultProfile()
        self.reset()

    def reset(self) -> None:
        """Back to the state right after start: seed data, start profile, zero counters."""
        data = load_seed_data()
        self.clock.reset()
        self.referensi = data.referensi
        permit_codes = [row["kode_referensi"] for row in data.referensi.get(PERMIT_TABLE, [])]
        entries = data.catalogue + synthetic_entries(
            self.generate_catalogue, seed=self.seed, permit_codes=permit_codes
        )
        self.catalogue = Catalogue(entries, permit_codes=permit_codes, now=self.clock.now)
        self.categories = data.categories
        self.institutions = data.institutions
        self.complaints = ComplaintBook(
            categories={int(c["id"]): str(c["name"]) for c in data.categories},
            institutions={str(i["id"]): str(i["name"]) for i in data.institutions},
            now=self.clock.now,
            auto_advance_seconds=self.auto_advance_seconds,
        )
        self.requests: Counter[str] = Counter()
        self.plan = FaultPlan(self.initial_faults, seed=self.seed)

    def set_faults(self, profile: FaultProfile) -> None:
        """Use ``profile`` from the next request on, with fresh random streams."""
        self.plan = FaultPlan(profile, seed=self.seed)

    def state(self) -> dict[str, Any]:
        return {
            "complaints": self.complaints.state(),
            "catalogue": self.catalogue.summary(),
            "requests": dict(sorted(self.requests.items())),
            "idempotency_keys": self.complaints.idempotency_keys,
            "now": self.clock.now().isoformat(),
        }
