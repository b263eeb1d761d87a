"""Configuration: a TOML file plus ``OSS_BRIDGE_`` environment overrides (nesting with ``__``).

Precedence, highest first: environment, TOML file, built-in defaults. The built-in defaults run
against the bundled mock on 127.0.0.1:8090 with SQLite at ``var/oss-bridge.db``, so a developer
needs no file at all. Every secret may instead be read from a file named by the same key with
``_file`` appended (``lapor.token_file = "/run/secrets/lapor-token"``), as systemd credentials and
container secrets provide them.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from oss_bridge.domain.vocabulary import ComplaintCategory
from oss_bridge.errors import ConfigError
from oss_bridge.services.complaints.triage import TriageSettings

ENV_PREFIX = "OSS_BRIDGE_"
CONFIG_ENV = "OSS_BRIDGE_CONFIG"
DEFAULT_SQLITE_PATH = "var/oss-bridge.db"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """Fill ``key`` from the file named by ``key_file``, for every secret field."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, field in cls.model_fields.items():
            file_key = f"{name}_file"
            if field.annotation not in (SecretStr, SecretStr | None) or file_key not in data:
                continue
            path = Path(str(data.pop(file_key)))
            try:
                data[name] = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(
                    f"{file_key} = {str(path)!r} cannot be read ({exc.strerror}); "
                    f"fix the path or set {name} directly"
                ) from exc
        return data


class DatabaseSettings(_Section):
    url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL; plain sqlite:/// and postgresql:// forms pick their driver.",
    )
    echo: bool = False
    pool_size: int = Field(default=5, ge=1, le=100)
    busy_timeout_ms: int = Field(default=5000, ge=0)

    @model_validator(mode="after")
    def _normalise(self) -> DatabaseSettings:
        self.url = normalise_database_url(self.url)
        return self


class HttpSettings(_Section):
    """What every national-system client shares: where, how long, how often to retry."""

    base_url: str
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    write_timeout: float = Field(default=30.0, gt=0)
    pool_timeout: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=8, ge=1, le=256)
    max_attempts: int = Field(default=5, ge=1, le=100)
    total_deadline: float = Field(
        default=300.0, gt=0, description="seconds for one call, retries included"
    )
    backoff_initial: float = Field(default=0.5, gt=0)
    backoff_max: float = Field(default=60.0, gt=0)
    retry_after_cap: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _check_url(self) -> HttpSettings:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url {self.base_url!r} must start with http:// or https://")
        self.base_url = self.base_url.rstrip("/")
        return self


class OssSettings(HttpSettings):
    base_url: str = "http://127.0.0.1:8090/oss"
    user_key: SecretStr = SecretStr("demo-user-key")
    page_limit: int = Field(default=200, ge=1, le=1000)


class LaporSettings(HttpSettings):
    base_url: str = "http://127.0.0.1:8090/lapor"
    auth_value: SecretStr = SecretStr("demo-auth-value")
    token: SecretStr = SecretStr("demo-token")
    disposition_id: str = Field(default="1405", description="the national id of our institution")
    category_ids: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CATEGORY_IDS),
        description="the channel's category_id for each of our complaint category codes; "
        "categories not named keep their default",
    )

    @model_validator(mode="after")
    def _check_category_ids(self) -> LaporSettings:
        known = {category.value for category in ComplaintCategory}
        unknown = sorted(set(self.category_ids) - known)
        if unknown:
            raise ValueError(
                f"category_ids: {unknown[0]!r} is not a complaint category; "
                f"use one of {sorted(known)!r}"
            )
        blank = sorted(code for code, value in self.category_ids.items() if not value.strip())
        if blank:
            raise ValueError(f"category_ids: {blank[0]!r} needs the channel's category id")
        self.category_ids = {**DEFAULT_CATEGORY_IDS, **self.category_ids}
        return self


# The channel's categories for ours, as the channel's master list (and the mock) names them.
DEFAULT_CATEGORY_IDS: dict[str, str] = {
    "perizinan_berusaha": "101",
    "kegiatan_usaha": "102",
    "pengawasan": "103",
    "penyalahgunaan_oss": "104",
    "hambatan_oss": "105",
}


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    admin_token: SecretStr | None = None
    staff_token: SecretStr | None = None
    open311_api_key: SecretStr | None = None
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)


class RegionSettings(_Section):
    kd_daerah: str = Field(default="1405", pattern=r"^\d{2,6}$")
    name: str = "Kabupaten Pelalawan"
    agency: str = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Pelalawan"


FieldOwner = Literal["oss", "region", "shared"]


class CatalogueSettings(_Section):
    interval_seconds: float = Field(default=900, gt=0)
    lookback_seconds: float = Field(default=300, ge=0)
    field_ownership: dict[str, FieldOwner] = Field(
        default_factory=lambda: _DEFAULT_OWNERSHIP.copy(),
        description="who wins a field both sides changed; fields not named are shared",
    )
    push_concurrency: int = Field(
        default=4, ge=1, le=64, description="entries a push sends to OSS at once"
    )
    export_base_uri: str = Field(
        default="https://dpmptsp.pelalawankab.go.id/katalog",
        description="root of the IRIs that `catalogue export --format cpsv-jsonld` mints",
    )

    @model_validator(mode="after")
    def _check_export_base_uri(self) -> CatalogueSettings:
        if not self.export_base_uri.startswith(("http://", "https://")):
            raise ValueError(
                f"export_base_uri {self.export_base_uri!r} must start with http:// or https://"
            )
        return self


_DEFAULT_OWNERSHIP: dict[str, FieldOwner] = {
    "requirements": "oss",
    "permit_code": "oss",
    "completion_time": "region",
    "fee": "region",
    "procedure": "region",
    "products": "region",
    "complaint_handling": "region",
}


class ForwarderSettings(_Section):
    interval_seconds: float = Field(default=30, gt=0)
    batch_size: int = Field(default=50, ge=1, le=10_000)
    concurrency: int = Field(default=8, ge=1, le=256)
    lease_seconds: float = Field(default=60, gt=0)
    max_attempts: int = Field(default=12, ge=1)
    backoff_initial: float = Field(default=5, gt=0)
    backoff_max: float = Field(default=3600, gt=0)
    retry_after_cap: float = Field(
        default=3600,
        gt=0,
        description="longest Retry-After (seconds) honoured; a longer one waits this long",
    )
    suspended: bool = False


class PullTier(_Section):
    """How often to pull a complaint that has been quiet (no change) for less than a while.

    The tier without ``quiet_below_hours`` is the last one and applies to every older complaint.
    """

    quiet_below_hours: float | None = Field(default=None, gt=0)
    every_minutes: float = Field(gt=0)


_DEFAULT_PULL_TIERS: tuple[tuple[float | None, float], ...] = (
    (24, 5),  # received or changed within a day: every 5 minutes
    (24 * 7, 30),  # quiet for up to a week: every half hour
    (24 * 30, 240),  # quiet for up to a month: every 4 hours
    (None, 24 * 60),  # quiet for longer: daily, until a final status
)


class StatusPullSettings(_Section):
    interval_seconds: float = Field(default=60, gt=0)
    concurrency: int = Field(default=8, ge=1, le=256)
    batch_size: int = Field(
        default=200, ge=1, le=10_000, description="most complaints pulled in one pass"
    )
    lease_seconds: float = Field(
        default=120, gt=0, description="how long a puller holds a complaint before others may"
    )
    mapping_file: Path | None = Field(
        default=None, description="status mapping TOML; None uses the packaged default"
    )
    tiers: list[PullTier] = Field(
        default_factory=lambda: [
            PullTier(quiet_below_hours=hours, every_minutes=minutes)
            for hours, minutes in _DEFAULT_PULL_TIERS
        ],
        min_length=1,
        description="pull intervals by how long a complaint has been quiet, shortest first",
    )
    unchanged_growth: float = Field(
        default=1.1,
        ge=1.0,
        le=4.0,
        description="each pull that finds nothing new stretches the interval by this factor, "
        "up to the next tier's interval; 1.0 turns stretching off",
    )
    jitter: float = Field(
        default=0.1,
        ge=0.0,
        le=0.5,
        description="fraction of an interval (at most half) by which pulls of different "
        "complaints are spread",
    )

    @model_validator(mode="after")
    def _check_tiers(self) -> StatusPullSettings:
        bounds = [tier.quiet_below_hours for tier in self.tiers]
        if bounds[-1] is not None or any(bound is None for bound in bounds[:-1]):
            raise ValueError(
                "tiers: every tier but the last needs quiet_below_hours, and the last must "
                f"have none (it covers all older complaints); got {bounds!r}"
            )
        finite = [bound for bound in bounds if bound is not None]
        if finite != sorted(set(finite)):
            raise ValueError(
                f"tiers: quiet_below_hours must grow from tier to tier; got {finite!r}"
            )
        return self


HolidayCategory = Literal["public", "government"]
_DEFAULT_HOLIDAY_CATEGORIES: tuple[HolidayCategory, ...] = ("public",)


class DeadlineSettings(_Section):
    verification_working_days: int = Field(default=3, ge=1)
    first_response_working_days: int = Field(default=5, ge=1)
    closure_working_days: int = Field(default=10, ge=1)
    resolution_days: int = Field(default=60, ge=1)
    holiday_categories: list[HolidayCategory] = Field(
        default_factory=lambda: list(_DEFAULT_HOLIDAY_CATEGORIES),
        min_length=1,
        description='days off besides weekends: "public" holidays, and "government" adds '
        "the joint leave days (cuti bersama) of civil servants",
    )
    extra_holidays: list[date] = Field(
        default_factory=list,
        description="further days off, e.g. regional holidays set by the Bupati",
    )


class SchedulerSettings(_Section):
    jitter_seconds: float = Field(default=5, ge=0)
    misfire_grace_seconds: float = Field(default=60, ge=0)
    shutdown_grace_seconds: float = Field(default=10, gt=0)
    deadline_check_interval_seconds: float = Field(
        default=900, gt=0, description="seconds between checks for overdue complaints"
    )
    daily_summary_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        description="hour of the office day (Asia/Jakarta) at which the daily summary of what "
        "needs a person is logged",
    )
    keep_runs_days: int = Field(
        default=90,
        ge=1,
        description="days a finished job run is kept; the daily summary deletes older ones, "
        "but never the last success of a job",
    )
    heartbeat_seconds: float = Field(
        default=30,
        ge=1,
        description="seconds between the heartbeats of a daemon's unfinished job runs; a run "
        "silent for four intervals is recorded as failed by the next run any instance starts",
    )


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = "json"


class Settings(BaseSettings):
    """The effective configuration of one oss-bridge process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    oss: OssSettings = Field(default_factory=OssSettings)
    lapor: LaporSettings = Field(default_factory=LaporSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    region: RegionSettings = Field(default_factory=RegionSettings)
    catalogue: CatalogueSettings = Field(default_factory=CatalogueSettings)
    forwarder: ForwarderSettings = Field(default_factory=ForwarderSettings)
    status_pull: StatusPullSettings = Field(default_factory=StatusPullSettings)
    deadlines: DeadlineSettings = Field(default_factory=DeadlineSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init carries the TOML file's content (see load_settings); the environment overrides it.
        return (env_settings, init_settings)


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the async driver this project uses, accepting the forms people write."""
    url = url.strip()
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("postgresql+psycopg2://", "postgresql+psycopg://"),
        ("postgresql+asyncpg://", "postgresql+psycopg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith(("sqlite+aiosqlite://", "postgresql+psycopg://")):
        return url
    raise ValueError(
        f"url {url!r} is not a SQLite or PostgreSQL URL; write sqlite:///path/to/file.db "
        "or postgresql://user@host/dbname"
    )


def config_path_from_env() -> Path | None:
    value = os.environ.get(CONFIG_ENV)
    return Path(value) if value else None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load the settings from ``path`` (or ``$OSS_BRIDGE_CONFIG``), environment and defaults.

    Raises ``ConfigError`` naming every bad key as ``section.key`` with what is wrong.
    """
    path = path if path is not None else config_path_from_env()
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"config file {str(path)!r} does not exist; copy config/oss-bridge.example.toml "
                "there or pass --config with the right path"
            ) from None
        except OSError as exc:
            raise ConfigError(f"config file {str(path)!r} cannot be read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source=path)) from None


def describe_validation_error(exc: ValidationError, *, source: Path | None = None) -> str:
    problems = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key; check its spelling against config/oss-bridge.example.toml"
        problems.append(f"{key}: {msg}")
    where = f" in {str(source)!r}" if source else ""
    return f"invalid configuration{where}: " + "; ".join(problems)


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "********" if value.get_secret_value() else ""
    if isinstance(value, BaseModel):
        return _mask(dict(value))
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data with every secret replaced by ``********``."""
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        section = getattr(settings, name)
        out[name] = {key: _mask(getattr(section, key)) for key in type(section).model_fields}
    return out
