"""The Slack app manifests ask for exactly the scopes cmbot uses and, for many workspaces, say
where Slack comes back after an install and subscribe to the events that remove tokens."""

from __future__ import annotations

from pathlib import Path

import yaml

from cmbot.slack.config import BOT_SCOPES

ROOT = Path(__file__).resolve().parent.parent


def manifest(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_both_manifests_ask_for_the_scopes_an_install_requests():
    for name in ("manifest.yaml", "manifest-distribution.yaml"):
        assert manifest(name)["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES), name


def test_the_distribution_manifest_is_ready_for_many_workspaces():
    single, many = manifest("manifest.yaml"), manifest("manifest-distribution.yaml")
    assert many["oauth_config"]["redirect_urls"] == ["https://cmbot.example.com/slack/oauth_redirect"]
    events = many["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    assert set(events) - {"app_uninstalled", "tokens_revoked"} == set(
        single["settings"]["event_subscriptions"]["bot_events"])
    assert many["settings"]["socket_mode_enabled"] is False  # the install pages need HTTP
    assert many["features"] == single["features"]
