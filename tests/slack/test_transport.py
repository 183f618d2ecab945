"""The bot's Web API client keeps its connection open, and still behaves as slack_sdk's:
answers, Slack's errors, rate limits waited out, and a connection the server closed replaced
before a request is sent on it. Against the fake Slack Web API over real sockets."""

from __future__ import annotations

import threading

import pytest
from slack_sdk.errors import SlackApiError

from cmbot.slack.app import resilient
from cmbot.slack.transport import KeepAliveClient


@pytest.fixture
def client(fake_slack):
    return resilient(KeepAliveClient(token="xoxb-test-token", base_url=fake_slack.url))


def test_calls_from_one_thread_share_one_connection(fake_slack, client):
    before = fake_slack.connections
    posted = [client.chat_postMessage(channel="D1", text=f"question {i}") for i in range(5)]
    assert [p["ok"] for p in posted] == [True] * 5
    assert len({p["ts"] for p in posted}) == 5
    assert [c.text for c in fake_slack.calls_to("chat.postMessage")] == [f"question {i}" for i in range(5)]
    assert fake_slack.connections - before == 1


def test_each_thread_has_its_own_connection(fake_slack, client):
    def post(n: int) -> None:
        for i in range(3):
            client.chat_postMessage(channel=f"D{n}", text=str(i))
    threads = [threading.Thread(target=post, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake_slack.calls_to("chat.postMessage")) == 9
    assert fake_slack.connections == 3


def test_a_connection_the_server_closed_is_replaced_before_use(fake_slack, client):
    client.chat_postMessage(channel="D1", text="first")
    fake_slack.drop_connections()
    assert client.chat_postMessage(channel="D1", text="second")["ok"]
    assert [c.text for c in fake_slack.calls_to("chat.postMessage")] == ["first", "second"]
    assert fake_slack.connections == 2


def test_slack_errors_and_rate_limits_are_slack_sdks(fake_slack, client):
    fake_slack.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C404", text="x")
    assert refused.value.response["error"] == "channel_not_found"
    fake_slack.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    assert client.chat_postMessage(channel="D1", text="after the limit")["ok"]
    tries = fake_slack.calls_to("chat.postMessage")
    assert [c.text for c in tries[-2:]] == ["after the limit"] * 2  # waited out, then sent again
    assert tries[-1].time - tries[-2].time >= 0.9
    assert fake_slack.connections == 1


def test_server_errors_are_retried_after_the_backoff_set(fake_slack):
    client = resilient(KeepAliveClient(token="xoxb-test-token", base_url=fake_slack.url), backoff=0.1)
    fake_slack.fail_next("chat.postMessage", "internal_error", status=503, times=2)
    assert client.chat_postMessage(channel="D1", text="after two failures")["ok"]
    tries = fake_slack.calls_to("chat.postMessage")
    assert [c.response.get("error") for c in tries] == ["internal_error", "internal_error", None]
    assert tries[1].time - tries[0].time >= 0.1 and tries[2].time - tries[1].time >= 0.2  # doubled


def test_an_unreachable_slack_raises_as_urllib_would(client):
    from cmbot.slack.courier import Failure

    client.base_url = "http://127.0.0.1:9/"  # discard port: nothing listens
    client.retry_handlers = []
    with pytest.raises(Failure):
        client.chat_postMessage(channel="D1", text="x")
