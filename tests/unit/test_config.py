"""Configuration: defaults, TOML, environment overrides, secret files, masking, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oss_bridge.cli import app
from oss_bridge.config import load_settings, masked_dump, normalise_database_url
from oss_bridge.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("OSS_BRIDGE_"):
            monkeypatch.delenv(name)


def test_the_built_in_defaults_point_at_sqlite_and_the_mock() -> None:
    settings = load_settings()
    assert settings.database.url == "sqlite+aiosqlite:///var/oss-bridge.db"
    assert settings.oss.base_url == "http://127.0.0.1:8090/oss"
    assert settings.lapor.base_url == "http://127.0.0.1:8090/lapor"
    assert settings.oss.user_key.get_secret_value() == "demo-user-key"
    assert settings.lapor.auth_value.get_secret_value() == "demo-auth-value"
    assert settings.lapor.token.get_secret_value() == "demo-token"


def test_the_example_config_is_valid_and_equals_the_defaults() -> None:
    example = load_settings(REPO / "config" / "oss-bridge.example.toml")
    assert masked_dump(example) == masked_dump(load_settings())


def test_the_environment_overrides_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[api]\nport = 9000\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("OSS_BRIDGE_API__PORT", "9100")
    settings = load_settings(path)
    assert settings.api.port == 9100
    assert settings.api.host == "0.0.0.0"


def test_the_config_file_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[region]\nkd_daerah = "1471"\n')
    monkeypatch.setenv("OSS_BRIDGE_CONFIG", str(path))
    assert load_settings().region.kd_daerah == "1471"


def test_a_secret_can_be_read_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    path = tmp_path / "c.toml"
    path.write_text(f'[lapor]\ntoken_file = "{secret}"\n')
    assert load_settings(path).lapor.token.get_secret_value() == "s3cret"


def test_a_missing_secret_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[oss]\nuser_key_file = "{tmp_path / "absent"}"\n')
    with pytest.raises(ConfigError, match=r"oss.*user_key_file.*cannot be read"):
        load_settings(path)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[api]\nport = 70000\n", "api.port: Input should be less than or equal to 65535"),
        ('[api]\nport = "x"\n', "api.port: Input should be a valid integer"),
        ('[oss]\nbase_url = "ftp://x"\n', "oss: base_url 'ftp://x' must start with http://"),
        (
            '[database]\nurl = "mysql://x"\n',
            "database: url 'mysql://x' is not a SQLite or PostgreSQL URL",
        ),
        ("[api]\nprot = 1\n", "api.prot: unknown key"),
        ("[nonsense]\nx = 1\n", "nonsense: unknown key"),
        ('[region]\nkd_daerah = "x1"\n', "region.kd_daerah: String should match pattern"),
        ('[catalogue.field_ownership]\nfee = "nobody"\n', "catalogue.field_ownership.fee"),
    ],
)
def test_a_bad_value_names_the_key_and_what_is_wrong(
    tmp_path: Path, toml: str, expected: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert expected in str(info.value)


def test_a_file_that_is_not_toml_says_so(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[api\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(path)


def test_a_missing_config_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist; copy config/oss-bridge.example.toml"):
        load_settings(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("sqlite:///var/oss-bridge.db", "sqlite+aiosqlite:///var/oss-bridge.db"),
        ("sqlite:////abs/path.db", "sqlite+aiosqlite:////abs/path.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("  sqlite:///x.db  ", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_pick_the_async_driver(written: str, normalised: str) -> None:
    assert normalise_database_url(written) == normalised


def test_config_check_masks_every_secret(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[api]\nadmin_token = "admin-XYZ"\nstaff_token = "staff-XYZ"\nopen311_api_key = "k-XYZ"\n'
        '[oss]\nuser_key = "uk-XYZ"\n[lapor]\nauth_value = "av-XYZ"\ntoken = "t-XYZ"\n'
    )
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path), "--json"])
    assert result.exit_code == 0
    assert "XYZ" not in result.output
    dump = json.loads(result.output)
    assert dump["api"]["admin_token"] == "********"
    assert dump["lapor"]["token"] == "********"


def test_config_check_exits_2_naming_the_bad_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[forwarder]\nmax_attempts = 0\n")
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)
    assert "forwarder.max_attempts" in str(result.exception)
