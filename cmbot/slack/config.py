"""Settings for `cmbot serve`, from the environment and a `.env` file, checked up front.

A missing or malformed setting is a `ConfigError` with one line naming it; tokens are never
part of any message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

from dotenv import load_dotenv

from ..i18n import default_lang


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str | None
    app_token: str | None
    api_url: str
    port: int
    lang: str
    remind_after: timedelta = timedelta(hours=24)
    expire_after: timedelta = timedelta(days=14)
    sweep_every: float = 60.0

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


def _port(raw: str, name: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a port number between 1 and 65535")
    return int(raw)


def load_settings(port: int | None = None, force_http: bool = False) -> Settings:
    load_dotenv(os.environ.get("CMBOT_ENV_FILE", ".env"), override=False)
    env = os.environ
    bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
    if not bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set (a bot token starting with xoxb-)")
    if not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    app_token = (env.get("SLACK_APP_TOKEN") or "").strip() or None
    if force_http:
        app_token = None
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    secret = (env.get("SLACK_SIGNING_SECRET") or "").strip() or None
    if app_token is None and not secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set; HTTP mode cannot verify requests "
                          "without it (or set SLACK_APP_TOKEN for Socket Mode)")
    api_url = (env.get("SLACK_API_URL") or "https://slack.com/api/").strip()
    parsed = urlparse(api_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("SLACK_API_URL must be an http(s) URL, e.g. https://slack.com/api/")
    if not api_url.endswith("/"):
        api_url += "/"
    if port is None:
        port = _port(env["PORT"], "PORT") if env.get("PORT") else 3000
    lang = env.get("CMBOT_LANG")
    if lang and lang not in ("en", "fr"):
        raise ConfigError("CMBOT_LANG must be en or fr")
    remind = duration(env.get("CMBOT_REMIND_AFTER", "24h"), "CMBOT_REMIND_AFTER")
    expire = duration(env.get("CMBOT_EXPIRE_AFTER", "14d"), "CMBOT_EXPIRE_AFTER")
    if expire <= remind:
        raise ConfigError("CMBOT_EXPIRE_AFTER must be longer than CMBOT_REMIND_AFTER")
    every = duration(env.get("CMBOT_SWEEP_EVERY", "60s"), "CMBOT_SWEEP_EVERY").total_seconds()
    return Settings(bot_token, secret, app_token, api_url, port, lang or default_lang(),
                    remind, expire, every)


UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(raw: str, name: str) -> timedelta:
    """`90s`, `30m`, `24h`, `14d` (a bare number is seconds)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", raw)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{name} must be a duration such as 90s, 30m, 24h or 14d")
    return timedelta(**{UNITS[match.group(2) or "s"]: float(match.group(1))})


TOKEN = re.compile(r"xox[abposer]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


def redact(text: str) -> str:
    return TOKEN.sub("[token]", text)
