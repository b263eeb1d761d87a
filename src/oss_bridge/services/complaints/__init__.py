"""The pure decision rules of complaint handling: no I/O beyond reading the status-map file.

Import from the modules themselves; this package re-exports nothing, so that ``oss_bridge.config``
can import ``triage.TriageSettings`` without pulling in modules that import the config back.

- ``status_mapping``: national statuses to regional stages and Open311 open/closed.
- ``followups``: the channel's date-times, de-duplicated follow-ups and status history.
- ``deadlines``: the office's working-day calendar and the statutory deadlines of a complaint.
- ``schedule``: when to pull a complaint's national status next.
- ``backoff``: waits between forwarding attempts, and when a row is dead.
- ``receipts``: receipt numbers.
- ``triage``: stages b and c at intake (completeness, priority); ``TriageSettings``.
"""
