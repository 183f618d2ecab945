"""What real Slack does to a bot, from a fake that misbehaves on demand: rate limits with
`Retry-After`, server errors, refusals, a Web API that does not answer, hostile requests, a bot
killed at the worst moment. Every case is driven over signed HTTP against `cmbot serve`."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from pathlib import Path

import pytest
from commandline import run
from conftest import STARTUP_CHECKED, bot_environment, refusing_port
from interview_steps import ARTICLE, click, submit, wait_question
from test_dm_interview import run_interview

USER, DM, CHANNEL = "U1", "D1", "C1"


def question_posts(fake, state: str, after: int = 0) -> list:
    return [c for c in fake.calls_to("chat.postMessage", after)
            if any(b.get("block_id") == state for b in c.params.get("blocks") or [])]


def assert_clean_logs(bot) -> None:
    logs = bot.logs()
    assert "Traceback" not in logs and "listener failed" not in logs, logs[-3000:]


def test_a_rate_limited_question_is_posted_once_slack_allows_it(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    fake.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    mark = fake.mark()
    click(driver, USER, first, "org_size", "medium")
    refused = fake.wait_for("chat.postMessage", lambda c: c.response.get("error") == "ratelimited",
                            after=mark)
    posted = fake.wait_for("chat.postMessage", lambda c: c.response.get("ok") and any(
        b.get("block_id") == "departments" for b in c.params.get("blocks") or []), after=mark)
    assert posted.time - refused.time >= 0.9  # Retry-After was honoured
    assert len(question_posts(fake, "departments", mark)) == 2  # the refused one, then the real one
    # and the answered question is tidied only after the next one is on screen
    tidy = fake.wait_for("chat.update", lambda c: c.params["ts"] == first.response["ts"], after=mark)
    assert tidy.time >= posted.time
    assert_clean_logs(bot)


QUICK_RETRIES = {"CMBOT_RETRY_BACKOFF": "0.02s"}  # server errors retried at once (the fake's 503s)


@pytest.mark.parametrize("bot_env", [QUICK_RETRIES], indirect=True)
def test_server_errors_and_a_rate_limited_update_are_retried(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    fake.fail_next("chat.postMessage", "internal_error", status=503)
    fake.fail_next("chat.update", "ratelimited", retry_after=0)  # retried at once (+ jitter)
    mark = fake.mark()
    click(driver, USER, first, "org_size", "medium")
    wait_question(fake, "departments", after=mark)
    fake.wait_for("chat.update", lambda c: c.params["ts"] == first.response["ts"]
                  and c.response.get("ok"), after=mark, timeout=10)  # no live stale buttons


def test_a_refused_question_is_told_privately_and_shown_again_on_the_next_message(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    fake.fail_next("chat.postMessage", "fatal_error")  # not retryable
    mark = fake.mark()
    click(driver, USER, first, "org_size", "medium")
    told = fake.wait_for("chat.postEphemeral", after=mark)
    assert told.params["user"] == USER and "fatal_error" in told.text and "start" in told.text
    mark = fake.mark()
    driver.message(USER, DM, "start")  # what the message said to do
    again = wait_question(fake, "departments", after=mark)
    rest = {k: v for k, v in ARTICLE.items() if k not in ("org_size", "departments")}
    submit(driver, USER, again, "departments", ARTICLE["departments"])
    result = run_interview(bot, rest, after=mark)  # and the interview goes on from there
    assert result.params["metadata"]["event_payload"]["consultation_id"]
    assert_clean_logs(bot)


def test_slack_gets_its_answer_while_the_web_api_is_still_busy(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    fake.hold("chat.postMessage")
    try:
        mark = fake.mark()
        click(driver, USER, first, "org_size", "medium")  # returns with its HTTP 200 ...
        deadline = time.monotonic() + 5
        while fake.waiting("chat.postMessage") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake.waiting("chat.postMessage") == 1  # ... while the next question is in flight
        assert question_posts(fake, "departments", mark) == []
        second = driver.message(USER, DM, "hello")  # the same interview: waits its turn
        assert second.status == 200
    finally:
        fake.release("chat.postMessage")
    wait_question(fake, "departments", after=mark)
    hint = fake.wait_for("chat.postMessage", lambda c: "buttons" in c.text, after=mark)
    departments = question_posts(fake, "departments", mark)[0]
    assert departments.time <= hint.time  # one interview's steps in the order they came


def test_failing_web_api_calls_never_become_a_500(bot):
    fake, driver = bot.fake, bot.driver
    fake.fail_next("views.publish", "invalid_auth")
    assert driver.app_home_opened(USER).status == 200
    fake.wait_for("views.publish", lambda c: c.response.get("error") == "invalid_auth")
    fake.fail_next("conversations.open", "missing_scope", needed="im:write")
    reply = driver.block_action(USER, None, None, "cmbot_home_start", value="start",
                                block_id="cmbot_home", container_kind="view",
                                view={"id": "V1", "type": "home", "blocks": []})
    assert reply.status == 200
    fake.wait_for("conversations.open", lambda c: c.response.get("error") == "missing_scope")
    told = fake.wait_for("chat.postMessage", lambda c: "could not open a direct message" in c.text)
    assert told.params["channel"] == "DU1"  # said privately once Slack let it through
    fake.fail_next("views.open", "expired_trigger_id")
    assert driver.shortcut("cmbot_start").status == 200
    fake.wait_for("views.open", lambda c: c.response.get("error") == "expired_trigger_id")
    fake.wait_for("chat.postMessage", lambda c: "did not open in time" in c.text)
    fake.fail_next("chat.postMessage", "not_in_channel")
    assert driver.app_mention(USER, CHANNEL, "<@UBOT> start").status == 200
    told = fake.wait_for("chat.postEphemeral", lambda c: "Invite me" in c.text)
    assert told.params["user"] == USER
    assert driver.healthz() == 200
    assert_clean_logs(bot)


def test_an_archived_channel_is_named_not_asked_for_an_invite(bot):
    fake, driver = bot.fake, bot.driver
    fake.fail_next("chat.postMessage", "is_archived")
    mark = fake.mark()
    assert driver.command("start", user=USER, channel=CHANNEL).status == 200
    told = fake.wait_for("response", after=mark)
    assert "archived" in told.text and "Invite" not in told.text


def test_a_dm_between_two_people_moves_the_interview_to_the_bots_dm(bot):
    fake, driver = bot.fake, bot.driver
    mark = fake.mark()
    assert driver.command("start", user=USER, channel="D_PEOPLE").status == 200
    moved = fake.wait_for("response", after=mark)
    assert "direct messages" in moved.text
    question = wait_question(fake, "org_size", after=mark)
    assert question.params["channel"] == "DU1"  # the app's own DM with U1


@pytest.mark.serve_process
def test_a_retry_after_a_restart_is_still_handled_once(bot):
    fake, driver = bot.fake, bot.driver
    body = json.dumps({"type": "event_callback", "event_id": "EvOnce", "team_id": "T1",
                       "api_app_id": "A1", "event": {
                           "type": "message", "user": USER, "channel": DM, "channel_type": "im",
                           "text": "start", "ts": "1712345678.000100"}})
    assert driver.post(body).status == 200
    wait_question(fake, "org_size")
    bot.kill9()
    bot.restart()
    mark = fake.mark()
    assert driver.post(body, headers={"X-Slack-Retry-Num": "1",
                                      "X-Slack-Retry-Reason": "http_timeout"}).status == 200
    hint = answered_in_turn(bot)  # the retry, had it been handled, would have been by now
    assert [c for c in fake.calls_to("chat.postMessage", mark) if c is not hint] == []


def answered_in_turn(bot, user: str = USER, channel: str = DM):
    """A new message in the interview's DM, and the bot's answer to it (a hint to use the
    buttons): one interview's steps run in the order they came, so whatever the requests sent
    before it made the bot do is done once this answer arrives."""
    mark = bot.fake.mark()
    assert bot.driver.message(user, channel, "hello").status == 200
    return bot.fake.wait_for("chat.postMessage", lambda c: "buttons" in c.text, after=mark)


@pytest.mark.serve_process
def test_a_question_never_posted_before_a_crash_is_posted_once_at_start_up(bot):
    fake, driver = bot.fake, bot.driver
    driver.app_mention(USER, CHANNEL, "<@UBOT> start")
    first = wait_question(fake, "org_size")
    fake.fail_next("chat.postMessage", "fatal_error")
    mark = fake.mark()
    click(driver, USER, first, "org_size", "large")
    fake.wait_for("chat.postEphemeral", after=mark)  # saved, not shown
    bot.kill9()
    bot.restart()
    shown = wait_question(fake, "departments", after=mark, channel=CHANNEL)
    assert shown.params["thread_ts"] == first.params["thread_ts"]
    bot.restart()  # a second start-up finds it on screen: nothing posted twice
    bot.wait_for_log(STARTUP_CHECKED)
    assert len([c for c in question_posts(fake, "departments", mark) if c.response.get("ok")]) == 1


@pytest.mark.serve_process
def test_hostile_requests_are_cheap_and_never_logged(bot):
    driver = bot.driver
    assert refused_before_the_body(bot.port) == 413
    assert driver.post('{"secret-marker-123": 1}', signed=False).status == 401
    assert driver.post('{"type": "event_callback"}', headers={
        "X-Slack-Request-Timestamp": "not-a-number"}).status == 401
    for payload in ({"type": "event_callback", "event": "a string"},
                    {"type": "event_callback", "event": {"type": "message", "user": ["U1"]}},
                    {"type": "shortcut", "callback_id": "cmbot_start", "user": {"id": USER}}):
        assert driver.post(json.dumps(payload)).status == 400
    page = driver.block_action(USER, DM, "1712345678.000100", "cmbot_history_more",
                               value="9" * 5000, block_id="cmbot_history")
    assert page.status == 200
    assert driver.healthz() == 200
    bot.stop()
    logs = bot.logs()
    assert "secret-marker-123" not in logs and "AAAA" not in logs and "Traceback" not in logs


def refused_before_the_body(port: int) -> int:
    """Announce a 200 MB body, send its first bytes only, and read the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(200 << 20))
    connection.endheaders()
    connection.send(b'{"type": "event_callback", "marker": "' + b"A" * 4096)
    status = connection.getresponse().status
    connection.close()
    return status


def run_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(["serve", "--http", "--port", "0"], env=env, cwd=Path.cwd())


def test_serve_names_a_refused_token_or_an_unreachable_slack_in_one_line(fake_slack, tmp_path):
    for error, words in (("invalid_auth", "not a valid token"), ("token_revoked", "revoked")):
        fake_slack.fail_next("auth.test", error)
        result = run_serve(bot_environment(fake_slack, tmp_path / "db.json"))
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    with refusing_port() as port:
        env = bot_environment(fake_slack, tmp_path / "db.json",  # tried twice, the second at once
                              {"SLACK_API_URL": f"http://127.0.0.1:{port}/", **QUICK_RETRIES})
        result = run_serve(env)
    assert result.returncode == 2 and "cannot reach Slack" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "will be unused" not in result.stderr


@pytest.mark.serve_process
def test_a_failed_save_shows_nothing_as_accepted_and_works_again_once_the_disk_does(bot):
    """A full disk, made real: the running bot's file-size limit drops to one byte, so every
    write of the storage fails with EFBIG (Python ignores SIGXFSZ)."""
    import resource

    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    answered_in_turn(bot)  # the start step, which notes the question after posting it, is over
    assert bot.proc is not None
    unlimited = resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE, (1, unlimited[1]))
    try:
        mark = fake.mark()
        click(driver, USER, first, "org_size", "medium")
        told = fake.wait_for("chat.postEphemeral", after=mark)
        assert told.params["user"] == USER and "could not save" in told.text
        again = fake.mark()  # the same click in the same interview: its turn comes after the
        click(driver, USER, first, "org_size", "medium")  # first's, which is then over
        fake.wait_for("chat.postEphemeral", lambda c: "could not save" in c.text, after=again)
        assert question_posts(fake, "departments", mark) == []  # nothing half-done is posted
        assert not [c for c in fake.calls_to("chat.update", mark)
                    if c.params["ts"] == first.response["ts"]]  # the buttons stay live
    finally:
        resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE, unlimited)
    mark = fake.mark()
    click(driver, USER, first, "org_size", "medium")  # the same click, once the disk works
    wait_question(fake, "departments", after=mark)
    assert "Traceback" not in bot.logs()


@pytest.mark.parametrize("bot_env", [QUICK_RETRIES], indirect=True)
def test_replies_through_a_response_url_are_retried_like_web_api_calls(bot):
    fake, driver = bot.fake, bot.driver
    fake.fail_next("response", "ratelimited", retry_after=1)
    fake.fail_next("response", "internal_error", status=503)
    mark = fake.mark()
    assert driver.command("help", user=USER, channel=DM).status == 200
    answered = fake.wait_for("response", lambda c: c.response.get("ok"), after=mark, timeout=10)
    tries = fake.calls_to("response", mark)
    assert [c.response.get("error") for c in tries] == ["ratelimited", "internal_error", None]
    assert tries[1].time - tries[0].time >= 0.9  # Retry-After was honoured
    assert "/cmbot start" in answered.text
    assert_clean_logs(bot)


def test_an_expired_response_url_is_replaced_by_an_ephemeral_message(bot):
    fake, driver = bot.fake, bot.driver
    fake.fail_next("response", "expired_url", status=404)
    mark = fake.mark()
    assert driver.command("start nosuchflow", user=USER, channel=CHANNEL).status == 200
    told = fake.wait_for("chat.postEphemeral", after=mark)
    assert told.params["user"] == USER and told.params["channel"] == CHANNEL
    assert "nosuchflow" in told.text and "community_manager" in told.text
    assert [c.response.get("error") for c in fake.calls_to("response", mark)] == ["expired_url"]
