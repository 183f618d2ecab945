"""cmbot offered to many workspaces: two workspaces install it through Slack's OAuth flow
(`/slack/install` -> Slack's consent page -> `/slack/oauth_redirect`) on one running
`cmbot serve --http`, run interviews with the SAME user and channel ids, and nothing crosses:
not the history, a consultation id typed by hand, an export, the App Home, a reminder, nor the
token any Web API call is made with. One workspace uninstalls; the other goes on. On the TinyDB
files and on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from commandline import run
from conftest import SIGNING_SECRET, BotProcess, StartBot, bot_environment
from fakeslack import FakeSlack
from interview_steps import ARTICLE
from slack_requests import BotDriver
from test_dm_interview import run_interview

USER, DM = "U1", "D1"  # the same ids in both workspaces: two different people
STATE_SECRET = "a-random-state-secret-for-tests"
COOKIE = "slack-app-oauth-state"
REMINDING = {"CMBOT_REMIND_AFTER": "1s", "CMBOT_EXPIRE_AFTER": "1h", "CMBOT_SWEEP_EVERY": "0.1"}


@pytest.fixture(params=["tinydb", "postgresql"])
def many(request: pytest.FixtureRequest, start_bot: StartBot, fake_slack: FakeSlack) -> BotProcess:
    """`cmbot serve --http` with OAuth settings and no bot token, on each engine."""
    env = {"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": fake_slack.client_id,
           "SLACK_CLIENT_SECRET": fake_slack.client_secret, "SLACK_STATE_SECRET": STATE_SECRET,
           **REMINDING}
    if request.param == "postgresql":
        env["CMBOT_DATABASE_URL"] = request.getfixturevalue("pg_url")
    return start_bot(**env)


def fetch(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), dict(error.headers)


def install(bot: BotProcess, team: str, rotation: bool = False, expires_in: int = 43_200) -> str:
    """Click "Add to Slack", approve in `team`, come back to the redirect URL; the page shown."""
    status, page, headers = fetch(bot.url + "/slack/install")
    assert status == 200, page
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert cookie.startswith(f"{COOKIE}=")
    link = page[page.index("https://slack.com/oauth/v2/authorize?"):].split('"', 1)[0].replace("&amp;", "&")
    asked = parse_qs(urlsplit(link).query)
    assert asked["client_id"] == [bot.fake.client_id] and "chat:write" in asked["scope"][0].split(",")
    code = bot.fake.install_code(team, rotation=rotation, expires_in=expires_in)
    query = urlencode({"code": code, "state": asked["state"][0]})
    status, page, _ = fetch(f"{bot.url}/slack/oauth_redirect?{query}", cookie)
    assert status == 200, page
    return page


def workspace(bot: BotProcess, team: str) -> SimpleNamespace:
    """What `run_interview` drives: the bot, seen from one workspace."""
    return SimpleNamespace(fake=bot.fake, driver=BotDriver(bot.url, SIGNING_SECRET, bot.fake.url, team=team),
                           db_path=bot.db_path)


def interview(ws: SimpleNamespace) -> tuple[str, int]:
    """A whole interview of U1 in their DM D1; the consultation id and where its calls start."""
    mark = ws.fake.mark()
    ws.driver.message(USER, DM, "start")
    result = run_interview(ws, ARTICLE, after=mark)
    ws.fake.settle()  # the answered question is tidied after the result is posted
    return result.params["metadata"]["event_payload"]["consultation_id"], mark


def answer(ws: SimpleNamespace, text: str) -> str:
    """A `/cmbot` command in the person's DM and its private answer."""
    mark = ws.fake.mark()
    reply = ws.driver.command(text, user=USER, channel=DM)
    assert reply.status == 200
    return json.dumps(ws.fake.wait_for("response", after=mark).params, ensure_ascii=False)


def tokens_used(fake: FakeSlack, after: int, until: int | None = None) -> set[str | None]:
    """The tokens of the Web API calls made in between (the response URL takes none)."""
    return {c.token for c in fake.calls[after:until] if c.method not in ("response", "upload")}


def test_two_workspaces_installed_by_oauth_keep_everything_apart(many: BotProcess):
    fake = many.fake
    for team in ("T1", "T2"):
        assert "cmbot is installed" in install(many, team)
        assert len(fake.tokens_of(team)) == 1
    one, two = workspace(many, "T1"), workspace(many, "T2")

    first, mark1 = interview(one)
    end1 = fake.mark()
    second, mark2 = interview(two)
    assert tokens_used(fake, mark1, end1) == set(fake.tokens_of("T1"))  # T1's steps, T1's token
    assert tokens_used(fake, mark2) == set(fake.tokens_of("T2"))

    # the history, an id typed by hand, an export, a delete: each workspace has only its own
    assert first in answer(one, "history") and second not in answer(one, "history")
    assert second in answer(two, "history") and first not in answer(two, "history")
    assert "Risks" in answer(one, f"show {first}")
    unknown = answer(one, "show 000000000000").replace("000000000000", "X")
    assert answer(one, f"show {second}").replace(second, "X") == unknown
    assert "No consultation" in answer(one, f"export {second}")
    assert "No consultation" in answer(one, f"delete {second}")
    assert second in answer(two, "history")

    # the App Home of U1 in T1, published with T1's token, lists T1's consultation only
    mark = fake.mark()
    one.driver.app_home_opened(USER)
    home = fake.wait_for("views.publish", after=mark)
    assert home.token in fake.tokens_of("T1")
    assert first in json.dumps(home.params) and second not in json.dumps(home.params)

    # an interview left half-way in each workspace is reminded there, with that workspace's token
    mark = fake.mark()
    one.driver.message(USER, DM, "start")
    two.driver.message(USER, DM, "start")
    for team in ("T1", "T2"):
        fake.wait_for("chat.postMessage", lambda c, team=team: "waiting for you" in c.text
                      and c.token in fake.tokens_of(team), after=mark, timeout=15)

    # T1 uninstalls: its tokens are deleted, its requests refused cleanly; T2 goes on
    fake.uninstall("T1")
    # Bolt runs the listener before answering (process_before_response): the tokens are gone now
    assert one.driver.event({"type": "app_uninstalled"}, team="T1").status == 200
    mark = fake.mark()
    assert one.driver.command("history", user=USER, channel=DM).status == 200
    told = fake.wait_for("response", after=mark)
    assert "not installed in this workspace any more" in told.text and first not in told.text
    assert one.driver.message(USER, DM, "start").status == 200
    fake.settle()
    assert tokens_used(fake, mark) == set()  # nothing said with a dead token
    assert second in answer(two, "history")
    third, _ = interview(two)
    assert third in answer(two, "history")


def cmbot(bot: BotProcess, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A `cmbot` command on the bot's database."""
    return run(args, env=bot.env, cwd=Path.cwd(), stdin=stdin or "")


def traces(bot: BotProcess, *texts: str) -> list[str]:
    """Where the database of a stopped `bot` still holds any of `texts`: every file of a TinyDB
    database (sessions, archive, backups, installations), or every row of every table on
    PostgreSQL. (A running bot's session writer deletes journals between a listing and its
    reading.)"""
    url = bot.env.get("CMBOT_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
            return [f"{table}: {text}" for table in tables for text in texts
                    if conn.execute(f"SELECT count(*) FROM {table} t WHERE t::text LIKE %s",
                                    (f"%{text}%",)).fetchone()[0]]
    files = [p for p in bot.db_path.parent.rglob("*") if p.is_file() and p.suffix != ".log"]
    return [f"{p}: {text}" for p in files for text in texts if text.encode() in p.read_bytes()]


def test_delete_workspace_removes_all_of_one_and_nothing_of_the_other(many: BotProcess):
    fake = many.fake
    for team in ("T1", "T2"):
        install(many, team)
    one, two = workspace(many, "T1"), workspace(many, "T2")
    answer(one, "lang fr")
    first, _ = interview(one)
    second, _ = interview(two)
    token = fake.tokens_of("T1")[0]

    listed = json.loads(cmbot(many, "history", "--team", "T1", "--json").stdout)
    assert [r["consultation_id"] for r in listed] == [first]
    exported = cmbot(many, "db", "export", "--team", "T2").stdout.splitlines()
    assert [json.loads(line)["id"] for line in exported[1:]] == [second]
    bad = cmbot(many, "db", "delete-workspace", "U1", "--yes")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "T0123ABCD" in bad.stderr

    many.stop()  # the TinyDB files are one process's at a time (and stay as they are now)
    assert traces(many, first, token)
    asked = cmbot(many, "db", "delete-workspace", "T1")
    assert asked.returncode == 2 and "--yes" in asked.stderr  # no terminal to confirm on
    done = cmbot(many, "db", "delete-workspace", "T1", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Workspace T1 deleted: 1 consultations" in done.stdout
    assert traces(many, first, token, '"T1"', "T1:") == []
    assert [r["consultation_id"] for r in json.loads(cmbot(many, "history", "--json").stdout)] == [second]

    many.start()
    two = workspace(many, "T2")  # the bot listens on a new port
    assert second in answer(two, "history")
    third, _ = interview(two)
    assert third in answer(two, "history")


def test_with_token_rotation_an_expiring_token_is_refreshed_and_used(many: BotProcess):
    fake = many.fake
    install(many, "T1", rotation=True, expires_in=600)  # 10 min left: inside Bolt's 120 min margin
    installed = fake.tokens_of("T1")[0]
    one = workspace(many, "T1")
    mark = fake.mark()
    one.driver.message(USER, DM, "start")
    question = fake.wait_for("chat.postMessage", lambda c: "community manager" in c.text, after=mark)
    refreshed = [c for c in fake.calls_to("oauth.v2.access", after=mark)
                 if c.params.get("grant_type") == "refresh_token"]
    assert len(refreshed) == 1  # Bolt's token rotation, through SLACK_API_URL
    assert question.token != installed and question.token in fake.tokens_of("T1")
    mark = fake.mark()
    answer(one, "history")  # the refreshed token (12 h left) was saved: no second refresh
    assert fake.calls_to("oauth.v2.access", after=mark) == []


@pytest.mark.parametrize(("settings", "named"), [
    ({"SLACK_BOT_TOKEN": None}, "SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET"),
    ({"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"},
     "SLACK_STATE_SECRET not set"),
    ({"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s",
      "SLACK_STATE_SECRET": "short"}, "SLACK_STATE_SECRET must be at least 16"),
    ({"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s",
      "SLACK_STATE_SECRET": STATE_SECRET, "CMBOT_DATABASE_URL": "memory://"}, "TinyDB files or PostgreSQL"),
])
def test_oauth_settings_missing_or_wrong_are_one_clear_line(fake_slack: FakeSlack, tmp_path, settings, named):
    env = bot_environment(fake_slack, tmp_path / "db.json", settings)
    result = run(["serve", "--http", "--port", "0"], env=env, cwd=tmp_path, timeout=30)
    assert result.returncode == 2 and named in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_the_install_pages_speak_the_installers_language(many: BotProcess):
    status, page, _ = fetch(many.url + "/slack/install")
    assert status == 200 and "Add cmbot to your Slack workspace" in page and 'lang="en"' in page
    request = urllib.request.Request(many.url + "/slack/install",
                                     headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    with urllib.request.urlopen(request, timeout=10) as response:
        french = response.read().decode()
    assert "Ajouter cmbot à votre espace de travail Slack" in french
    status, page, _ = fetch(many.url + "/slack/oauth_redirect?code=x&state=forged.0000")
    assert status >= 400 and "The installation did not finish" in page and "Traceback" not in page


def test_with_a_bot_token_the_install_pages_do_not_exist(bot: BotProcess):
    assert fetch(bot.url + "/slack/install")[0] == 404
    assert fetch(bot.url + "/slack/oauth_redirect?code=x&state=y")[0] == 404


def test_revoked_bot_tokens_are_deleted_and_refused_cleanly(many: BotProcess):
    fake = many.fake
    install(many, "T1")
    install(many, "T2")
    one, two = workspace(many, "T1"), workspace(many, "T2")
    fake.uninstall("T1")  # Slack revoked the token...
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    assert one.driver.event(revoked, team="T1").status == 200  # ...and says so (handled by now)
    mark = fake.mark()
    assert one.driver.command("history", user=USER, channel=DM).status == 200
    assert "not installed" in fake.wait_for("response", after=mark).text
    assert tokens_used(fake, mark) == set()
    assert interview(two)[0] in answer(two, "history")  # T2 goes on
