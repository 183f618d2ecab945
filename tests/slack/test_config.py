"""`cmbot serve`'s settings: `CMBOT_LANG` is read as the rest of cmbot reads it."""

from __future__ import annotations

import pytest

from cmbot.i18n import LANGUAGES
from cmbot.slack.config import ConfigError, load_settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    """A bot token and a signing secret, no `.env` file, no locale to fall back on."""
    monkeypatch.setenv("CMBOT_ENV_FILE", str(tmp_path / "none.env"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET",
                 "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_cmbot_speaks_is_a_default_language(env, lang):
    env.setenv("CMBOT_LANG", lang)
    assert load_settings().lang == lang


def test_a_locale_name_is_read_as_cmbot_chat_reads_it(env):
    env.setenv("CMBOT_LANG", "fr_FR.UTF-8")
    assert load_settings().lang == "fr"


def test_a_language_cmbot_does_not_speak_is_one_line_naming_those_it_does(env):
    env.setenv("CMBOT_LANG", "de")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("CMBOT_LANG must be") and "\n" not in message
    assert all(lang in message.split() for lang in LANGUAGES)


def test_unset_falls_back_to_english_without_a_locale(env):
    env.delenv("CMBOT_LANG", raising=False)
    assert load_settings().lang == "en"
