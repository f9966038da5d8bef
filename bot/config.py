"""Configuration from environment variables or a `.env` file (PRODUCT §3)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from messages import render_text

_TOKEN_SHAPE = re.compile(r"^\d{3,15}:[A-Za-z0-9_-]{10,}$")
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# The Zalo Bot Platform's: "<digits>:<key>" like Telegram's; its webhook secret 8 to 256.
_ZALO_TOKEN_SHAPE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{8,}$")
_ZALO_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
# What getFile gives through the public Bot API; a local Bot API server gives up to 2000 MB.
PUBLIC_FILE_MB = 20
PUBLIC_API_HOST = "api.telegram.org"


class ConfigError(Exception):
    """A missing or malformed setting; its message is one line naming the variable."""


class Settings(BaseSettings):
    """Every setting of PRODUCT §3, typed."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    bot_api_base_url: str = "https://api.telegram.org/bot"
    bot_api_file_url: str = "https://api.telegram.org/file/bot"
    # Declared before max_file_mb: its validator reads this one (PRODUCT §9).
    bot_api_local: bool = False
    # A URL that may hold a password: a secret, never shown (bot/reach.py logs it masked).
    bot_proxy: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///data/thidua.db"
    files_dir: Path = Path("data/files")
    bot_timezone: str = "Asia/Ho_Chi_Minh"
    max_file_mb: int = Field(default=20, ge=1, le=2000)
    webhook_secret: SecretStr | None = None
    # The Zalo channel (PRODUCT §12): absent token, no Zalo channel.
    zalo_bot_token: SecretStr | None = None
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com/bot"
    zalo_webhook_secret: SecretStr | None = None

    @field_validator("zalo_bot_token")
    @classmethod
    def _zalo_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _ZALO_TOKEN_SHAPE.match(value.get_secret_value()):
            raise ValueError("zalo_token_shape")
        return value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _zalo_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _ZALO_SECRET_SHAPE.match(value.get_secret_value()):
            raise ValueError("zalo_secret_shape")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_SHAPE.match(value.get_secret_value()):
            raise ValueError("token_shape")
        return value

    @field_validator("bot_api_base_url", "bot_api_file_url", "zalo_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url_shape")
        return value

    @field_validator("bot_api_local")
    @classmethod
    def _local_server(cls, value: bool, info: ValidationInfo) -> bool:
        base = info.data.get("bot_api_base_url")
        if value and base is not None and urlsplit(base).hostname == PUBLIC_API_HOST:
            raise ValueError("local_needs_own_server")
        return value

    @field_validator("bot_proxy")
    @classmethod
    def _proxy_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _is_proxy_url(value.get_secret_value()):
            raise ValueError("proxy_shape")
        return value

    @field_validator("max_file_mb")
    @classmethod
    def _public_file_limit(cls, value: int, info: ValidationInfo) -> int:
        if value > PUBLIC_FILE_MB and not info.data.get("bot_api_local", False):
            raise ValueError("max_file_public")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("database_url_shape")
        return value

    @field_validator("bot_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("timezone_unknown") from exc
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_SHAPE.match(value.get_secret_value()):
            raise ValueError("secret_shape")
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The zone every time a person sees or types is in."""
        return ZoneInfo(self.bot_timezone)

    @property
    def max_file_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.max_file_mb * 1024 * 1024

    def require_token(self) -> str:
        """The token, or a ConfigError naming BOT_TOKEN."""
        if self.bot_token is None:
            raise ConfigError(
                render_text("cli/config_error", variable="BOT_TOKEN", problem="missing")
            )
        return self.bot_token.get_secret_value()

    @property
    def zalo(self) -> bool:
        """Whether the Zalo channel is configured."""
        return self.zalo_bot_token is not None

    def require_zalo_webhook(self) -> str:
        """What `--zalo-webhook` needs: the Zalo token and secret, or a ConfigError naming
        the one missing."""
        for variable, value in (
            ("ZALO_BOT_TOKEN", self.zalo_bot_token),
            ("ZALO_WEBHOOK_SECRET", self.zalo_webhook_secret),
        ):
            if value is None:
                raise ConfigError(
                    render_text("cli/config_error", variable=variable, problem="missing")
                )
        assert self.zalo_webhook_secret is not None
        return self.zalo_webhook_secret.get_secret_value()

    def require_webhook_secret(self) -> str:
        """The webhook secret, or a ConfigError naming WEBHOOK_SECRET."""
        if self.webhook_secret is None:
            raise ConfigError(
                render_text("cli/config_error", variable="WEBHOOK_SECRET", problem="missing")
            )
        return self.webhook_secret.get_secret_value()


def _is_proxy_url(url: str) -> bool:
    """Whether this is a proxy httpx can use: a scheme it knows, a host, a valid port."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range or not a number
    except ValueError:
        return False
    return (
        parts.scheme.lower() in _PROXY_SCHEMES
        and bool(parts.hostname)
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad value becomes a one-line ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "?"
        problem = str(first.get("ctx", {}).get("error", "")) or first["type"]
        raise ConfigError(
            render_text("cli/config_error", variable=variable, problem=problem)
        ) from None
