"""Tests of the Slack test harness itself, so bot-test failures can be trusted.

Three checks matter: the fake answers the real ``slack_sdk.WebClient`` the way Slack
does, the driver's requests pass Bolt's signature check and reach the right Bolt
listeners, and the process fixture starts, restarts and kills a server correctly (shown
with a tiny stand-in Bolt app, since ``cmbot serve`` is tested elsewhere).
"""

from __future__ import annotations

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
from fakeslack import FakeSlack, iter_texts, validate_blocks
from signing import (
    BotDriver,
    checkbox_state,
    merge_states,
    select_state,
    sign,
    signature,
    slack_ts,
)
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-secret"  # what the bot fixtures configure
TS_RE = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake_slack.url)


# ---------------------------------------------------------------------- FakeSlack


def test_url_is_a_base_url_with_trailing_slash(fake_slack: FakeSlack) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", fake_slack.url)


def test_auth_test_identifies_the_bot(fake_slack: FakeSlack, client: WebClient) -> None:
    response = client.auth_test()
    assert response["user_id"] == "UBOT"
    assert response["bot_id"] == "BBOT"
    assert response["team_id"] == "T1"
    assert response["user"] == "cmbot"
    call = fake_slack.calls_to("auth.test")[0]
    assert call.headers["authorization"] == f"Bearer {TOKEN}"


def test_post_message_records_json_blocks_and_answers_with_increasing_ts(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    metadata = {"event_type": "cmbot", "event_payload": {"step": 1}}
    first = client.chat_postMessage(
        channel="C1", text="hi", blocks=blocks, metadata=metadata, thread_ts="1.000001"
    )
    second = client.chat_postMessage(channel="C1", text="again")

    assert first["ok"] and first["channel"] == "C1"
    assert TS_RE.match(first["ts"]) and float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == blocks
    assert first["message"]["thread_ts"] == "1.000001"
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.headers["content-type"].startswith("application/json")
    assert call.params["blocks"] == blocks
    assert call.params["metadata"] == metadata
    assert call.text == "hi"
    assert list(iter_texts(call.params["blocks"])) == ["*hi*"]


def test_form_encoded_json_fields_are_decoded(fake_slack: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "divider"}]
    client.api_call(
        "chat.postMessage", params={"channel": "C1", "text": "x", "blocks": json.dumps(blocks)}
    )
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert call.params["blocks"] == blocks


def test_post_to_user_id_lands_in_dm_and_update_edits_stored_message(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel="U1", text="draft")
    assert posted["channel"] == "DU1"

    updated = client.chat_update(channel="DU1", ts=posted["ts"], text="final")
    assert updated["ts"] == posted["ts"] and updated["text"] == "final"
    assert updated["message"]["text"] == "final"
    assert fake_slack.messages[("DU1", posted["ts"])]["text"] == "final"


def test_messages_without_text_or_channel_are_rejected(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as missing_text, pytest.warns(UserWarning):
        client.chat_postMessage(channel="C1")
    assert missing_text.value.response["error"] == "no_text"


def test_blocks_beyond_slack_limits_are_invalid(client: WebClient) -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "value": "v"}
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(
            channel="C1", text="t", blocks=[{"type": "actions", "elements": [button]}]
        )
    assert error.value.response["error"] == "invalid_blocks"
    assert validate_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}]) == []
    assert validate_blocks([{"type": "divider"}] * 51)


def test_ephemeral_permalink_and_unknown_methods(fake_slack: FakeSlack, client: WebClient) -> None:
    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert TS_RE.match(ephemeral["message_ts"])
    link = client.chat_getPermalink(channel="C1", message_ts="1700000000.000100")
    assert link["permalink"].endswith("/archives/C1/p1700000000000100")
    assert fake_slack.calls_to("chat.getPermalink")[0].params["channel"] == "C1"  # GET query
    assert client.reactions_add(channel="C1", timestamp="1.0", name="tada")["ok"]
    assert fake_slack.calls_to("reactions.add")[0].params["name"] == "tada"


def test_users_info_reports_locale_only_when_asked(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.user_locales["U2"] = "de-DE"
    user = client.users_info(user="U2", include_locale=True)["user"]
    assert user["id"] == "U2" and user["locale"] == "de-DE"
    assert user["name"] and user["real_name"] and user["tz"]
    assert client.users_info(user="U3", include_locale=True)["user"]["locale"] == "en-US"
    assert "locale" not in client.users_info(user="U2")["user"]


def test_conversations(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.channel_members["C9"] = ["U1", "U2"]
    assert client.conversations_open(users="U7")["channel"]["id"] == "DU7"
    members = client.conversations_members(channel="C9")
    assert members["members"] == ["U1", "U2"]
    assert members["response_metadata"]["next_cursor"] == ""
    assert client.conversations_members(channel="C0")["members"] == []
    assert client.conversations_info(channel="DU7")["channel"]["is_im"] is True
    info = client.conversations_info(channel="C9")["channel"]
    assert info["id"] == "C9" and info["is_im"] is False


def test_views_open_update_publish(fake_slack: FakeSlack, client: WebClient) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    opened = client.views_open(trigger_id="123.456", view=modal)["view"]
    assert opened["id"].startswith("V") and opened["title"]["text"] == "Hi"
    updated = client.views_update(view_id=opened["id"], view={**modal, "callback_id": "cb"})
    assert updated["view"]["id"] == opened["id"]
    assert fake_slack.views[opened["id"]]["callback_id"] == "cb"

    home = {"type": "home", "blocks": [{"type": "divider"}]}
    published = client.views_publish(user_id="U1", view=home)["view"]
    assert fake_slack.home_views["U1"]["id"] == published["id"]
    assert fake_slack.calls_to("views.publish")[0].params["view"] == home

    with pytest.raises(SlackApiError):
        client.views_open(
            trigger_id="1", view={**modal, "title": {"type": "plain_text", "text": "x" * 25}}
        )


def test_files_upload_v2_end_to_end(fake_slack: FakeSlack, client: WebClient) -> None:
    response = client.files_upload_v2(
        channel="C1", content="a,b\n1,2\n", filename="plan.csv", title="Plan", thread_ts="1.2"
    )
    file_id = response["file"]["id"]
    assert response["file"]["title"] == "Plan"
    upload = fake_slack.wait_for("upload")
    assert upload.params == {"file_id": file_id, "content": b"a,b\n1,2\n"}
    complete = fake_slack.calls_to("files.completeUploadExternal")[0]
    assert complete.params["files"] == [{"id": file_id, "title": "Plan"}]
    assert complete.params["channel_id"] == "C1"
    stored = fake_slack.files[file_id]
    assert stored["content"] == b"a,b\n1,2\n" and stored["thread_ts"] == "1.2"
    assert [c.method for c in fake_slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


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


def test_slack_ts_is_unique_and_slack_shaped() -> None:
    stamps = [slack_ts() for _ in range(1000)]
    assert len(set(stamps)) == 1000 and all(TS_RE.match(s) for s in stamps)


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
        def on_message(body: dict, request: BoltRequest, say: Any) -> None:
            seen.append(("message", body, request.headers))
            say(text=f"echo {body['event']['text']}")

        @app.event("app_mention")
        def on_mention(body: dict, request: BoltRequest) -> None:
            seen.append(("app_mention", body, request.headers))

        @app.event("app_home_opened")
        def on_home(body: dict, request: BoltRequest) -> None:
            seen.append(("app_home_opened", body, request.headers))

        @app.command("/cmbot")
        def on_command(ack: Any, body: dict, respond: Any, request: BoltRequest) -> None:
            ack()
            seen.append(("command", body, request.headers))
            respond(text=f"you said {body['text']}")

        @app.action(re.compile(".*"))
        def on_action(ack: Any, body: dict, request: BoltRequest) -> None:
            ack()
            seen.append(("action", body, request.headers))

        @app.view("plan_modal")
        def on_view(ack: Any, body: dict, request: BoltRequest) -> None:
            ack()
            seen.append(("view", body, request.headers))

        @app.shortcut("open_cmbot")
        def on_shortcut(ack: Any, body: dict, request: BoltRequest) -> None:
            ack()
            seen.append(("shortcut", body, request.headers))

    def last(self, kind: str) -> dict[str, Any]:
        matching = [body for k, body, _ in self.seen if k == kind]
        assert matching, f"no {kind} reached Bolt; seen: {[k for k, _, _ in self.seen]}"
        return matching[-1]


@pytest.fixture
def bolt(fake_slack: FakeSlack) -> Iterator[_BoltHarness]:
    harness = _BoltHarness(fake_slack)
    yield harness
    harness.server.shutdown()
    harness.server.server_close()


@pytest.fixture
def driver(bolt: _BoltHarness, fake_slack: FakeSlack) -> BotDriver:
    return BotDriver(bolt.url, SIGNING_SECRET, fake_slack.url)


def test_message_events_reach_bolt_and_replies_reach_the_fake(
    bolt: _BoltHarness, driver: BotDriver, fake_slack: FakeSlack
) -> None:
    assert driver.message("U1", "DU1", "hello").status == 200
    event = bolt.last("message")["event"]
    assert event["channel_type"] == "im" and event["user"] == "U1"
    assert TS_RE.match(event["ts"]) and event["event_ts"] == event["ts"]
    reply = fake_slack.wait_for("chat.postMessage")
    assert reply.params["channel"] == "DU1" and reply.text == "echo hello"

    driver.message("U1", "C1", "in thread", thread_ts=event["ts"])
    threaded = bolt.last("message")["event"]
    assert threaded["channel_type"] == "channel" and threaded["thread_ts"] == event["ts"]


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


def test_mention_and_home_events(bolt: _BoltHarness, driver: BotDriver) -> None:
    driver.app_mention("U1", "C1", "help")
    assert bolt.last("app_mention")["event"]["text"] == "<@UBOT> help"
    driver.app_home_opened("U1")
    home = bolt.last("app_home_opened")["event"]
    assert home["user"] == "U1" and home["tab"] == "home"


def test_command_and_respond_via_response_url(
    bolt: _BoltHarness, driver: BotDriver, fake_slack: FakeSlack
) -> None:
    assert driver.command("plan", user="U5", channel="C7").status == 200
    body = bolt.last("command")
    assert (body["command"], body["text"], body["user_id"], body["channel_id"]) == (
        "/cmbot",
        "plan",
        "U5",
        "C7",
    )
    response = fake_slack.wait_for("response")
    assert response.text == "you said plan"
    assert driver.last_response_url == f"{fake_slack.url}{response.path}"


def test_block_actions_of_every_kind(bolt: _BoltHarness, driver: BotDriver) -> None:
    driver.block_action("U1", "C1", "1700000000.000100", "approve", value="yes")
    action = bolt.last("action")["actions"][0]
    assert (action["type"], action["value"]) == ("button", "yes")

    driver.block_action("U1", "C1", "1700000000.000100", "pick", value="berlin", select=True)
    action = bolt.last("action")["actions"][0]
    assert action["type"] == "static_select"
    assert action["selected_option"]["value"] == "berlin"

    driver.block_action("U1", "C1", "1700000000.000100", "depts", selected_options=["a", "b"])
    action = bolt.last("action")["actions"][0]
    assert action["type"] == "checkboxes"
    assert [o["value"] for o in action["selected_options"]] == ["a", "b"]

    state = merge_states(
        checkbox_state("departments", "dept_pick", ["sales"]),
        select_state("city", "city_pick", "berlin"),
    )
    driver.block_action(
        "U1",
        "C1",
        "1700000000.000100",
        "cmbot_submit",
        value="go",
        state_values=state,
        thread_ts="1699999999.000100",
    )
    body = bolt.last("action")
    values = body["state"]["values"]
    assert values["departments"]["dept_pick"]["selected_options"][0]["value"] == "sales"
    assert values["city"]["city_pick"]["selected_option"]["value"] == "berlin"
    assert body["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C1",
        "is_ephemeral": False,
        "thread_ts": "1699999999.000100",
    }
    assert body["message"]["thread_ts"] == "1699999999.000100"
    assert body["user"]["id"] == "U1" and body["channel"]["id"] == "C1"


def test_block_action_from_home_tab_view(bolt: _BoltHarness, driver: BotDriver) -> None:
    view = {"id": "V1", "type": "home", "blocks": []}
    driver.block_action("U1", None, None, "restart", value="r", container_kind="view", view=view)
    body = bolt.last("action")
    assert body["container"] == {"type": "view", "view_id": "V1"}
    assert body["view"]["id"] == "V1" and "message" not in body


def test_view_submission_and_shortcut(bolt: _BoltHarness, driver: BotDriver) -> None:
    state = select_state("role", "role_pick", "lead")
    driver.view_submission("U1", "plan_modal", state_values=state, private_metadata="C1")
    view = bolt.last("view")["view"]
    assert view["state"]["values"]["role"]["role_pick"]["selected_option"]["value"] == "lead"
    assert view["private_metadata"] == "C1"

    driver.shortcut("open_cmbot", user="U3")
    assert bolt.last("shortcut")["user"]["id"] == "U3"


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
print("stand-in started", file=sys.stderr, flush=True)
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
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

    old_driver, old_port = bot.driver, bot.port
    mark = fake_slack.mark()
    bot.restart()
    assert bot.port == old_port and bot.driver is old_driver
    bot.driver.message("U1", "DU1", "two")
    assert fake_slack.wait_for("chat.postMessage", after=mark).text == "one,two"

    assert bot.kill9() == -9 and not bot.running
    bot.restart(new_port=True)
    assert bot.port != old_port and bot.driver.healthz() == 200
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
