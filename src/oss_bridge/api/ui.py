"""The staff page under ``/ui/``: what waits, what is stuck, buttons for a resync, a chart.

Server-rendered HTML with Indonesian labels; the pages are ``string.Template`` files in
``templates/`` filled with escaped values, and the chart is inline SVG drawn here. A small
inline script starts runs without leaving the page and follows them to their end; without
script the same forms post, and the run's own page refreshes itself until the run ends.

Signing in: staff type the staff token (``api.staff_token``), compared in constant time. The
session cookie holds an expiry and an HMAC of it keyed by the token, never the token itself;
it is ``HttpOnly`` and ``SameSite=Strict``, and form posts from another origin are refused, so
another site cannot press the buttons. Changing the token signs everyone out. Without a staff
token configured the page stays closed.

Routes: ``GET /ui/`` (the board, or the sign-in form), ``POST /ui/masuk`` (sign in),
``POST /ui/keluar`` (sign out), ``POST /ui/proses`` (start a run: ``target``, optional
``dry_run``; JSON 202 for scripts, else a redirect to the run's page),
``GET /ui/proses/{run_id}`` and ``GET /ui/proses/{run_id}/json``.

The page shows receipt numbers, categories and stages, never a reporter's name or contact.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import cache
from html import escape
from importlib.resources import files
from string import Template
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from pydantic import SecretStr
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from oss_bridge.config import Settings
from oss_bridge.domain.vocabulary import ComplaintCategory, Stage
from oss_bridge.errors import InputError, NotFound, ShuttingDown
from oss_bridge.services.complaints._time import WIB
from oss_bridge.services.runs import RESYNC_TARGETS, RunService, run_as_json
from oss_bridge.services.status_report import (
    CHART_DAYS,
    ComplaintLine,
    StaffBoard,
    StatusReport,
    Tally,
)
from oss_bridge.store import Conflict, JobRun, QuarantineEntry
from oss_bridge.store._outbox import OUTBOX_STATES

PREFIX = "/ui"
SESSION_COOKIE = "oss_bridge_staff"
SESSION_SECONDS = 12 * 3600
ACTOR = "staff-ui"

JOB_LABELS = {
    "catalogue": "Sinkronisasi katalog OSS",
    "complaints": "Penerusan pengaduan ke SP4N-LAPOR!",
    "status": "Penarikan status pengaduan",
    "deadlines": "Pemeriksaan tenggat",
    "summary": "Ringkasan harian",
}
BUTTON_LABELS = {
    "catalogue": "Sinkronkan katalog",
    "complaints": "Teruskan pengaduan sekarang",
    "status": "Tarik status sekarang",
}
RUN_STATE_LABELS = {
    "queued": "menunggu giliran",
    "running": "berjalan",
    "succeeded": "selesai",
    "failed": "gagal",
}
OUTBOX_STATE_LABELS = {
    "pending": "Menunggu dikirim",
    "in_flight": "Sedang dikirim",
    "sent": "Terkirim",
    "dead": "Gagal permanen",
    "acknowledged": "Sudah ditinjau",
}
DEADLINE_LABELS = {
    "verification": "verifikasi",
    "first_response": "tanggapan pertama",
    "closure": "penutupan",
    "resolution": "penyelesaian",
}
SHORT_CATEGORY = {
    "perizinan_berusaha": "Perizinan berusaha",
    "kegiatan_usaha": "Kegiatan usaha",
    "pengawasan": "Pengawasan",
    "penyalahgunaan_oss": "Penyalahgunaan OSS",
    "hambatan_oss": "Hambatan OSS",
}
CATEGORY_COLOURS = ("#0b5cad", "#2e9d5b", "#d08a00", "#b3261e", "#7a4fc4")
STAGE_COLOURS = ("#9db8d9", "#6b9bd1", "#3a78c2", "#1d5aa6", "#2e9d5b", "#d08a00", "#7a4fc4")
_SCRIPT_LABELS = {
    "jobs": JOB_LABELS,
    "states": RUN_STATE_LABELS,
    "phases": {"pull": "menarik dari OSS", "push": "mengirim ke OSS"},
    "progress": "Kemajuan",
    "pages": "halaman",
    "result": "Hasil",
    "error": "Galat",
    "lost": "Status proses tidak dapat dibaca",
}


# --- sessions --------------------------------------------------------------------------------


def _signature(token: SecretStr, expires: int) -> str:
    key = token.get_secret_value().encode("utf-8")
    return hmac.new(key, f"staff-session:{expires}".encode(), hashlib.sha256).hexdigest()


def session_value(token: SecretStr, *, now: float) -> str:
    """A session cookie value valid for ``SESSION_SECONDS`` from ``now``."""
    expires = int(now) + SESSION_SECONDS
    return f"{expires}.{_signature(token, expires)}"


def session_valid(value: str | None, token: SecretStr | None, *, now: float) -> bool:
    """Whether ``value`` is an unexpired session signed with ``token``."""
    if not value or token is None or not token.get_secret_value():
        return False
    expires_text, _, signature = value.partition(".")
    # isdecimal and a length bound: isdigit() admits '²', which int() refuses.
    if not (expires_text.isdecimal() and len(expires_text) < 19) or int(expires_text) <= now:
        return False
    return hmac.compare_digest(signature, _signature(token, int(expires_text)))


def token_matches(given: str, token: SecretStr | None) -> bool:
    if token is None or not token.get_secret_value():
        return False
    return hmac.compare_digest(given.encode("utf-8"), token.get_secret_value().encode("utf-8"))


# --- templates -------------------------------------------------------------------------------


@cache
def _template(name: str) -> Template:
    return Template(files("oss_bridge.api").joinpath("templates", name).read_text("utf-8"))


@cache
def _asset(name: str) -> str:
    return files("oss_bridge.api").joinpath("templates", name).read_text("utf-8")


def _page(
    title: str, body: str, *, region: str, signed_in: bool, refresh_seconds: int | None = None
) -> str:
    account = (
        '<form method="post" action="/ui/keluar"><button class="secondary" type="submit">'
        "Keluar</button></form>"
        if signed_in
        else ""
    )
    refresh = (
        f'<meta http-equiv="refresh" content="{refresh_seconds}">\n'
        if refresh_seconds is not None
        else ""
    )
    return _template("layout.html").substitute(
        title=escape(title),
        css=_asset("ui.css"),
        region=escape(region),
        account=account,
        refresh=refresh,
        body=body,
    )


def _when(value: datetime | None) -> str:
    if value is None:
        return "&ndash;"
    return escape(value.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB"))


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, empty: str) -> str:
    """An HTML table of already escaped cells; ``empty`` (plain text) when there are no rows."""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _category(code: str) -> str:
    return escape(SHORT_CATEGORY.get(code, code))


def _stage(stage: Stage) -> str:
    return escape(f"{stage.value}. {stage.label}")


def _stat(key: str, label: str, value: int, *, tone: str = "") -> str:
    return (
        f'<div class="stat {tone}" data-stat="{escape(key)}"><div class="n">{value}</div>'
        f'<div class="l">{escape(label)}</div></div>'
    )


# --- the board -------------------------------------------------------------------------------


def render_board(board: StaffBoard) -> str:
    """The body of the staff board (see ``templates/board.html``)."""
    s = board.snapshot
    cards = [
        _stat(
            state,
            OUTBOX_STATE_LABELS[state],
            s.queue.count(state),
            tone=_tone(state, s.queue.count(state)),
        )
        for state in OUTBOX_STATES
    ]
    cards += [
        _stat("conflicts", "Konflik katalog", s.conflicts, tone="warn" if s.conflicts else ""),
        _stat("quarantined", "Karantina", s.quarantined, tone="warn" if s.quarantined else ""),
        _stat("overdue", "Melewati tenggat", s.overdue, tone="bad" if s.overdue else ""),
    ]
    age = s.oldest_pending_age_seconds
    if age is not None:
        cards.append(_stat("oldest", "Menit menunggu (tertua)", int(age // 60)))
    buttons = "\n".join(
        f'<form method="post" action="/ui/proses" data-run="{target}">'
        f'<input type="hidden" name="target" value="{target}">'
        f'<button type="submit" data-target="{target}">{escape(BUTTON_LABELS[target])}</button>'
        "</form>"
        for target in RESYNC_TARGETS
    )
    return _template("board.html").substitute(
        generated_at=_when(s.generated_at),
        cards="\n".join(cards),
        buttons=buttons,
        labels=escape(json.dumps(_SCRIPT_LABELS, ensure_ascii=False)),
        jobs=_jobs_table(board),
        waiting=_complaints_table(board.waiting, empty="Tidak ada pengaduan yang menunggu."),
        dead=_complaints_table(board.dead, empty="Tidak ada pengiriman yang gagal permanen."),
        conflicts=_conflicts_table(board.conflicts),
        quarantine=_quarantine_table(board.quarantined),
        overdue=_overdue_table(board),
        days=len(board.tally.days),
        charts=render_charts(board.tally),
        runs=_runs_table(board.recent_runs),
        script=_asset("ui.js"),
    )


def _tone(state: str, count: int) -> str:
    if not count:
        return ""
    return {"dead": "bad", "pending": "warn"}.get(state, "")


def _jobs_table(board: StaffBoard) -> str:
    rows = []
    for status in board.snapshot.jobs:
        last = status.last_run
        rows.append(
            [
                escape(JOB_LABELS.get(status.job, status.job)),
                "&ndash;" if last is None else escape(RUN_STATE_LABELS.get(last.state, last.state)),
                _when(None if last is None else last.finished_at or last.requested_at),
                _when(status.last_success_at),
                _when(status.next_run_at),
            ]
        )
    return _table(
        ["Tugas", "Proses terakhir", "Waktu", "Terakhir berhasil", "Berikutnya"],
        rows,
        empty="Belum ada tugas.",
    )


def _complaints_table(lines: Sequence[ComplaintLine], *, empty: str) -> str:
    return _table(
        ["No. tanda terima", "Kategori", "Tahap", "Diterima", "Percobaan", "Galat terakhir"],
        (
            [
                escape(line.receipt_number),
                _category(line.category.value),
                _stage(line.stage),
                _when(line.received_at),
                str(line.attempts),
                escape(line.last_error or "") or "&ndash;",
            ]
            for line in lines
        ),
        empty=empty,
    )


def _conflicts_table(conflicts: Sequence[Conflict]) -> str:
    return _table(
        ["ID", "Layanan", "Bagian", "Sejak"],
        ([str(c.id), escape(c.code), escape(c.field), _when(c.created_at)] for c in conflicts),
        empty="Tidak ada konflik.",
    )


def _quarantine_table(entries: Sequence[QuarantineEntry]) -> str:
    return _table(
        ["ID", "Sumber", "Data", "Alasan", "Sejak"],
        (
            [
                str(e.id),
                escape(e.source.upper()),
                escape(e.entity_id or "–"),
                escape(e.reason),
                _when(e.created_at),
            ]
            for e in entries
        ),
        empty="Karantina kosong.",
    )


def _overdue_table(board: StaffBoard) -> str:
    return _table(
        ["No. tanda terima", "Kategori", "Tahap", "Tenggat terlewat"],
        (
            [
                escape(line.receipt_number),
                _category(line.category.value),
                _stage(line.stage),
                ", ".join(
                    f"{escape(DEADLINE_LABELS.get(name, name))} ({_when(due)})"
                    for name, due in line.missed
                ),
            ]
            for line in board.overdue
        ),
        empty="Tidak ada pengaduan yang melewati tenggat.",
    )


def _runs_table(runs: Sequence[JobRun]) -> str:
    return _table(
        ["Tugas", "Status", "Diminta oleh", "Diminta", "Selesai", "Hasil"],
        (
            [
                escape(JOB_LABELS.get(run.job, run.job)),
                escape(RUN_STATE_LABELS.get(run.state, run.state)),
                escape(run.requested_by),
                _when(run.requested_at),
                _when(run.finished_at),
                escape(_run_summary(run)),
            ]
            for run in runs
        ),
        empty="Belum ada proses.",
    )


def _run_summary(run: JobRun) -> str:
    if run.error:
        return run.error
    if isinstance(run.result, dict) and isinstance(run.result.get("summary"), str):
        return str(run.result["summary"])
    return ""


# --- the chart -------------------------------------------------------------------------------


def render_charts(tally: Tally) -> str:
    """Two stacked bar charts over the tally's days: by category and by current stage."""
    categories = [
        (SHORT_CATEGORY.get(c.value, c.value), colour, tally.by_category[c.value])
        for c, colour in zip(ComplaintCategory, CATEGORY_COLOURS, strict=True)
    ]
    stages = [
        (f"{s.value}. {s.label}", colour, tally.by_stage[s.value])
        for s, colour in zip(Stage, STAGE_COLOURS, strict=True)
    ]
    return (
        '<div class="charts">'
        + stacked_bars("Per kategori", tally.days, categories, chart_id="chart-category")
        + stacked_bars("Per tahapan (saat ini)", tally.days, stages, chart_id="chart-stage")
        + "</div>"
    )


def stacked_bars(
    title: str,
    days: Sequence[date],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    chart_id: str,
    width: int = 480,
    height: int = 200,
) -> str:
    """A stacked bar chart as inline SVG: one bar a day, one colour per series, with a legend.

    Each segment has a ``<title>`` (its series, day and count) for hover and screen readers.
    """
    left, bottom, top = 28, 22, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    totals = [sum(values[i] for _, _, values in series) for i in range(len(days))]
    peak = max([*totals, 1])
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.7, 1.0)
    parts = [
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg id="{escape(chart_id)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" stroke="#d8dee6"/>',
        f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end" fill="#5b6b7c">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end" fill="#5b6b7c">0</text>',
    ]
    for i, day in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        y = float(top + plot_h)
        for label, colour, values in series:
            count = values[i]
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour}" data-day="{day.isoformat()}" data-count="{count}">'
                f"<title>{escape(label)}, {day:%d-%m-%Y}: {count}</title></rect>"
            )
        if (len(days) - 1 - i) % 2 == 0 or len(days) <= 7:  # every other day, ending today
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 6}" font-size="9" '
                f'text-anchor="middle" fill="#5b6b7c">{day:%d/%m}</text>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<li><i style="background:{colour}"></i>{escape(label)} ({sum(values)})</li>'
        for label, colour, values in series
    )
    parts.append(f'<ul class="legend">{legend}</ul></figure>')
    return "".join(parts)


# --- the routes ------------------------------------------------------------------------------


def _run_page(run: JobRun) -> str:
    details = []
    if run.progress and not run.finished:
        details.append(
            f"<p>Kemajuan: <code>{escape(json.dumps(run.progress, ensure_ascii=False))}</code></p>"
        )
    summary = _run_summary(run)
    if summary:
        tone = ' class="error"' if run.error else ""
        details.append(f"<p{tone}>Hasil: {escape(summary)}</p>")
    details.append(
        f'<p class="hint">ID proses <code>{escape(run.run_id)}</code>; diminta '
        f"{_when(run.requested_at)} oleh {escape(run.requested_by)}"
        f"{' (uji coba)' if run.dry_run else ''}.</p>"
    )
    return _template("run.html").substitute(
        state=escape(run.state),
        job=escape(JOB_LABELS.get(run.job, run.job)),
        state_label=escape(RUN_STATE_LABELS.get(run.state, run.state)),
        details="\n".join(details),
    )


def ui_router(
    *,
    runs: RunService,
    report: StatusReport,
    settings: Settings,
    clock: Callable[[], float] = time.time,
) -> APIRouter:
    """The staff page's routes (see the module docstring)."""
    token = settings.api.staff_token
    region = settings.region.name
    router = APIRouter(prefix=PREFIX, tags=["staff page"], include_in_schema=False)

    def signed_in(request: Request) -> bool:
        return session_valid(request.cookies.get(SESSION_COOKIE), token, now=clock())

    def page(
        title: str, body: str, *, status_code: int = 200, refresh: int | None = None
    ) -> HTMLResponse:
        return HTMLResponse(
            _page(title, body, region=region, signed_in=True, refresh_seconds=refresh),
            status_code=status_code,
            headers=_NO_STORE,
        )

    def login_page(message: str = "", *, status_code: int = 200) -> HTMLResponse:
        if token is None or not token.get_secret_value():
            message = (
                "Halaman staf ditutup: administrator perlu mengisi api.staff_token "
                "di konfigurasi lalu memulai ulang layanan."
            )
        shown = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
        body = _template("login.html").substitute(message=shown)
        return HTMLResponse(
            _page("Masuk - oss-bridge", body, region=region, signed_in=False),
            status_code=status_code,
            headers=_NO_STORE,
        )

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return origin is None
        return urlsplit(origin).netloc == request.headers.get("host", "")

    def refused(request: Request) -> Response:
        return (
            JSONResponse(
                {"message": "sign in at /ui/ first", "errors": {}},
                status_code=401,
            )
            if _wants_json(request)
            else login_page("Silakan masuk dulu.", status_code=401)
        )

    @router.get("", include_in_schema=False)
    async def bare() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    @router.get("/")
    async def board(request: Request) -> Response:
        if not signed_in(request):
            return login_page()
        body = render_board(await report.board(days=CHART_DAYS))
        return page("Halaman staf - oss-bridge", body)

    @router.post("/masuk")
    async def sign_in(request: Request) -> Response:
        if not same_origin(request):
            return login_page("Permintaan ditolak: asal halaman tidak sah.", status_code=403)
        form = await request.form()
        given = form.get("token")
        if not isinstance(given, str) or not token_matches(given.strip(), token):
            return login_page("Token staf salah.", status_code=401)
        assert token is not None  # token_matches is never true without one
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_value(token, now=clock()),
            max_age=SESSION_SECONDS,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/keluar")
    async def sign_out() -> Response:
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @router.post("/proses")
    async def start(request: Request) -> Response:
        if not signed_in(request):
            return refused(request)
        if not same_origin(request):
            return JSONResponse({"message": "cross-origin request refused", "errors": {}}, 403)
        form = await request.form()
        target = form.get("target")
        dry_run = form.get("dry_run") in ("1", "on", "true")
        try:
            run = await runs.start(
                target if isinstance(target, str) else "", dry_run=dry_run, requested_by=ACTOR
            )
        except (InputError, ShuttingDown) as exc:
            status = 503 if isinstance(exc, ShuttingDown) else 422
            if _wants_json(request):
                return JSONResponse({"message": str(exc), "errors": {}}, status)
            return page(
                "Proses ditolak", f'<p class="error">{escape(str(exc))}</p>', status_code=status
            )
        if _wants_json(request):
            return JSONResponse(run_as_json(run), status_code=202)
        return RedirectResponse(f"{PREFIX}/proses/{run.run_id}", status_code=303)

    @router.get("/proses/{run_id}/json")
    async def run_json(run_id: str, request: Request) -> Response:
        if not signed_in(request):
            return refused(request)
        try:
            run = await runs.get(run_id)
        except NotFound as exc:
            return JSONResponse({"message": str(exc), "errors": {}}, 404)
        return JSONResponse(run_as_json(run), headers=_NO_STORE)

    @router.get("/proses/{run_id}")
    async def run_html(run_id: str, request: Request) -> Response:
        if not signed_in(request):
            return refused(request)
        try:
            run = await runs.get(run_id)
        except NotFound:
            return page(
                "Proses tidak ada", '<p class="error">Proses tidak ditemukan.</p>', status_code=404
            )
        return page(
            "Proses - oss-bridge",
            _run_page(run),
            refresh=None if run.finished else 2,
        )

    return router


_NO_STORE = {"Cache-Control": "no-store"}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


__all__ = [
    "render_board",
    "render_charts",
    "session_valid",
    "session_value",
    "stacked_bars",
    "ui_router",
]
