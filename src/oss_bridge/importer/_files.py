"""Reading a page file: its encoding, and whether it is a page at all."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from oss_bridge.domain import ServiceStandard
from oss_bridge.errors import PageParseError
from oss_bridge.importer._page import parse_page

# Files people save from an office site by mistake instead of the page itself.
_BINARY_SIGNS = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive (e.g. a .docx or .xlsx file)",
    b"\xd0\xcf\x11\xe0": "an old Office document (.doc or .xls)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def read_page_file(path: Path) -> str:
    """The text of a page file.

    UTF-8 first (with or without a byte-order mark; UTF-16 when a byte-order mark says so), then
    the charset an HTML page declares, then Windows-1252, the encoding of pages saved by Windows
    browsers and editors. Windows-1252 also reads Latin-1 text: the two agree on every printable
    character. Raises ``PageParseError`` when the file cannot be read, is a binary document, or is
    in none of these encodings.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise PageParseError(
            f"cannot read the page file {str(path)!r}: {reason}; check the path and permissions"
        ) from exc
    for sign, kind in _BINARY_SIGNS.items():
        if data.startswith(sign):
            raise PageParseError(
                f"{str(path)!r} is {kind}, not a page: save the service-standard page from the"
                " browser as HTML or copy its text into a .txt file"
            )
    text = _decode(data)
    if text is None or _CONTROL.search(text):
        raise PageParseError(
            f"cannot decode {str(path)!r}: it is not UTF-8 or Windows-1252 text; save the page"
            " again as UTF-8"
        )
    return text


def _decode(data: bytes) -> str | None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _try(data, "utf-16")
    candidates = ["utf-8-sig"]
    if declared := _DECLARED.search(data[:4096]):
        candidates.append(declared.group(1).decode("ascii"))
    candidates.append("cp1252")
    for encoding in candidates:
        if (text := _try(data, encoding)) is not None:
            return text
    return None


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def parse_page_file(path: Path, *, code: str | None = None) -> ServiceStandard:
    """Read a page file (HTML or text, told apart by its content) into a ServiceStandard.

    Errors name the file; see ``read_page_file`` and ``parse_page`` for what they are.
    """
    return parse_page(read_page_file(path), code=code, source=str(path))
