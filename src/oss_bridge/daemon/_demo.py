"""``oss-bridge demo``: the mock national systems and the daemon, in one process, until Ctrl-C.

What it does, in order: binds both ports (a port in use fails at once), migrates the SQLite
database under ``var/demo/``, imports the packaged sample page (the job-portal service; doing
it again changes nothing), files a few sample complaints through the intake service when the
database has none, prints the URLs and the tokens to use, and serves the mock (seeded, with mild
faults: some latency, a few server errors and rate limits, and complaints whose answer is lost
after they were stored, which the forwarder must reconcile) beside the daemon. Intervals are
short so that something visibly happens within a minute: the catalogue syncs, the complaints
reach the mock channel, and the mock moves them through its statuses.

Tokens: the admin and staff tokens come from the config when it sets them (and are then not
printed); otherwise fresh ones are made for this run and printed, since a demo is of no use to a
person who cannot sign in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from oss_bridge.config import PullTier, Settings, normalise_database_url
from oss_bridge.daemon._lock import InstanceLock
from oss_bridge.daemon._runtime import Runtime, build_runtime
from oss_bridge.daemon._serve import (
    forget_signals,
    http_server,
    listen,
    serve_runtime,
    stop_on_signals,
    url_of,
)
from oss_bridge.data import sample_page_path
from oss_bridge.domain import ComplaintCategory, ComplaintObject
from oss_bridge.domain.complaint import ComplaintDraft, Reporter
from oss_bridge.log import get_logger
from oss_bridge.store import upgrade
from oss_bridge_mock import (
    FaultProfile,
    FaultSettings,
    LatencyRange,
    RateLimit,
    TimeoutAfterCommit,
    create_app,
)

log = get_logger("oss_bridge.demo")

DEMO_DIR = Path("var/demo")
DEMO_ACTOR = "demo"
MOCK_AUTO_ADVANCE_SECONDS = 45.0
"""Each complaint moves one status on at the mock every this many seconds."""


def mild_faults(seed: int = 7) -> FaultProfile:
    """The demo's fault profile: a national system on an ordinary day, not a bad one."""
    return FaultProfile(
        seed=seed,
        error_rate=0.03,
        latency_ms=LatencyRange(min=5, max=80),
        rate_limit=RateLimit(rate=0.02, retry_after_seconds=1),
        endpoints={
            "POST /lapor/complaints/complaint": FaultSettings(
                timeout_after_commit=TimeoutAfterCommit(rate=0.15, mode="drop")
            )
        },
    )


@dataclass(frozen=True)
class DemoTokens:
    admin: SecretStr
    staff: SecretStr
    admin_generated: bool
    staff_generated: bool


def demo_settings(
    base: Settings, *, host: str, port: int, mock_host: str, mock_port: int, root: Path
) -> tuple[Settings, DemoTokens]:
    """``base`` pointed at the demo's database, ports and mock, with short intervals."""
    admin, staff = base.api.admin_token, base.api.staff_token
    tokens = DemoTokens(
        admin=admin if admin is not None else SecretStr(secrets.token_urlsafe(18)),
        staff=staff if staff is not None else SecretStr(secrets.token_urlsafe(12)),
        admin_generated=admin is None,
        staff_generated=staff is None,
    )
    mock = f"http://{_url_host(mock_host)}:{mock_port}"
    settings = base.model_copy(
        update={
            "database": base.database.model_copy(
                update={"url": normalise_database_url(f"sqlite:///{root / 'oss-bridge.db'}")}
            ),
            "oss": base.oss.model_copy(update={"base_url": f"{mock}/oss"}),
            "lapor": base.lapor.model_copy(update={"base_url": f"{mock}/lapor"}),
            "api": base.api.model_copy(
                update={
                    "host": host,
                    "port": port,
                    "admin_token": tokens.admin,
                    "staff_token": tokens.staff,
                }
            ),
            "catalogue": base.catalogue.model_copy(update={"interval_seconds": 60}),
            "forwarder": base.forwarder.model_copy(
                update={"interval_seconds": 5, "backoff_initial": 1, "backoff_max": 30}
            ),
            "status_pull": base.status_pull.model_copy(
                update={
                    "interval_seconds": 10,
                    "tiers": [
                        PullTier(quiet_below_hours=24, every_minutes=0.5),
                        PullTier(every_minutes=10),
                    ],
                }
            ),
            "scheduler": base.scheduler.model_copy(
                update={"jitter_seconds": 1, "deadline_check_interval_seconds": 60}
            ),
        }
    )
    return settings, tokens


def sample_drafts(service_code: str | None) -> list[ComplaintDraft]:
    """A few complaints such as the office receives, with made-up reporters."""
    return [
        ComplaintDraft(
            category=ComplaintCategory.HAMBATAN_OSS,
            object=ComplaintObject.PEMERINTAH_KABUPATEN,
            description=(
                "Akun OSS kami tidak bisa mengunggah dokumen persyaratan sejak tiga hari; "
                "setiap unggahan berhenti di 90 persen."
            ),
            service_code=service_code,
            reporter=Reporter(name="Contoh Pelapor", email="pelapor@example.id"),
        ),
        ComplaintDraft(
            category=ComplaintCategory.PERIZINAN_BERUSAHA,
            object=ComplaintObject.ASN_PTT,
            description="Permohonan NIB kami belum diproses melewati waktu penyelesaian 5 hari.",
            reporter=Reporter(name="Contoh Pelaku Usaha", phone="081234567890"),
        ),
        ComplaintDraft(
            category=ComplaintCategory.PENGAWASAN,
            object=ComplaintObject.PELAKU_USAHA,
            description="Usaha di sebelah rumah beroperasi tanpa papan izin yang terlihat.",
            anonymous=True,
        ),
    ]


async def prepare(runtime: Runtime) -> tuple[str, int]:
    """Import the sample page and, into an empty database, file the sample complaints.

    Returns the imported entry's code and how many complaints were filed.
    """
    saved = await runtime.catalogue.import_page(sample_page_path(), actor=DEMO_ACTOR)
    if await runtime.store.count_complaints() > 0:
        return saved.code, 0
    filed = 0
    for draft in sample_drafts(saved.code):
        await runtime.intake.submit(draft)
        filed += 1
    return saved.code, filed


def banner(*, api: str, mock: str, tokens: DemoTokens, code: str, filed: int, database: str) -> str:
    def token_line(value: SecretStr, generated: bool, key: str) -> str:
        return value.get_secret_value() if generated else f"(the {key} from your config)"

    staff = token_line(tokens.staff, tokens.staff_generated, "api.staff_token")
    admin = token_line(tokens.admin, tokens.admin_generated, "api.admin_token")
    complaints = f"{filed} sample complaints filed" if filed else "complaints kept from last run"
    return "\n".join(
        [
            "oss-bridge demo is running (Ctrl-C stops it)",
            "",
            f"  staff page       {api}/ui/          staff token: {staff}",
            f"  intake API       {api}/api/v1/complaints",
            f"  Open311          {api}/open311/v2/services.json",
            f"  admin API        {api}/api/v1/admin/status   (Authorization: Bearer {admin})",
            f"  health, metrics  {api}/readyz  {api}/metrics",
            f"  API docs         {api}/docs",
            f"  mock state       {mock}/_mock/state",
            f"  mock API docs    {mock}/docs",
            "",
            f"  database {database}; catalogue entry {code!r} imported; {complaints}",
            "",
        ]
    )


async def run_demo(
    base: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    mock_port: int = 8090,
    root: Path = DEMO_DIR,
    faults: FaultProfile | None = None,
    out: TextIO | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run the demo until SIGINT/SIGTERM (or ``stop``); returns the exit code, 0.

    ``faults`` replaces the mild default profile. Raises a ``BridgeError`` when it cannot
    start (a port in use, another daemon on the demo database).
    """
    out = out or sys.stdout
    stop = stop or asyncio.Event()
    settings, tokens = demo_settings(
        base, host=host, port=port, mock_host=host, mock_port=mock_port, root=root
    )
    api_listener = listen(host, port, change="--port (or --host)")
    try:
        mock_listener = listen(host, mock_port, change="--mock-port (or --host)")
    except BaseException:
        api_listener.close()
        raise
    with InstanceLock(settings.database) as lock:
        # The migration's step-by-step lines would bury the banner.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        await upgrade(settings)
        mock = http_server(
            create_app(
                faults=faults if faults is not None else mild_faults(),
                seed=1,
                auto_advance_seconds=MOCK_AUTO_ADVANCE_SECONDS,
            ),
            grace=1,
            log_level="warning",
        )
        mocking = asyncio.create_task(mock.serve(sockets=[mock_listener]), name="mock")
        runtime = build_runtime(settings)
        try:
            await runtime.check()
            code, filed = await prepare(runtime)
            print(
                banner(
                    api=url_of(api_listener),
                    mock=url_of(mock_listener),
                    tokens=tokens,
                    code=code,
                    filed=filed,
                    database=runtime.store.database,
                ),
                file=out,
                flush=True,
            )
            stop_on_signals(stop)
            try:
                await serve_runtime(runtime, [api_listener], stop=stop, sole_instance=lock.held)
            finally:
                forget_signals()
        finally:
            await runtime.aclose()
            # The mock goes last: the daemon may still talk to it while it stops.
            mock.should_exit = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(mocking, timeout=3)
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


__all__: Sequence[str] = ["demo_settings", "mild_faults", "run_demo", "sample_drafts"]
