"""How cmbot talks to Slack over HTTP: a `WebClient` that keeps its connections open between
calls, and `respond()` through a response URL with the same retries as Web API calls.

slack_sdk's `WebClient` sends every call through `urllib.request.urlopen`, which opens a new
connection (and, against slack.com, a new TLS handshake) per call and closes it after. A turn
of an interview makes two or three calls, so that set-up is a large share of the bot's own
latency. This client sends the same requests over one persistent `http.client` connection per
thread and host (HTTP/1.1 keep-alive, as Slack's servers allow); everything around the send —
the retry handlers for rate limits, server and connection errors, the parsing, the errors
raised — is slack_sdk's own, because only the innermost send is replaced. A connection the
server has closed meanwhile is noticed before it is reused and replaced, so no request is ever
sent on a dead connection; anything else that goes wrong is raised as urllib would have.

Bolt's `respond()` sends to a response URL with a `WebhookClient` that has no retry handlers
and returns a failure rather than raising it: a rate limit or a server error there lost the
answer to a slash command. `RetryingRespond` waits out rate limits and retries server and
connection errors like the Web API client, and raises what still fails, so a caller can say it
another way (the courier then posts the message ephemerally).
"""

from __future__ import annotations

import http.client
import random
import select
import socket
import threading
from email.message import Message
from io import BytesIO
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.webhook import WebhookClient, WebhookResponse

_local = threading.local()  # per thread: {(scheme, host, port): connection}


def _pool() -> dict[tuple[str, str, int], http.client.HTTPConnection]:
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    return pool


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """An idle connection whose socket is readable was closed by the server (or is out of
    step with it): it must not carry a request."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _NoDelay:
    """Requests go out at once (TCP_NODELAY): on a kept-alive connection, Nagle's algorithm
    would hold a small request back until the previous answer's delayed ACK, 40 ms later."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        if self.sock is not None:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _HTTP(_NoDelay, http.client.HTTPConnection):
    pass


class _HTTPS(_NoDelay, http.client.HTTPSConnection):
    pass


class KeepAliveClient(WebClient):
    """`WebClient` with persistent connections (see the module's docstring)."""

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        connection = self._connection(parts.scheme, parts.hostname or "", parts.port)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {**req.headers, **req.unredirected_hdrs}
        try:
            connection.request(req.get_method(), path or "/", body=req.data, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            self._drop(connection)
            raise
        if response.will_close:
            self._drop(connection)
        if response.status >= 400:  # as urlopen: the retry handlers expect an HTTPError
            raise HTTPError(url, response.status, response.reason, response.headers, BytesIO(body))
        return self._result(response, body)

    @staticmethod
    def _result(response: http.client.HTTPResponse, body: bytes) -> dict[str, Any]:
        headers: Message = response.headers
        if headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": headers, "body": body}
        charset = headers.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": headers, "body": body.decode(charset)}

    def _connection(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        key = (scheme, host, port or (443 if scheme == "https" else 80))
        pool = _pool()
        connection = pool.get(key)
        if connection is not None and (connection.timeout != self.timeout
                                       or _closed_by_peer(connection)):
            self._drop(connection)
            connection = None
        if connection is None:
            if scheme == "https":
                connection = _HTTPS(host, port, timeout=self.timeout, context=self.ssl)
            else:
                connection = _HTTP(host, port, timeout=self.timeout)
            pool[key] = connection
        return connection

    @staticmethod
    def _drop(connection: http.client.HTTPConnection) -> None:
        connection.close()
        pool = _pool()
        for key, held in list(pool.items()):
            if held is connection:
                del pool[key]


class ScaledJitter(Jitter):
    """slack_sdk's random jitter, scaled with the backoff it is added to: up to twice the
    backoff factor (at slack_sdk's default factor, 0.5 s, its own jitter of up to a second)."""

    def __init__(self, backoff: float):
        self.spread = 2 * backoff

    def recalculate(self, duration: float) -> float:
        return duration + random.random() * self.spread


class ResponseUrlFailed(Exception):
    """A response URL refused the message, or kept failing after the retries."""

    def __init__(self, status: int, body: str):
        super().__init__(f"response_url answered {status}: {body[:80]}")
        self.status, self.body = status, body


class RetryingRespond(Respond):
    """Bolt's `respond()` with retry handlers; raises `ResponseUrlFailed` when the message was
    not taken (an expired or used URL, or failures beyond the retries)."""

    def __init__(self, *, response_url: str | None, retry_handlers: list[RetryHandler]):
        super().__init__(response_url=response_url)
        self.retry_handlers = retry_handlers

    def __call__(self, text: str | dict = "", blocks: Any = None, attachments: Any = None,  # type: ignore[override]
                 response_type: str | None = None, replace_original: bool | None = None,
                 delete_original: bool | None = None, **more: Any) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        message = dict(text) if isinstance(text, dict) else {
            "text": text, "blocks": blocks, "attachments": attachments,
            "response_type": response_type, "replace_original": replace_original,
            "delete_original": delete_original, **more}
        client = WebhookClient(url=self.response_url, retry_handlers=list(self.retry_handlers))
        response = client.send_dict({k: v for k, v in message.items() if v is not None})
        if response.status_code != 200:
            raise ResponseUrlFailed(response.status_code, response.body)
        return response
