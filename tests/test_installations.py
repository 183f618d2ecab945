"""Slack installations and OAuth states in cmbot's database, on both engines, through the
interfaces Bolt calls (`InstallationStore`, `OAuthStateStore`)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from cmbot.slack.workspaces import SignedStates
from cmbot.store.engines import EngineError, open_storage
from cmbot.store.installations import oauth_stores, sqlite_path
from cmbot.store.protocol import Storage
from cmbot.store.store import Store

CLIENT = "111.222"


@pytest.fixture(params=["tinydb", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    url = str(tmp_path / "cmbot.json") if request.param == "tinydb" else request.getfixturevalue("pg_url")
    store = open_storage(url)
    yield store
    store.close()


def installation(team: str, token: str, refresh: str | None = None, expires_in: int | None = None,
                 enterprise: str | None = None, org: bool = False) -> Installation:
    return Installation(app_id="A1", enterprise_id=enterprise, team_id=None if org else team,
                        bot_token=token, bot_id="B1", bot_user_id="UBOT",
                        bot_scopes="chat:write,commands", bot_refresh_token=refresh,
                        bot_token_expires_in=expires_in, user_id="U1", is_enterprise_install=org)


def test_the_stores_are_bolts(storage: Storage):
    installations, states = oauth_stores(storage, CLIENT)
    assert isinstance(installations, InstallationStore) and isinstance(states, OAuthStateStore)


def test_each_workspace_finds_its_own_bot_token(storage: Storage):
    installations, _ = oauth_stores(storage, CLIENT)
    installations.save(installation("T1", "xoxb-one"))
    installations.save(installation("T2", "xoxb-two"))
    assert installations.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-one"
    assert installations.find_bot(enterprise_id=None, team_id="T2").bot_token == "xoxb-two"
    found = installations.find_installation(enterprise_id=None, team_id="T2")
    assert (found.bot_scopes, found.user_id) == (["chat:write", "commands"], "U1")
    assert installations.find_bot(enterprise_id=None, team_id="T3") is None


def test_token_rotation_fields_are_kept_and_a_refreshed_bot_wins(storage: Storage):
    installations, _ = oauth_stores(storage, CLIENT)
    installations.save(installation("T1", "xoxe.xoxb-old", refresh="xoxe-1-old", expires_in=600))
    bot = installations.find_bot(enterprise_id=None, team_id="T1")
    assert bot.bot_refresh_token == "xoxe-1-old"
    assert abs(bot.bot_token_expires_at - (time.time() + 600)) < 60
    installed_an_hour_ago(storage)  # a token is refreshed hours after it was installed
    bot = installations.find_bot(enterprise_id=None, team_id="T1")
    bot.bot_token, bot.bot_refresh_token = "xoxe.xoxb-new", "xoxe-1-new"
    installations.save_bot(bot)
    assert installations.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxe.xoxb-new"


def installed_an_hour_ago(storage: Storage) -> None:
    """Every saved bot token dated an hour back, as if installed then: slack_sdk orders a
    workspace's tokens by `installed_at`, kept to the second on SQLite."""
    if isinstance(storage, Store):
        with contextlib.closing(sqlite3.connect(sqlite_path(storage.path))) as conn, conn:
            conn.execute("UPDATE slack_bots SET installed_at = datetime(installed_at, '-1 hour')")
        return
    import psycopg

    with psycopg.connect(storage.url) as conn:
        conn.execute("UPDATE slack_bots SET installed_at = installed_at - interval '1 hour'")


def test_an_org_wide_install_is_found_by_its_organisation(storage: Storage):
    installations, _ = oauth_stores(storage, CLIENT)
    installations.save(installation("", "xoxb-org", enterprise="E1", org=True))
    found = installations.find_bot(enterprise_id="E1", team_id=None, is_enterprise_install=True)
    assert found is not None and found.bot_token == "xoxb-org"


def test_uninstalling_deletes_the_tokens(storage: Storage):
    installations, _ = oauth_stores(storage, CLIENT)
    installations.save(installation("T1", "xoxb-one"))
    installations.save(installation("T2", "xoxb-two"))
    installations.delete_all(enterprise_id=None, team_id="T1")  # what Bolt does on app_uninstalled
    assert installations.find_bot(enterprise_id=None, team_id="T1") is None
    assert installations.find_installation(enterprise_id=None, team_id="T1") is None
    assert installations.find_bot(enterprise_id=None, team_id="T2").bot_token == "xoxb-two"


def test_deleting_a_workspace_deletes_its_installation(storage: Storage):
    installations, _ = oauth_stores(storage, CLIENT)
    installations.save(installation("T1", "xoxb-one"))
    installations.save(installation("T2", "xoxb-two"))
    assert storage.delete_workspace("T1")["installations"] == 2  # the installation and its bot
    assert installations.find_bot(enterprise_id=None, team_id="T1") is None
    assert installations.find_bot(enterprise_id=None, team_id="T2") is not None


def test_a_state_is_signed_single_use_and_forgeries_are_refused(storage: Storage):
    _, states = oauth_stores(storage, CLIENT)
    signed = SignedStates(states, "a-random-state-secret-for-tests")
    state = signed.issue()
    raw, signature = state.rsplit(".", 1)
    assert not signed.consume(f"{raw}.{'0' * len(signature)}")  # altered signature
    assert not SignedStates(states, "another-secret-entirely-xx").consume(state)
    assert signed.consume(state)
    assert not signed.consume(state)  # once only
    assert not signed.consume("no-signature-at-all")


def test_a_state_expires(storage: Storage):
    """A state is refused once its time is up: given none, at once; given the default ten
    minutes, it is taken (the clock, not the single use, refused the first)."""
    _, expired = oauth_stores(storage, CLIENT, state_expiration=0)
    assert not expired.consume(expired.issue())
    _, states = oauth_stores(storage, CLIENT)
    assert states.consume(states.issue())


def test_memory_storage_cannot_hold_installations():
    with pytest.raises(EngineError, match="TinyDB files or PostgreSQL"):
        oauth_stores(open_storage("memory://"), CLIENT)
