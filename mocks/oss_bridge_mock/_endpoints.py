"""The names of the national systems' endpoints, as the request counts and fault profiles use them.

A name is the HTTP method and the path template, e.g. ``POST /lapor/complaints/complaint``.
Control routes (``/_mock``) and documentation are not endpoints of the national systems.
"""

from __future__ import annotations

import re

OSS_PREFIX = "/oss/v1/kl/rba/"
OSS_METHODS = ("getDataReferensi", "inqueryStandarPelayanan", "receiveStandarPelayanan")
# The upper-case key each method's request wraps its payload in (DESIGN.md 3.1).
OSS_WRAPPERS = {
    "getDataReferensi": "GETDATAREFERENSI",
    "inqueryStandarPelayanan": "INQUERYSTANDARPELAYANAN",
    "receiveStandarPelayanan": "STANDARPELAYANAN",
}
OSS_UNKNOWN = "POST /oss/v1/kl/rba/{method}"

LAPOR_CREATE = "POST /lapor/complaints/complaint"
LAPOR_FIND = "GET /lapor/complaints"
LAPOR_DETAIL = "GET /lapor/complaints/{id}/complaint"
LAPOR_FOLLOWUPS = "GET /lapor/complaints/{id}/followups"
LAPOR_CATEGORIES = "GET /lapor/masters/categories"
LAPOR_INSTITUTIONS = "GET /lapor/masters/institutions/external"
OTHER = "other"

ENDPOINTS: tuple[str, ...] = (
    *(f"POST {OSS_PREFIX}{method}" for method in OSS_METHODS),
    OSS_UNKNOWN,
    LAPOR_CREATE,
    LAPOR_FIND,
    LAPOR_DETAIL,
    LAPOR_FOLLOWUPS,
    LAPOR_CATEGORIES,
    LAPOR_INSTITUTIONS,
    OTHER,
)

_EXACT = {
    ("POST", "/lapor/complaints/complaint"): LAPOR_CREATE,
    ("GET", "/lapor/complaints"): LAPOR_FIND,
    ("GET", "/lapor/masters/categories"): LAPOR_CATEGORIES,
    ("GET", "/lapor/masters/institutions/external"): LAPOR_INSTITUTIONS,
    **{("POST", f"{OSS_PREFIX}{m}"): f"POST {OSS_PREFIX}{m}" for m in OSS_METHODS},
}
_COMPLAINT_PATH = re.compile(r"^/lapor/complaints/[^/]+/(complaint|followups)$")


def endpoint_of(method: str, path: str) -> str | None:
    """The endpoint name of a request, or None when it is not for a national system."""
    name = _EXACT.get((method, path))
    if name is not None:
        return name
    if path.startswith("/lapor/") or path == "/lapor":
        match = _COMPLAINT_PATH.match(path)
        if match and method == "GET":
            return LAPOR_DETAIL if match.group(1) == "complaint" else LAPOR_FOLLOWUPS
        return OTHER
    if path.startswith(OSS_PREFIX) and method == "POST" and "/" not in path[len(OSS_PREFIX) :]:
        return OSS_UNKNOWN
    if path.startswith("/oss/") or path == "/oss":
        return OTHER
    return None
