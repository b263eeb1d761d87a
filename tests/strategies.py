"""Hypothesis strategies that build valid service standards and random edits of them.

Values come from small pools on purpose, so that two independent edits often pick the same value
and the interesting cases of a merge (same change on both sides, a change back to the base value)
show up in a few hundred examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from oss_bridge.domain.service_standard import (
    CONTENT_FIELDS,
    ComplaintHandling,
    CompletionTime,
    Contact,
    Fee,
    ServiceStandard,
)

OWNERS = ("oss", "region", "shared")

words = st.text(alphabet="abcéxyz", min_size=1, max_size=5)
texts = st.lists(words, min_size=1, max_size=3).map(" ".join)


def text_lists(*, min_size: int = 0, max_size: int = 3) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(texts, min_size=min_size, max_size=max_size).map(tuple)


optional_texts = st.none() | texts
codes = st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True)
completion_times = st.builds(
    CompletionTime,
    value=st.integers(min_value=0, max_value=30),
    unit=st.sampled_from(["day", "working_day"]),
)
fees = st.builds(
    Fee,
    amount=st.sampled_from([Decimal(0), Decimal("0.00"), Decimal(50000), Decimal("12500.50")])
    | st.decimals(min_value=0, max_value=10**9, places=2),
    note=optional_texts,
)
contacts = st.builds(
    Contact,
    address=optional_texts,
    phone=st.none() | st.sampled_from(["08117699877", "0761123456"]),
    website=st.none() | st.sampled_from(["dpmptsp.pelalawankab.go.id", "https://oss.go.id"]),
)
complaint_handlings = st.builds(
    ComplaintHandling,
    rules=text_lists(),
    stages=text_lists(),
    categories=text_lists(),
    objects=text_lists(),
    procedure=text_lists(),
    contact=contacts,
)

# One strategy per content field; a test checks that every field of the model has one.
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": texts,
    "agency": texts,
    "sk_number": optional_texts,
    "permit_code": st.none() | st.sampled_from(["I-0001", "I-0002", "1405-JP"]),
    "requirements": text_lists(min_size=1),
    "procedure": text_lists(min_size=1),
    "completion_time": completion_times,
    "fee": fees,
    "products": text_lists(min_size=1),
    "complaint_handling": complaint_handlings,
    "legal_basis": text_lists(),
    "facilities": text_lists(),
    "staff_competence": text_lists(),
    "internal_supervision": text_lists(),
    "staff_count": st.none() | st.integers(min_value=0, max_value=50),
    "service_guarantee": optional_texts,
    "security_guarantee": optional_texts,
    "performance_evaluation": text_lists(),
    "status": st.sampled_from(["active", "inactive"]),
}


@st.composite
def service_standards(draw: st.DrawFn, *, code: str | None = None) -> ServiceStandard:
    """A valid service standard; every content field drawn from ``FIELD_VALUES``."""
    values = {name: draw(FIELD_VALUES[name]) for name in CONTENT_FIELDS}
    return ServiceStandard(code=code if code is not None else draw(codes), **values)


@st.composite
def edited(
    draw: st.DrawFn, standard: ServiceStandard, *, fields: Sequence[str] = CONTENT_FIELDS
) -> ServiceStandard:
    """``standard`` with new values drawn for a few of ``fields`` (possibly equal to the old)."""
    chosen = draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True))
    if not chosen:
        return standard
    updates = {name: draw(FIELD_VALUES[name]) for name in chosen}
    return ServiceStandard.model_validate({**standard.model_dump(), **updates})


ownerships = st.dictionaries(st.sampled_from(CONTENT_FIELDS), st.sampled_from(OWNERS))
