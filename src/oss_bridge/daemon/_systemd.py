"""Telling systemd how the daemon stands (``Type=notify``), without a library.

systemd names a datagram socket in ``NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract
namespace); ``READY=1`` says the daemon serves, ``STOPPING=1`` that it is stopping. Outside
systemd the variable is unset and nothing is sent.
"""

from __future__ import annotations

import os
import socket

from oss_bridge.log import get_logger

log = get_logger("oss_bridge.daemon")

NOTIFY_ENV = "NOTIFY_SOCKET"


def notify(state: str) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``) to systemd; returns whether it was sent."""
    address = os.environ.get(NOTIFY_ENV)
    if not address:
        return False
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(state.encode("utf-8"), target)
    except OSError as exc:
        log.warning("systemd not notified", state=state, reason=exc.strerror or str(exc))
        return False
    return True
