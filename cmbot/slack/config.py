"""Settings for `cmbot serve`, from the environment and a `.env` file, checked up front.

A missing or malformed setting is a `ConfigError` with one line naming it; tokens are never
part of any message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

from dotenv import load_dotenv

from ..i18n import LANGUAGES, default_lang, normalise_lang


class ConfigError(ValueError):
    pass


# The bot scopes cmbot asks for when a workspace installs it (the manifests list the same).
BOT_SCOPES = ("app_mentions:read", "chat:write", "commands", "im:history", "im:write",
              "channels:history", "groups:history", "mpim:history", "channels:read",
              "groups:read", "users:read", "files:write")


# Seconds before the first retry of a Slack server or connection error, doubled at each retry
# (slack_sdk's own default, random jitter added).
RETRY_BACKOFF = 0.5


@dataclass(frozen=True)
class OAuth:
    """An app installed in many workspaces through Slack's OAuth flow (no `SLACK_BOT_TOKEN`)."""

    client_id: str
    client_secret: str
    state_secret: str
    redirect_uri: str | None = None  # else the one set in the app's configuration
    rotation_minutes: int = 120  # with token rotation: refresh a token this long before it expires


@dataclass(frozen=True)
class Settings:
    bot_token: str | None
    signing_secret: str | None
    app_token: str | None
    api_url: str
    port: int
    lang: str
    remind_after: timedelta = timedelta(hours=24)
    expire_after: timedelta = timedelta(days=14)
    sweep_every: float = 60.0
    oauth: OAuth | None = None
    retry_backoff: float = RETRY_BACKOFF

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
    bot_token = env.get("SLACK_BOT_TOKEN", "").strip() or None
    oauth = oauth_settings(env) if bot_token is None else None
    if bot_token is None and oauth is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set (a bot token starting with xoxb-), nor "
                          "SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET (many workspaces)")
    if bot_token is not None and not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    app_token = (env.get("SLACK_APP_TOKEN") or "").strip() or None
    if force_http or oauth is not None:  # the install pages are served over HTTP
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
    if lang and normalise_lang(lang) is None:  # read as `cmbot chat` reads it: fr_FR.UTF-8 is fr
        raise ConfigError(f"CMBOT_LANG must be {' or '.join(LANGUAGES)}")
    remind = duration(env.get("CMBOT_REMIND_AFTER", "24h"), "CMBOT_REMIND_AFTER")
    expire = duration(env.get("CMBOT_EXPIRE_AFTER", "14d"), "CMBOT_EXPIRE_AFTER")
    if expire <= remind:
        raise ConfigError("CMBOT_EXPIRE_AFTER must be longer than CMBOT_REMIND_AFTER")
    every = duration(env.get("CMBOT_SWEEP_EVERY", "60s"), "CMBOT_SWEEP_EVERY").total_seconds()
    backoff = duration(env.get("CMBOT_RETRY_BACKOFF", f"{RETRY_BACKOFF}s"), "CMBOT_RETRY_BACKOFF")
    return Settings(bot_token, secret, app_token, api_url, port, default_lang(),
                    remind, expire, every, oauth, backoff.total_seconds())


OAUTH_VARIABLES = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET")


def oauth_settings(env: Mapping[str, str]) -> OAuth | None:
    """The OAuth settings when any of them is set (then all three must be), else None."""
    values = {name: (env.get(name) or "").strip() for name in OAUTH_VARIABLES}
    if not any(values.values()):
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(f"{', '.join(missing)} not set: installing in many workspaces needs "
                          f"{', '.join(OAUTH_VARIABLES)} (or SLACK_BOT_TOKEN for one workspace)")
    if len(values["SLACK_STATE_SECRET"]) < 16:
        raise ConfigError("SLACK_STATE_SECRET must be at least 16 characters (a random string)")
    redirect = (env.get("SLACK_REDIRECT_URI") or "").strip() or None
    if redirect and not redirect.startswith("https://") and not redirect.startswith("http://"):
        raise ConfigError("SLACK_REDIRECT_URI must be the https:// address of /slack/oauth_redirect")
    minutes = (env.get("CMBOT_TOKEN_ROTATION_MINUTES") or "120").strip()
    if not minutes.isdigit() or not 0 < int(minutes) < 720:
        raise ConfigError("CMBOT_TOKEN_ROTATION_MINUTES must be a number of minutes below 720")
    return OAuth(values["SLACK_CLIENT_ID"], values["SLACK_CLIENT_SECRET"],
                 values["SLACK_STATE_SECRET"], redirect, int(minutes))


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
