"""Each person's language: their `/cmbot lang` choice, else their Slack locale, else `CMBOT_LANG`.

Slack locales are cached for an hour (people change theirs); a failed `users.info` gives the
default language for this once and is asked again a minute later, never pinned until restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ..i18n import normalise_lang

log = logging.getLogger("cmbot.slack")
FRESH = 3600.0
RETRY_AFTER_FAILURE = 60.0


class Locales:
    def __init__(self, client: WebClient, chosen: Callable[[str], str | None], default: str,
                 fresh: float = FRESH, retry_after_failure: float = RETRY_AFTER_FAILURE,
                 clock: Callable[[], float] = time.monotonic):
        """`clock` tells the time the cache's ages are counted in (a test turns it forward
        instead of waiting an hour)."""
        self.client, self.chosen, self.default = client, chosen, default
        self.fresh, self.retry_after_failure, self.clock = fresh, retry_after_failure, clock
        self._cache: dict[str, tuple[str, float]] = {}  # user -> (lang, valid until)
        self._lock = threading.Lock()

    def of(self, user: str) -> str:
        picked = self.chosen(user)
        if picked:
            return picked
        now = self.clock()
        with self._lock:
            cached = self._cache.get(user)
        if cached and cached[1] > now:
            return cached[0]
        lang, valid = self._ask_slack(user, now)
        with self._lock:
            self._cache[user] = (lang, valid)
        return lang

    def _ask_slack(self, user: str, now: float) -> tuple[str, float]:
        try:
            info = self.client.users_info(user=user, include_locale=True)
            locale = normalise_lang((info.get("user") or {}).get("locale"))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("users.info failed for %s: %s", user, _reason(exc))
            return self.default, now + self.retry_after_failure
        return locale or self.default, now + self.fresh


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__
