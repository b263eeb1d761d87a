"""The OSS client: reference tables, the region's service standards, create/update of one entry.

Every call is ``POST {base}/v1/kl/rba/{method}`` with header ``user_key`` (DESIGN.md 3.1). The
answer's ``kode`` (a number or numeric text) is read as its status: 200 is success; 401 means
``oss.user_key`` is wrong; 409 on ``receiveStandarPelayanan`` is a version conflict carrying OSS's
current entry; 500 and 504 are retried; every other code is a refusal retrying cannot help.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from random import random as _uniform
from typing import Any, Literal, TypeVar

import httpx
from pydantic import ValidationError

from oss_bridge.clients import oss_wire as wire
from oss_bridge.clients._http import Answer, Call, Seam, summarise
from oss_bridge.clients.retry import RetryPolicy, RetryRuntime, utc_now
from oss_bridge.config import OssSettings
from oss_bridge.domain.canonical import CanonicalStandard
from oss_bridge.domain.service_standard import ServiceStandard
from oss_bridge.errors import MalformedResponse, RequestRejected, VersionConflict

H = TypeVar("H", bound=wire.Header)
T = TypeVar("T")

CONFIG_KEY = "oss.user_key"

_REFUSALS: dict[int, str] = {
    400: "OSS refused the parameters; fix the request (see the keterangan)",
    403: "OSS calls this access illegal; ask the OSS helpdesk to grant oss.user_key this method",
    404: "OSS does not know this service; check oss.base_url",
    405: "OSS refused the service; ask the OSS helpdesk whether it is enabled for this key",
}


@dataclass(frozen=True)
class ReferenceItem:
    """One row of an OSS reference table (kode 8: permit codes)."""

    code: str
    description: str
    note: str | None = None


class RemoteEntry:
    """A service standard as OSS holds it, with OSS's version stamp.

    An entry read from a page may hold the standard as its canonical content only
    (``canonical``, see ``oss_wire.canonical_from``); ``standard`` then builds the model on
    first use, which an initial pull mostly never does.
    """

    __slots__ = ("_held", "code", "diperbarui", "status", "versi")

    def __init__(
        self, standard: ServiceStandard | CanonicalStandard, *, versi: int, diperbarui: datetime
    ) -> None:
        self._held = standard
        self.code: str = standard.code
        self.status: Literal["active", "inactive"] = standard.status
        self.versi = versi
        self.diperbarui = diperbarui

    @property
    def standard(self) -> ServiceStandard:
        held = self._held
        return held.standard if isinstance(held, CanonicalStandard) else held

    @property
    def canonical(self) -> CanonicalStandard | None:
        """The standard as its canonical content, when it was read that way."""
        return self._held if isinstance(self._held, CanonicalStandard) else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteEntry):
            return NotImplemented
        return (self.standard, self.versi, self.diperbarui) == (
            other.standard,
            other.versi,
            other.diperbarui,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.versi, self.diperbarui))

    def __repr__(self) -> str:
        return f"RemoteEntry(code={self.code!r}, versi={self.versi!r}, status={self.status!r})"


@dataclass(frozen=True)
class RejectedEntry:
    """An entry of a page that is not a valid service standard, kept as OSS sent it.

    ``raw`` is the entry's JSON text, ``id_layanan`` its id when it has a readable one, and
    ``reason`` says what is wrong with it.
    """

    id_layanan: str | None
    raw: str
    reason: str


@dataclass(frozen=True)
class StandardsPage:
    """One page of entries; ``cursor`` resumes after it, None after the last page.

    ``rejected`` holds the entries that could not be read, only when the page was asked for with
    ``tolerant=True``; otherwise such an entry makes the whole page malformed.
    """

    entries: tuple[RemoteEntry, ...]
    cursor: str | None
    rejected: tuple[RejectedEntry, ...] = ()


class OssClient:
    """Typed async access to OSS for one region (``kd_daerah``).

    ``http`` is the process's pooled client for OSS (``build_http_client(settings)``); the caller
    owns and closes it. ``agency`` names the region's agency, which stands in when an OSS entry
    names none. ``sleep``, ``clock``, ``random`` and ``now`` drive the retry waits; tests replace
    them so nothing sleeps.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: OssSettings,
        *,
        kd_daerah: str,
        agency: str,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _uniform,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        if not kd_daerah.isdigit():
            raise ValueError(f"kd_daerah must be the region's numeric code, not {kd_daerah!r}")
        self.kd_daerah = kd_daerah
        self.agency = agency
        self.page_limit = settings.page_limit
        self.policy = RetryPolicy.from_settings(settings)
        self._seam = Seam(
            http,
            system="oss",
            policy=self.policy,
            runtime=RetryRuntime(sleep=sleep, clock=clock, random=random, now=now),
            headers={"user_key": settings.user_key.get_secret_value()},
        )

    async def reference_table(self, kode: str) -> tuple[ReferenceItem, ...]:
        """The rows of reference table ``kode`` (``getDataReferensi``)."""
        method = "getDataReferensi"

        def parse(answer: Answer) -> tuple[ReferenceItem, ...]:
            rows = _read(answer, method, wire.ReferenceAnswer).dataReferensi
            return tuple(
                ReferenceItem(
                    code=row.kode_referensi,
                    description=row.uraian_referensi,
                    note=row.keterangan_referensi,
                )
                for row in rows
            )

        body = wire.request_body(method, wire.ReferenceQuery(kode=kode))
        return await self._seam.send(_post(method, body, parse, idempotent=True))

    async def permit_codes(self) -> tuple[ReferenceItem, ...]:
        """The permit codes (reference table kode 8) that ``kd_izin`` must be one of."""
        return await self.reference_table(wire.PERMIT_CODES_TABLE)

    async def standards_since(
        self,
        since: datetime | None,
        *,
        cursor: str | None = None,
        local: Mapping[str, ServiceStandard] | None = None,
        tolerant: bool = False,
    ) -> AsyncGenerator[StandardsPage, None]:
        """The region's entries changed at or after ``since`` (all when None), page by page.

        Each page comes with the cursor that resumes after it; save it with the page's effects
        and pass it back as ``cursor`` to continue from there. ``local`` maps codes to the
        region's own entries, whose fields OSS does not hold are carried into each
        ``RemoteEntry.standard`` (see ``oss_wire.EntryDefaults``).

        An entry that is not a valid service standard makes its page ``MalformedResponse``
        (retried like any unreadable answer); with ``tolerant`` it goes to the page's
        ``rejected`` instead and the rest of the page is read. A page that is not a list of
        entries with a cursor is malformed either way.
        """
        method = "inqueryStandarPelayanan"
        sejak = wire.timestamp_to_wire(since) if since is not None else None
        known = local or {}
        while True:
            query = wire.InquiryQuery(
                kd_daerah=self.kd_daerah, sejak=sejak, cursor=cursor, limit=self.page_limit
            )
            body = wire.request_body(method, query)
            parse = self._page_reader(method, sent_cursor=cursor, local=known, tolerant=tolerant)
            page = await self._seam.send(_post(method, body, parse, idempotent=True))
            yield page
            if page.cursor is None:
                return
            cursor = page.cursor

    async def put_standard(self, standard: ServiceStandard, *, base_version: int | None) -> int:
        """Create (``base_version`` None) or update one entry; return OSS's new ``versi``.

        Raises ``VersionConflict`` when OSS holds another versi than ``base_version``; nothing
        was written then. Its ``current`` is OSS's entry as a ``RemoteEntry`` (with this
        standard's local-only fields), or None when OSS holds no entry with this code. A send
        whose answer never came, or came unreadable, raises ``OutcomeUnknown``: read the entry
        back (``standards_since``) before sending again.
        """
        if base_version is not None and base_version < 0:
            raise ValueError(f"base_version must be a versi OSS gave, not {base_version!r}")
        method = "receiveStandarPelayanan"

        def parse(answer: Answer) -> int:
            return _read(
                answer,
                method,
                wire.ReceiveAnswer,
                conflict=lambda current: self._remote(answer, current, standard),
            ).versi

        entry = wire.to_wire(
            standard, kd_daerah=self.kd_daerah, agency=self.agency, versi_dasar=base_version
        )
        body = wire.request_body(method, entry)
        return await self._seam.send(_post(method, body, parse, idempotent=False))

    def _page_reader(
        self,
        method: str,
        *,
        sent_cursor: str | None,
        local: Mapping[str, ServiceStandard],
        tolerant: bool = False,
    ) -> Callable[[Answer], StandardsPage]:
        def parse(answer: Answer) -> StandardsPage:
            if tolerant:
                return parse_tolerantly(answer)
            page = _read(answer, method, wire.InquiryAnswer)
            check_cursor(answer, page.next_cursor)
            entries = tuple(
                self._remote(answer, entry, local.get(entry.id_layanan)) for entry in page.data
            )
            return StandardsPage(entries=entries, cursor=page.next_cursor)

        def parse_tolerantly(answer: Answer) -> StandardsPage:
            page = _read(answer, method, wire.RawInquiryAnswer)
            check_cursor(answer, page.next_cursor)
            entries: list[RemoteEntry] = []
            rejected: list[RejectedEntry] = []
            for read in self._read_entries(page.data, local):
                if isinstance(read, RejectedEntry):
                    rejected.append(read)
                else:
                    entries.append(read)
            return StandardsPage(
                entries=tuple(entries), cursor=page.next_cursor, rejected=tuple(rejected)
            )

        def check_cursor(answer: Answer, next_cursor: str | None) -> None:
            if next_cursor is not None and next_cursor == sent_cursor:
                # Following it would ask for the same page forever.
                raise answer.malformed(f"next_cursor repeats the cursor sent, {sent_cursor!r}")

        return parse

    def _read_entries(
        self, items: list[Any], local: Mapping[str, ServiceStandard]
    ) -> Iterator[RemoteEntry | RejectedEntry]:
        """Each raw entry of a page read as a ``RemoteEntry``, or kept as a ``RejectedEntry``.

        The common case, a page of well-formed entries, is read in one pass into plain data,
        sharing the parts entries repeat. Any entry that fails that way is read again on its
        own by ``_remote_or_rejected``, so that what is kept, and why, never depends on the way.
        """
        try:
            read = wire.ENTRY_DATA.validate_python(items)
        except ValidationError:
            yield from (self._remote_or_rejected(item, local) for item in items)
            return
        parts = wire.SharedParts()
        own_agency = wire.EntryDefaults(agency=self.agency)
        for item, data in zip(items, read, strict=True):
            versi, diperbarui = data["versi"], data["diperbarui"]
            mine = local.get(data["id_layanan"])
            if mine is None:
                canonical = wire.canonical_from(data, agency=self.agency)
                if canonical is not None:
                    yield RemoteEntry(canonical, versi=versi, diperbarui=diperbarui)
                    continue
            defaults = own_agency if mine is None else wire.EntryDefaults(self.agency, local=mine)
            try:
                standard = wire.standard_from(data, defaults=defaults, parts=parts)
            except ValidationError:
                yield self._remote_or_rejected(item, local)
                continue
            yield RemoteEntry(standard, versi=versi, diperbarui=diperbarui)

    def _remote_or_rejected(
        self, item: object, local: Mapping[str, ServiceStandard]
    ) -> RemoteEntry | RejectedEntry:
        """One raw entry of a page read as a ``RemoteEntry``, or kept as a ``RejectedEntry``."""
        try:
            entry = wire.Entry.model_validate(item)
            standard = wire.to_domain(
                entry,
                defaults=wire.EntryDefaults(agency=self.agency, local=local.get(entry.id_layanan)),
            )
        except ValidationError as exc:
            id_layanan = item.get("id_layanan") if isinstance(item, dict) else None
            if not isinstance(id_layanan, str):
                id_layanan = None
            return RejectedEntry(
                id_layanan=id_layanan,
                raw=json.dumps(item, ensure_ascii=False, sort_keys=True),
                reason=f"entry {id_layanan!r} is not a valid service standard: {summarise(exc)}",
            )
        return RemoteEntry(standard, versi=entry.versi, diperbarui=entry.diperbarui)

    def _remote(
        self, answer: Answer, entry: wire.Entry, local: ServiceStandard | None
    ) -> RemoteEntry:
        defaults = wire.EntryDefaults(agency=self.agency, local=local)
        try:
            standard = wire.to_domain(entry, defaults=defaults)
        except ValidationError as exc:
            raise answer.malformed(
                f"entry {entry.id_layanan!r} is not a valid service standard: {summarise(exc)}"
            ) from exc
        return RemoteEntry(standard, versi=entry.versi, diperbarui=entry.diperbarui)


def _post(method: str, body: object, parse: Callable[[Answer], T], *, idempotent: bool) -> Call[T]:
    return Call(
        endpoint=method,
        method="POST",
        path=f"/v1/kl/rba/{method}",
        idempotent=idempotent,
        json=body,
        parse=parse,
    )


def _read(
    answer: Answer,
    method: str,
    model: type[H],
    *,
    conflict: Callable[[wire.Entry], RemoteEntry] | None = None,
) -> H:
    """The answer's payload as ``model``, or the typed error its status and ``kode`` call for."""
    answer.raise_for_transport_status(config_key=CONFIG_KEY)
    ok = answer.response.is_success
    try:
        payload = wire.answer_payload(answer.json(), method)
        header = wire.Header.model_validate(payload)
    except (MalformedResponse, LookupError, ValidationError) as exc:
        if ok:
            raise _malformed(answer, exc) from exc
        raise answer.error(
            RequestRejected,
            f"OSS refused the request and its answer cannot be read; it starts {answer.excerpt!r}",
        ) from exc
    kode = header.kode
    if not ok and 200 <= kode <= 299:
        raise answer.malformed(f"HTTP {answer.status} contradicts kode {kode}")
    answer.raise_for_transport_status(config_key=CONFIG_KEY, status=kode)
    if 200 <= kode <= 299:
        return _validate(answer, model, payload)
    if kode == 409 and conflict is not None:
        current = _validate(answer, wire.ConflictAnswer, payload).data
        if current is None:
            message = (
                f"OSS holds no such entry ({header.keterangan!r}); nothing was written. "
                "Send it again with no base version to create it"
            )
        else:
            message = (
                f"OSS holds versi {current.versi} of {current.id_layanan!r}, not the versi "
                "sent; nothing was written. Compare with OSS's entry and send again on its versi"
            )
        raise answer.error(
            VersionConflict,
            message,
            status=kode,
            current=conflict(current) if current is not None else None,
        )
    if 400 <= kode <= 499:
        advice = _REFUSALS.get(kode, "OSS refused the request; retrying cannot help")
        raise answer.error(
            RequestRejected, f"{advice} (keterangan: {header.keterangan!r})", status=kode
        )
    raise answer.malformed(f"kode {kode} is not one OSS documents")


def _validate(answer: Answer, model: type[H], payload: object) -> H:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise answer.malformed(summarise(exc)) from exc


def _malformed(answer: Answer, exc: Exception) -> MalformedResponse:
    if isinstance(exc, MalformedResponse):
        return exc
    if isinstance(exc, ValidationError):
        return answer.malformed(summarise(exc))
    return answer.malformed(str(exc))
