"""Tests of the harness behaviours the bot tests rely on, where a broken helper would let a
bot test pass without checking anything: the fake's failure injection and waiting, Block Kit
limits enforced, requests signed the way Bolt checks them, retries that really are retries
(same event id, retry headers), forged requests that really are refused, and the process
fixture reporting a crash or a hang (shown with a tiny stand-in Bolt app, since `cmbot serve`
is tested elsewhere). How the fake answers each Web API method is checked by the bot tests
that call it.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from commandline import run_script
from conftest import SIGNING_SECRET
from fakeslack import FakeSlack, validate_blocks
from signing import sign, signature
from slack_bolt import App, BoltRequest
from slack_requests import BotDriver, slack_ts
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

TOKEN = "xoxb-test-token"
TS_RE = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake_slack.url)


# ---------------------------------------------------------------------- FakeSlack


def test_blocks_beyond_slack_limits_are_invalid(client: WebClient) -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "value": "v"}
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(
            channel="C1", text="t", blocks=[{"type": "actions", "elements": [button]}]
        )
    assert error.value.response["error"] == "invalid_blocks"
    assert validate_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}]) == []
    assert validate_blocks([{"type": "divider"}] * 51)


def test_fail_next_ratelimited_is_a_429_once(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.fail_next("chat.postMessage")
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="x")
    assert error.value.response.status_code == 429
    assert error.value.response["error"] == "ratelimited"
    assert error.value.response.headers["Retry-After"] == "1"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_fail_next_works_with_slack_sdk_retry_handler(fake_slack: FakeSlack) -> None:
    retrying = WebClient(
        token=TOKEN,
        base_url=fake_slack.url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake_slack.fail_next("chat.postMessage", retry_after=0)
    assert retrying.chat_postMessage(channel="C1", text="x")["ok"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_fail_next_with_other_errors_and_custom_handlers(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.fail_next("users.info", "user_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as error:
            client.users_info(user="U1")
        assert error.value.response.status_code == 200
        assert error.value.response["error"] == "user_not_found"
    assert client.users_info(user="U1")["ok"]

    fake_slack.on("team.info", {"ok": True, "team": {"id": "T1", "name": "Acme"}})
    assert client.team_info()["team"]["name"] == "Acme"
    fake_slack.on("team.info", None)
    assert client.team_info().data == {"ok": True}


def test_wait_for_mark_and_reset(fake_slack: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="old")
    mark = fake_slack.mark()
    later = threading.Timer(0.2, lambda: client.chat_postMessage(channel="C1", text="new"))
    later.start()
    call = fake_slack.wait_for("chat.postMessage", lambda c: c.text == "new", after=mark)
    later.join()
    assert call.text == "new" and call.time > 0
    assert fake_slack.find("chat.postMessage", after=mark) is call

    with pytest.raises(AssertionError, match=r"(?s)chat\.update.*seen:.*chat\.postMessage 'old'"):
        fake_slack.wait_for("chat.update", timeout=0.1)
    fake_slack.assert_no_call("chat.update", wait=0.05)
    with pytest.raises(AssertionError):
        fake_slack.assert_no_call("chat.postMessage", wait=0)

    fake_slack.reset()
    assert fake_slack.calls == [] and fake_slack.mark() == 0


def test_a_stopped_fake_closes_the_connections_kept_open_to_it() -> None:
    """Else its handler would go on answering them: a client of a later fake that the system
    gave the same port would be answered by this one, and its calls recorded here."""
    fake = FakeSlack().start()
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    connection.request("POST", "/api/auth.test", body=b"", headers={"Connection": "keep-alive"})
    response = connection.getresponse()
    assert response.status == 200 and not response.will_close
    response.read()
    fake.stop()
    assert connection.sock is not None and connection.sock.recv(1) == b""  # closed, not waiting
    connection.close()


# ---------------------------------------------------------------------- signing


def test_sign_is_accepted_by_slack_sdk_verifier() -> None:
    body = '{"type":"event_callback"}'
    headers = sign("s3cret", body)
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid(
        body + " ", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    old = sign("s3cret", body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, old)
    assert signature("s3cret", body.encode(), 1) == verifier.generate_signature(
        timestamp="1", body=body
    )


# ---------------------------------------------------------------------- BotDriver x Bolt


class _BoltHarness:
    """An in-process Bolt app behind a plain HTTP server, recording what listeners see."""

    def __init__(self, fake: FakeSlack) -> None:
        self.seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.app = App(
            client=WebClient(token=TOKEN, base_url=fake.url),
            signing_secret=SIGNING_SECRET,
            process_before_response=True,
        )
        self._register()
        app = self.app

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                response = app.dispatch(
                    BoltRequest(body=raw.decode(), headers={k: v for k, v in self.headers.items()})
                )
                data = response.body.encode()
                self.send_response(response.status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _register(self) -> None:
        app, seen = self.app, self.seen

        @app.event("message")
        def on_message(body: dict, request: BoltRequest) -> None:
            seen.append(("message", body, request.headers))

        @app.event("app_mention")
        def on_mention(body: dict, request: BoltRequest) -> None:
            seen.append(("app_mention", body, request.headers))


@pytest.fixture
def bolt(fake_slack: FakeSlack) -> Iterator[_BoltHarness]:
    harness = _BoltHarness(fake_slack)
    yield harness
    harness.server.shutdown()
    harness.server.server_close()


@pytest.fixture
def driver(bolt: _BoltHarness, fake_slack: FakeSlack) -> BotDriver:
    return BotDriver(bolt.url, SIGNING_SECRET, fake_slack.url)


def test_retries_carry_headers_and_the_same_event_id(bolt: _BoltHarness, driver: BotDriver) -> None:
    driver.message("U1", "DU1", "once")
    first_id = driver.last_event_id
    assert driver.retry_last(retry_num=1).status == 200
    _, body, headers = bolt.seen[-1]
    assert body["event_id"] == first_id
    assert headers["x-slack-retry-num"] == ["1"]
    assert headers["x-slack-retry-reason"] == ["http_timeout"]

    driver.event(
        {
            "type": "app_mention",
            "user": "U1",
            "text": "x",
            "channel": "C1",
            "ts": slack_ts(),
            "event_ts": slack_ts(),
        },
        event_id="Ev1",
        retry_num=2,
    )
    _, body, headers = bolt.seen[-1]
    assert body["event_id"] == "Ev1" and headers["x-slack-retry-num"] == ["2"]


def test_forged_and_stale_requests_are_rejected(bolt: _BoltHarness, driver: BotDriver) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "app_mention"}})
    assert driver.post(body, secret="wrong").status == 401
    assert driver.post(body, signed=False).status == 401
    assert driver.post(body, timestamp=int(time.time()) - 3600).status == 401
    assert driver.url_verification("abc").json() == {"challenge": "abc"}
    assert bolt.seen == []


# ---------------------------------------------------------------------- process fixture

STAND_IN = '''
"""A minimal stand-in for `cmbot serve --http`: Bolt over http.server, env-configured."""
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

app = App(
    client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    process_before_response=True,
)
db = os.environ["CMBOT_DB"]

@app.event("message")
def echo(body, say):
    with open(db, "a") as f:
        f.write(body["event"]["text"] + "\\n")
    say(text=open(db).read().strip().replace("\\n", ","))

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
        resp = app.dispatch(BoltRequest(body=raw, headers=dict(self.headers.items())))
        self.send_response(resp.status)
        self.end_headers()
        self.wfile.write(resp.body.encode())

print("serving", os.environ.get("SLACK_APP_TOKEN"), os.environ.get("CMBOT_LANG"), flush=True)
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print(f"stand-in started, listening on http://127.0.0.1:{server.server_port}/slack/events",
      file=sys.stderr, flush=True)
server.serve_forever()
'''


@pytest.fixture
def stand_in(tmp_path: Path) -> list[str]:
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    return [sys.executable, str(script), "{port}"]


def test_start_bot_runs_a_server_against_the_fake(
    start_bot: Any, stand_in: list[str], fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-should-not-leak")
    bot = start_bot(command=stand_in, CMBOT_LANG="de")
    assert bot.running and bot.driver.healthz() == 200
    assert bot.env["SLACK_API_URL"] == fake_slack.url
    assert bot.env["CMBOT_DB"] == str(bot.db_path) and "SLACK_APP_TOKEN" not in bot.env
    assert fake_slack.calls_to("auth.test"), "Bolt verifies its token at startup"

    assert bot.driver.message("U1", "DU1", "one").status == 200
    assert fake_slack.wait_for("chat.postMessage").text == "one"
    assert bot.stdout_path.read_text().startswith("serving None de")

    old_driver = bot.driver
    mark = fake_slack.mark()
    bot.restart()  # on the port the new run logs: the same driver follows it
    assert bot.driver is old_driver and bot.driver.base_url == bot.url
    bot.driver.message("U1", "DU1", "two")
    assert fake_slack.wait_for("chat.postMessage", after=mark).text == "one,two"

    assert bot.kill9() == -9 and not bot.running
    bot.restart()
    assert bot.driver.healthz() == 200
    assert "stand-in started" in bot.logs() and "run 3 stderr" in bot.logs()
    assert bot.stop() is not None and not bot.running


def test_start_bot_reports_a_crash_with_its_stderr(start_bot: Any) -> None:
    crash = [sys.executable, "-c", "import sys; sys.exit('boom: missing SLACK_BOT_TOKEN')"]
    with pytest.raises(pytest.fail.Exception, match=r"(?s)exited with 1.*boom: missing"):
        start_bot(command=crash)


def test_start_bot_reports_a_hang(start_bot: Any) -> None:
    hang = [sys.executable, "-c", "import time; print('stuck', flush=True); time.sleep(60)"]
    with pytest.raises(pytest.fail.Exception, match=r"did not answer GET /healthz(.|\n)*stuck"):
        start_bot(command=hang, startup_timeout=0.5)


@pytest.mark.parametrize("bot_env", [{"CMBOT_LANG": "de", "HOME": None}], indirect=True)
def test_bot_env_can_be_parametrized(start_bot: Any, stand_in: list[str]) -> None:
    bot = start_bot(command=stand_in, wait=False)
    assert bot.env["CMBOT_LANG"] == "de" and "HOME" not in bot.env
    bot.wait_healthy()


def test_a_forked_command_holds_nothing_of_the_test_process(bot: Any, tmp_path: Path) -> None:
    """A command forked while an in-process bot listens starts, as a new process would, with
    only its standard streams: had it kept the bot's socket, a restart of the bot on the same
    port would fail while the command still ran."""
    script = tmp_path / "fds.py"
    script.write_text("import os\nprint(sorted(int(fd) for fd in os.listdir('/proc/self/fd')))\n")
    assert bot.driver.healthz() == 200
    ran = run_script(script)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [0, 1, 2, 3]  # 3: the folder listing itself
