"""The OpenAPI description of the national endpoints, shown at ``/docs``.

The national endpoints are served by the mock's own dispatcher (not FastAPI routes, whose
per-request cost would make the mock the bottleneck of benchmarks), so they are described here
as data and merged into the schema FastAPI generates for the control API.
"""

from __future__ import annotations

from typing import Any

from oss_bridge_mock._data import SEED_REGION
from oss_bridge_mock._endpoints import OSS_PREFIX, OSS_WRAPPERS

SECURITY_SCHEMES = {
    "user_key": {"type": "apiKey", "in": "header", "name": "user_key"},
    "lapor_bearer": {"type": "http", "scheme": "bearer", "description": "demo-auth-value"},
    "lapor_token": {"type": "apiKey", "in": "header", "name": "token"},
}

_OSS_SECURITY: list[dict[str, list[str]]] = [{"user_key": []}]
_LAPOR_SECURITY: list[dict[str, list[str]]] = [{"lapor_bearer": [], "lapor_token": []}]

_ENTRY = {
    "id_layanan": "SP-1405-000001",
    "kd_daerah": SEED_REGION,
    "kd_izin": "I-78103",
    "nama_layanan": "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)",
    "persyaratan": ["..."],
    "prosedur": ["...", "...", "..."],
    "waktu_penyelesaian": {"nilai": 5, "satuan": "hari"},
    "biaya": {"nominal": 0, "keterangan": "Tidak dipungut biaya"},
    "produk": ["NIB dan Sertifikat Standar"],
    "pengaduan": {"prosedur": ["..."]},
    "versi": 3,
    "diperbarui": "2024-03-18T09:15:00+07:00",
    "status": "aktif",
}


def _json(example: Any, description: str = "") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"example": example}}}


def _oss(method: str, summary: str, body: dict[str, Any], ok: dict[str, Any]) -> dict[str, Any]:
    wrapper = OSS_WRAPPERS[method]
    key = f"respon{method}"
    return {
        "post": {
            "tags": ["OSS (PIA)"],
            "summary": summary,
            "security": _OSS_SECURITY,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"example": {wrapper: body}}},
            },
            "responses": {
                "200": _json({key: {"kode": 200, "keterangan": "Sukses", **ok}}, "success"),
                "400": _json({key: {"kode": 400, "keterangan": "Bad parameters: ..."}}),
                "401": _json({key: {"kode": 401, "keterangan": "Invalid user access: ..."}}),
            },
        }
    }


def _query(name: str, description: str, *, integer: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "integer", "minimum": 1} if integer else {"type": "string"},
    }


_PAGING = [
    _query("page", "page number, from 1", integer=True),
    _query("page_size", "rows per page, at most 1000", integer=True),
]
_ID = {"name": "complaint_id", "in": "path", "required": True, "schema": {"type": "string"}}
_UNAUTHENTICATED = _json({"message": "Unauthenticated."}, "a credential is missing or wrong")


def _lapor(summary: str, ok: dict[str, Any], **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": ["SP4N-LAPOR!"],
        "summary": summary,
        "security": _LAPOR_SECURITY,
        "responses": {"200": _json(ok, "success"), "401": _UNAUTHENTICATED},
    }
    operation.update(extra)
    return operation


_COMPLAINT = {
    "complaint_id": "100001",
    "tracking_id": "0007919",
    "title": "Izin belum terbit",
    "content": "...",
    "category_id": 101,
    "category_name": "Pelaksanaan Perizinan Berusaha Berbasis Risiko",
    "disposition_id": "1405",
    "disposition_name": "DPMPTSP Kabupaten Pelalawan",
    "is_anonymous": False,
    "is_secret": False,
    "date_of_incident": "2024-05-01",
    "external_reference": "PGD-1405-20240501-000001",
    "status_code": 1,
    "status_name": "Belum Terverifikasi",
    "created_at": "2024-05-02 09:00:00",
    "updated_at": "2024-05-02 09:00:00",
}


def national_paths() -> dict[str, Any]:
    """OpenAPI path items of every national endpoint."""
    create_body = {
        "title": "Izin belum terbit",
        "content": "Permohonan izin saya belum diproses sejak dua minggu.",
        "category_id": 101,
        "disposition_id": "1405",
        "is_anonymous": False,
        "is_secret": False,
        "date_of_incident": "2024-05-01",
        "external_reference": "PGD-1405-20240501-000001",
    }
    return {
        f"{OSS_PREFIX}getDataReferensi": _oss(
            "getDataReferensi",
            "Reference tables by kode (8: permit codes)",
            {"kode": "8"},
            {"dataReferensi": [{"kode_referensi": "I-78103", "uraian_referensi": "..."}]},
        ),
        f"{OSS_PREFIX}inqueryStandarPelayanan": _oss(
            "inqueryStandarPelayanan",
            "Pages of a region's service standards changed at or after `sejak`, "
            "ordered by (diperbarui, id_layanan); next_cursor is null on the last page",
            {"kd_daerah": SEED_REGION, "sejak": None, "cursor": None, "limit": 200},
            {"data": [_ENTRY], "next_cursor": None},
        ),
        f"{OSS_PREFIX}receiveStandarPelayanan": _oss(
            "receiveStandarPelayanan",
            "Create (versi_dasar null) or update one entry; 409 with the current entry "
            "and nothing written when OSS holds another versi",
            {
                **{k: v for k, v in _ENTRY.items() if k not in ("versi", "diperbarui")},
                "versi_dasar": 3,
            },
            {"id_layanan": "SP-1405-000001", "versi": 4, "diperbarui": "...", "data": _ENTRY},
        ),
        "/lapor/complaints/complaint": {
            "post": _lapor(
                "Create a complaint; honours Idempotency-Key",
                {},
                parameters=[
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                    }
                ],
                requestBody={
                    "required": True,
                    "content": {"application/json": {"example": create_body}},
                },
                responses={
                    "201": _json(
                        {"results": {"complaint_id": "100001", "tracking_id": "0007919"}},
                        "created (or replayed, with Idempotent-Replayed: true)",
                    ),
                    "401": _UNAUTHENTICATED,
                    "422": _json(
                        {
                            "message": "The given data was invalid.",
                            "errors": {"title": ["The title field is required."]},
                        },
                        "invalid fields, or an Idempotency-Key reused with another body",
                    ),
                },
            )
        },
        "/lapor/complaints": {
            "get": _lapor(
                "Complaints carrying external_reference (all of them without it)",
                {"results": {"data": [_COMPLAINT], "page": 1, "page_size": 50, "total": 1}},
                parameters=[_query("external_reference", "our receipt number"), *_PAGING],
            )
        },
        "/lapor/complaints/{complaint_id}/complaint": {
            "get": _lapor(
                "One complaint and its status log",
                {
                    "results": {
                        "data": _COMPLAINT,
                        "data_logs": [
                            {
                                "status_code": 1,
                                "status_name": "Belum Terverifikasi",
                                "note": "Laporan diterima",
                                "created_at": "2024-05-02 09:00:00",
                            }
                        ],
                    }
                },
                parameters=[_ID],
            )
        },
        "/lapor/complaints/{complaint_id}/followups": {
            "get": _lapor(
                "Follow-ups of one complaint; created_at is d-m-Y H:i:s in Asia/Jakarta",
                {
                    "results": {
                        "data": [{"id": 1, "content": "...", "created_at": "03-05-2024 10:00:00"}]
                    }
                },
                parameters=[_ID],
            )
        },
        "/lapor/masters/categories": {
            "get": _lapor(
                "Complaint categories",
                {
                    "results": {
                        "data": [{"id": 101, "name": "..."}],
                        "page": 1,
                        "page_size": 10,
                        "total": 9,
                    }
                },
                parameters=_PAGING,
            )
        },
        "/lapor/masters/institutions/external": {
            "get": _lapor(
                "Institutions a complaint can be disposed to",
                {"results": {"data": [{"id": "1405", "name": "DPMPTSP Kabupaten Pelalawan"}]}},
                parameters=_PAGING,
            )
        },
    }
