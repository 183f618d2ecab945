"""Socket Mode end to end, one bot on the TinyDB files: `cmbot serve` with `SLACK_APP_TOKEN`
connects its real Socket Mode client to the fake (`fakesocket`), and a whole interview arrives as
envelopes; each is acknowledged at once, and the work runs in the interview's lane after."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from conftest import CMBOT_EXE
from fakesocket import SocketDriver, SocketMode
from interview_steps import ARTICLE, click, wait_question
from test_dm_interview import run_interview

USER, DM = "U1", "D1"


@pytest.fixture
def socket_bot(start_bot, fake_slack):
    hub = SocketMode(fake_slack)
    bot = start_bot(command=[str(CMBOT_EXE), "serve"], wait=False, SLACK_APP_TOKEN="xapp-1-A1-test")
    connection = hub.wait_connections(1)[0]
    return SimpleNamespace(fake=fake_slack, driver=SocketDriver(hub, connection, fake_slack.url),
                           logs=bot.logs, connection=connection)


def test_a_whole_interview_runs_over_socket_mode(socket_bot):
    fake = socket_bot.fake
    socket_bot.driver.message(USER, DM, "start")
    result = run_interview(socket_bot, ARTICLE)
    assert result.params["metadata"]["event_type"] == "cmbot_recommendation"
    assert result.params["metadata"]["event_payload"]["placement"] == "management"  # as over HTTP
    assert fake.find("apps.connections.open") is not None
    assert len(socket_bot.connection.acks) >= len(ARTICLE) + 2  # every envelope acknowledged
    assert "Traceback" not in socket_bot.logs()


def test_socket_mode_acknowledges_before_a_slow_web_api_answers(socket_bot):
    fake, driver = socket_bot.fake, socket_bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    fake.hold("chat.postMessage")  # the Web API answers nothing until released
    try:
        mark = fake.mark()
        click(driver, USER, first, "org_size", "medium")  # returns once the envelope is acknowledged
        deadline = time.monotonic() + 5
        while fake.waiting("chat.postMessage") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake.waiting("chat.postMessage") == 1  # ... while the next question is in flight
        assert fake.calls_to("chat.postMessage", mark) == []
    finally:
        fake.release("chat.postMessage")
    wait_question(fake, "departments", after=mark)
