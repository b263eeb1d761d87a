"""The canonical content of a service standard and its hash. Pure functions, no I/O.

Two standards that compare equal get the same canonical content and the same hash, so sync can
tell "changed" from "unchanged" by comparing hashes alone. ``CanonicalStandard`` holds a valid
standard as that content, for readers that can vouch for it without building the model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel

from oss_bridge.domain.service_standard import ServiceStandard


def canonical_content(standard: ServiceStandard) -> dict[str, Any]:
    """The JSON-mode dump of ``standard`` with every decimal written in its shortest form.

    pydantic dumps a ``Decimal`` as ``str(value)``, so the equal amounts ``5000`` and
    ``5000.00`` would dump (and hash) differently; here both become ``"5000"``.
    """
    normalised: dict[str, Any] = _normalise_decimals(standard.model_dump(mode="json"), standard)
    return normalised


def content_hash(standard: ServiceStandard) -> str:
    """SHA-256 (hex) of the canonical content, serialised with sorted keys and no spaces."""
    return hash_content(canonical_content(standard))


def hash_content(content: Any) -> str:
    """SHA-256 (hex) of JSON ``content`` as ``content_hash`` serialises it."""
    return hash_text(canonical_json(content))


def canonical_json(content: Any) -> str:
    """JSON ``content`` as ``content_hash`` serialises it: sorted keys, no spaces, not escaped."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def hash_text(text: str) -> str:
    """SHA-256 (hex) of ``text`` from ``canonical_json``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise_decimals(dumped: Any, value: Any) -> Any:
    """Walk the JSON dump beside the Python value it came from, rewriting decimals."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, BaseModel) and isinstance(dumped, dict):
        return {
            key: _normalise_decimals(item, getattr(value, key, None))
            for key, item in dumped.items()
        }
    if isinstance(value, dict) and isinstance(dumped, dict):
        return {key: _normalise_decimals(item, value.get(key)) for key, item in dumped.items()}
    if isinstance(value, list | tuple) and isinstance(dumped, list):
        return [_normalise_decimals(d, v) for d, v in zip(dumped, value, strict=True)]
    return dumped


def decimal_text(value: Decimal) -> str:
    """A decimal as the canonical content writes it: its shortest plain text, ``0`` for zero."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


@dataclass(frozen=True, eq=False)
class CanonicalStandard:
    """A valid service standard held as its canonical content, built on first use as a model.

    ``content`` is exactly ``canonical_content`` of the standard (lists where the model has
    tuples) and ``text`` exactly ``canonical_json`` of that content. Whoever builds one vouches
    for both and for the standard being valid; the OSS client does for the entries it reads
    (``oss_wire.canonical_from``), so that an initial pull stores thousands of entries without
    building a model of each. ``standard`` is the model, as ``ServiceStandard`` validates the
    content.
    """

    content: Mapping[str, Any]
    text: str

    @property
    def code(self) -> str:
        code: str = self.content["code"]
        return code

    @property
    def status(self) -> Literal["active", "inactive"]:
        return "inactive" if self.content["status"] == "inactive" else "active"

    @cached_property
    def standard(self) -> ServiceStandard:
        return ServiceStandard.model_validate(self.content)

    @property
    def digest(self) -> str:
        """``content_hash`` of the standard."""
        return hash_text(self.text)
