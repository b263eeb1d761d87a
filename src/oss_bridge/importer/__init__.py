"""Published service-standard pages (standar pelayanan) into ServiceStandard entries.

``parse_page(text, *, code=None, source="<page>")`` reads a page in text form or HTML (told apart
by content); ``parse_page_file(path, *, code=None)`` reads a file first (``read_page_file``:
UTF-8, UTF-16 with a byte-order mark, an HTML page's declared charset, then Windows-1252). HTML
is turned into the text form (``html_to_text``) so that one parser reads both.

How the fields are read (the published text is kept, white space folded, list markers taken off):

- ``name``: the line after the office header block; ``agency``: the header's agency line;
  ``sk_number``: the text after ``No. SK :``, or None when nothing follows it.
- ``code``: the one given, else ``slugify(name)``.
- ``completion_time``: ``N Hari`` is days, ``N Hari Kerja`` working days, ``N (words)`` and
  ``words (N)`` both read, ``Minggu`` is seven days. Hours and minutes are read only when they
  make whole days (``24 Jam``); other hours, months and years are refused with a message,
  because the model counts days and rounding would change the office's promise.
- ``fee``: free wording (``Tidak dipungut biaya``, ``Gratis``) or ``Rp 0`` is 0; otherwise one
  rupiah amount with Indonesian separators (``Rp 150.000,-``). Several different amounts, or
  free wording with an amount, are refused. ``note`` is the published text.
- ``products``: one item a product; a single short item ``A dan B`` (at most eight words, two
  capitalised names, no punctuation) is split in two (``split_products``).
- ``complaint_handling``: ``rules`` are the numbered items before ``Kategori Pengaduan``; the
  items nested under the rule that announces ``tahapan`` are the ``stages`` (other nested items
  stay in their rule); ``objects`` split on commas and ``dan/atau`` (``split_objects``);
  ``contact`` is the top header's address line without its phone number, that phone number, and
  the top header's website (the repeats of the header block are used only where it lacks one).
- Management sections, when present, fill the optional fields; ``staff_count`` is the sum of the
  counts published (``parse_staff_count``).
"""

from oss_bridge.importer._fields import (
    parse_completion_time,
    parse_fee,
    parse_staff_count,
    split_objects,
    split_products,
)
from oss_bridge.importer._files import parse_page_file, read_page_file
from oss_bridge.importer._html import html_to_text, looks_like_html
from oss_bridge.importer._page import parse_page
from oss_bridge.importer._sections import REQUIRED, SECTIONS

__all__ = [
    "REQUIRED",
    "SECTIONS",
    "html_to_text",
    "looks_like_html",
    "parse_completion_time",
    "parse_fee",
    "parse_page",
    "parse_page_file",
    "parse_staff_count",
    "read_page_file",
    "split_objects",
    "split_products",
]
