"""Domain models and fixed vocabularies. No I/O here."""

from oss_bridge.domain.complaint import (
    Complaint,
    ComplaintDraft,
    ComplaintView,
    DeadlineView,
    ForwardState,
    HistoryEntry,
    Receipt,
    Reporter,
)
from oss_bridge.domain.service_standard import (
    ComplaintHandling,
    CompletionTime,
    Contact,
    Fee,
    ServiceStandard,
)
from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject, Stage

__all__ = [
    "Complaint",
    "ComplaintCategory",
    "ComplaintDraft",
    "ComplaintHandling",
    "ComplaintObject",
    "ComplaintView",
    "CompletionTime",
    "Contact",
    "DeadlineView",
    "Fee",
    "ForwardState",
    "HistoryEntry",
    "Receipt",
    "Reporter",
    "ServiceStandard",
    "Stage",
]
