"""People's language from their Slack locale: asked with `users.info` (against the fake Web
API over HTTP), kept for a while, asked again once stale, and a failed lookup never pins the
default language — the next lookup after a short wait asks Slack again. Time passes on a clock
the test turns: an hour's freshness is not waited out."""

from __future__ import annotations

from cmbot.slack.locales import FRESH, RETRY_AFTER_FAILURE, Locales
from cmbot.slack.transport import KeepAliveClient


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def turn(self, seconds: float) -> None:
        self.now += seconds


def locales(fake, clock: Clock, chosen=None) -> Locales:
    client = KeepAliveClient(token="xoxb-test-token", base_url=fake.url)  # no retries: failures show
    return Locales(client, lambda user: (chosen or {}).get(user), "en", clock=clock)


def lookups(fake) -> int:
    return len(fake.calls_to("users.info"))


def test_a_failed_lookup_gives_the_default_once_and_is_asked_again(fake_slack):
    fake_slack.user_locales["U1"] = "fr-FR"
    fake_slack.fail_next("users.info", "internal_error", status=500)
    clock = Clock()
    langs = locales(fake_slack, clock)
    assert langs.of("U1") == "en"  # Slack failed: the default, for now
    clock.turn(RETRY_AFTER_FAILURE - 1)
    assert langs.of("U1") == "en" and lookups(fake_slack) == 1  # not hammered meanwhile
    clock.turn(1)
    assert langs.of("U1") == "fr" and lookups(fake_slack) == 2  # not pinned by the failure


def test_a_locale_is_kept_while_fresh_then_refreshed(fake_slack):
    fake_slack.user_locales["U1"] = "fr-FR"
    clock = Clock()
    langs = locales(fake_slack, clock)
    assert langs.of("U1") == "fr"
    fake_slack.user_locales["U1"] = "en-US"  # the person changed their Slack language
    clock.turn(FRESH - 1)
    assert langs.of("U1") == "fr" and lookups(fake_slack) == 1
    clock.turn(1)
    assert langs.of("U1") == "en" and lookups(fake_slack) == 2


def test_a_chosen_language_wins_without_asking_slack(fake_slack):
    fake_slack.user_locales["U1"] = "en-US"
    assert locales(fake_slack, Clock(), chosen={"U1": "fr"}).of("U1") == "fr"
    assert lookups(fake_slack) == 0
