"""Typed async clients for the national systems: OSS and the complaint channel (SP4N-LAPOR!).

These are the only modules that know the wire formats of DESIGN.md section 3. Each client takes
the process's one pooled ``httpx.AsyncClient`` for its system (``build_http_client``), retries
under one declared ``RetryPolicy`` and raises only errors of the ``oss_bridge.errors`` tree.

    http = build_http_client(settings.lapor)
    lapor = LaporClient(http, settings.lapor)
    created = await lapor.create_complaint(complaint, category_id="101")
"""

from oss_bridge.clients._http import build_http_client
from oss_bridge.clients.lapor import (
    ChannelComplaint,
    CreatedComplaint,
    FollowUp,
    FoundComplaint,
    LaporClient,
    MasterItem,
    StatusChange,
)
from oss_bridge.clients.oss import (
    OssClient,
    ReferenceItem,
    RejectedEntry,
    RemoteEntry,
    StandardsPage,
)
from oss_bridge.clients.oss_wire import LOCAL_ONLY_FIELDS, EntryDefaults
from oss_bridge.clients.retry import RetryPolicy, RetryRuntime, parse_retry_after

__all__ = [
    "LOCAL_ONLY_FIELDS",
    "ChannelComplaint",
    "CreatedComplaint",
    "EntryDefaults",
    "FollowUp",
    "FoundComplaint",
    "LaporClient",
    "MasterItem",
    "OssClient",
    "ReferenceItem",
    "RejectedEntry",
    "RemoteEntry",
    "RetryPolicy",
    "RetryRuntime",
    "StandardsPage",
    "StatusChange",
    "build_http_client",
    "parse_retry_after",
]
