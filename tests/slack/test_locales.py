"""People's language from their Slack locale: asked with `users.info` (against the fake Web
API over HTTP), kept for a while, asked again once stale, and a failed lookup never pins the
default language — the next lookup after a short wait asks Slack again."""

from __future__ import annotations

import time

from cmbot.slack.locales import Locales
from cmbot.slack.transport import KeepAliveClient


def locales(fake, chosen=None, fresh=0.4, retry=0.2) -> Locales:
    client = KeepAliveClient(token="xoxb-test-token", base_url=fake.url)  # no retries: failures show
    return Locales(client, lambda user: (chosen or {}).get(user), "en", fresh=fresh,
                   retry_after_failure=retry)


def lookups(fake) -> int:
    return len(fake.calls_to("users.info"))


def test_a_failed_lookup_gives_the_default_once_and_is_asked_again(fake_slack):
    fake_slack.user_locales["U1"] = "fr-FR"
    fake_slack.fail_next("users.info", "internal_error", status=500)
    langs = locales(fake_slack)
    assert langs.of("U1") == "en"  # Slack failed: the default, for now
    assert langs.of("U1") == "en" and lookups(fake_slack) == 1  # not hammered meanwhile
    time.sleep(0.25)
    assert langs.of("U1") == "fr" and lookups(fake_slack) == 2  # not pinned by the failure


def test_a_locale_is_kept_while_fresh_then_refreshed(fake_slack):
    fake_slack.user_locales["U1"] = "fr-FR"
    langs = locales(fake_slack)
    assert langs.of("U1") == "fr"
    fake_slack.user_locales["U1"] = "en-US"  # the person changed their Slack language
    assert langs.of("U1") == "fr" and lookups(fake_slack) == 1
    time.sleep(0.45)
    assert langs.of("U1") == "en" and lookups(fake_slack) == 2


def test_a_chosen_language_wins_without_asking_slack(fake_slack):
    fake_slack.user_locales["U1"] = "en-US"
    assert locales(fake_slack, chosen={"U1": "fr"}).of("U1") == "fr"
    assert lookups(fake_slack) == 0
