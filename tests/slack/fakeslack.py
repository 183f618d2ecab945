"""A small fake of the Slack Web API for end-to-end tests.

The bot under test talks to Slack only through ``slack_sdk.WebClient``; pointing its
``base_url`` (env ``SLACK_API_URL``) at :class:`FakeSlack` lets tests run the real bot
process without network access and assert on exactly what it sent to Slack.

The fake answers the methods cmbot uses the way Slack does (same response shapes, same
error envelope), records every request as a :class:`Call`, and checks Block Kit payloads
against Slack's documented size limits so that a message Slack would reject with
``invalid_blocks`` is rejected here too.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Call",
    "FakeSlack",
    "validate_blocks",
    "validate_view",
]

TEAM_ID = "T1"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A1"

#: Parameters that slack_sdk form-encodes as JSON strings; decoded so tests see objects.
JSON_FIELDS = frozenset(
    {"blocks", "attachments", "metadata", "view", "files", "unfurls", "user_auth_blocks"}
)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``params`` merges the query string and the body (form or JSON) with JSON-string
    fields already decoded; header names are lower-cased so lookups don't depend on
    the client's spelling.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    time: float
    path: str = ""
    response: dict[str, Any] = field(default_factory=dict)  # what the fake answered

    def get(self, key: str, default: Any = None) -> Any:
        """Shortcut for ``call.params.get(key)``."""
        return self.params.get(key, default)

    @property
    def text(self) -> str:
        """The ``text`` parameter, or ``""`` — the most common thing tests look at."""
        return str(self.params.get("text") or "")

    @property
    def token(self) -> str | None:
        """The token the call was made with (``Authorization: Bearer …``, else ``token=``)."""
        bearer = self.headers.get("authorization", "")
        if bearer.startswith("Bearer "):
            return bearer[len("Bearer "):]
        found = self.params.get("token")
        return str(found) if found else None


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None
    extra: dict[str, Any] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.open_connections: set[Any] = set()
        super().__init__(("127.0.0.1", 0), _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A bot stopped or killed with a kept-alive connection open is no error of the fake's."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as Slack's servers: every answer has a length
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake.connections += 1
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.open_connections.discard(self.connection)
        super().finish()

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        websocket = self.server.fake.websocket
        if websocket is not None and self.headers.get("Upgrade", "").lower() == "websocket":
            self.close_connection = True
            websocket(self)  # a Socket Mode connection (see `fakesocket`), served until it closes
            return
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request log would drown pytest's output."""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.fake._wait_if_held(urlsplit(self.path).path.strip("/"))
        if self.server.fake.delay:
            time.sleep(self.server.fake.delay)
        try:
            status, body, extra_headers = self.server.fake._dispatch(
                parts.path, parts.query, raw, headers
            )
        except Exception as exc:  # pragma: no cover - only on harness bugs
            self.server.fake.errors.append(exc)
            status, body, extra_headers = 500, {"ok": False, "error": "fake_error"}, {}
        if isinstance(body, dict):
            data = json.dumps(body).encode()
            ctype = "application/json; charset=utf-8"
        else:
            data = body.encode() if isinstance(body, str) else body
            ctype = "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra_headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _is_true(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _decode_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """Parse a request body the way Slack does: JSON or form, anything else kept raw."""
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        decoded = json.loads(raw.decode("utf-8"))
        return decoded if isinstance(decoded, dict) else {"_json": decoded}
    if content_type.startswith("application/x-www-form-urlencoded") or not content_type:
        return _flatten(parse_qs(raw.decode("utf-8"), keep_blank_values=True))
    return {"_raw": raw}


def _flatten(qs: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in qs.items()}


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


class FakeSlack:
    """A threaded HTTP server that imitates ``https://slack.com/api/``.

    Use as a context manager (or ``start()``/``stop()``). Knobs tests may set:

    * ``user_locales`` / ``users``: what ``users.info`` reports per user id;
    * ``channel_members``: what ``conversations.members`` reports per channel;
    * ``strict_blocks``: reject Block Kit payloads that break Slack's limits (default on);
    * :meth:`fail_next` and :meth:`on` to script errors or custom answers.

    State the fake keeps like Slack would: ``messages`` (``(channel, ts)`` → latest
    message), ``views`` (view id → view), ``home_views`` (user id → published home view)
    and ``files`` (file id → uploaded file).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)  # notified at every recorded call
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._handlers: dict[str, Handler] = {}
        self._counter = 0
        self._held: dict[str, threading.Event] = {}
        self.delay = 0.0  # seconds every answer waits (a slow Web API)
        self.connections = 0  # TCP connections accepted so far
        self._waiting: dict[str, int] = {}
        self._last_ts = 0  # microseconds of the last message ts handed out
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []
        self.user_locales: dict[str, str] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channel_members: dict[str, list[str]] = {}
        self.dms: dict[str, str] = {}  # user -> the id of their DM with the app (default D<user>)
        self.strict_blocks = True
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.websocket: Callable[[Any], None] | None = None  # set by `fakesocket.SocketMode`
        # OAuth (an app installed in many workspaces): once a workspace is installed, every
        # Web API call must carry the bot token of an installed workspace.
        self.client_id, self.client_secret = "111.222", "fake-client-secret"
        self.codes: dict[str, dict[str, Any]] = {}  # one-time install codes -> install
        self.tokens: dict[str, str] = {}  # live bot token -> its workspace's team id
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> team id
        self.revoked: set[str] = set()
        self._token: str | None = None  # the token of the call being answered
        self._headers: dict[str, str] = {}
        self.bots: list[Any] = []  # the bots that call this fake (see `settle`)

    # ------------------------------------------------------------------ OAuth

    def install_code(self, team: str, *, installer: str = "U1", rotation: bool = False,
                     expires_in: int = 43_200) -> str:
        """A code Slack would hand to the app's redirect URL once `installer` approved the
        install in `team` (with `rotation`, the token expires and comes with a refresh token)."""
        with self._lock:
            code = f"code-{team}-{self._next()}"
            self.codes[code] = {"team": team, "installer": installer, "rotation": rotation,
                                "expires_in": expires_in}
            return code

    def uninstall(self, team: str) -> None:
        """The workspace removed the app: its tokens stop working."""
        with self._lock:
            for token in [t for t, owner in self.tokens.items() if owner == team]:
                del self.tokens[token]
                self.revoked.add(token)

    def tokens_of(self, team: str) -> list[str]:
        with self._lock:
            return [t for t, owner in self.tokens.items() if owner == team]

    def _issue(self, team: str, rotation: bool, expires_in: int) -> dict[str, Any]:
        n = self._next()
        token = f"xoxb-{team}-{n}" if not rotation else f"xoxe.xoxb-1-{team}-{n}"
        self.tokens[token] = team
        answer: dict[str, Any] = {"access_token": token}
        if rotation:
            refresh = f"xoxe-1-{team}-{n}"
            self.refresh_tokens[refresh] = team
            answer |= {"refresh_token": refresh, "expires_in": expires_in}
        return answer

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._client_credentials(params) != (self.client_id, self.client_secret):
            return self._error("invalid_client_id")
        if params.get("grant_type") == "refresh_token":
            team = self.refresh_tokens.pop(str(params.get("refresh_token")), None)
            if team is None:
                return self._error("invalid_refresh_token")
            return {"ok": True, "token_type": "bot", "app_id": APP_ID, "team": {"id": team},
                    "enterprise": None, "is_enterprise_install": False,
                    **self._issue(team, True, 43_200)}
        install = self.codes.pop(str(params.get("code")), None)
        if install is None:
            return self._error("invalid_code")
        return {"ok": True, "app_id": APP_ID, "authed_user": {"id": install["installer"]},
                "scope": "chat:write,commands,im:history", "token_type": "bot",
                "bot_user_id": BOT_USER_ID,
                "team": {"id": install["team"], "name": f"Team {install['team']}"},
                "enterprise": None, "is_enterprise_install": False,
                **self._issue(install["team"], install["rotation"], install["expires_in"])}

    def _client_credentials(self, params: dict[str, Any]) -> tuple[Any, Any]:
        """The app's id and secret: HTTP Basic auth (what slack_sdk sends), else parameters."""
        basic = self._headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            return client_id, secret
        return params.get("client_id"), params.get("client_secret")

    def _refused_token(self, method: str) -> dict[str, Any] | None:
        """Once any workspace is installed, a call without a live token fails as in Slack."""
        if not (self.tokens or self.revoked) or method in ("oauth.v2.access", "upload", "response"):
            return None
        if self._token in self.tokens:
            return None
        return self._error("token_revoked" if self._token in self.revoked else "invalid_auth")

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # fast shutdown() between tests
                name="fake-slack",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down, free the port and close the connections clients keep open, as
        a server that goes away does: a kept-alive connection left open would still be answered
        by this fake's handler, also for a later fake that the system gives the same port."""
        for held in list(self._held.values()):
            held.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self.drop_connections()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL with trailing slash, as ``WebClient(base_url=...)`` expects."""
        return f"http://127.0.0.1:{self.port}/"

    # ------------------------------------------------------------------ scripting

    def drop_connections(self) -> None:
        """Close every open client connection, as a server closes idle keep-alive ones."""
        if self._server is None:
            return
        with self._lock:
            open_now = list(self._server.open_connections)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        """Make the next ``times`` calls to ``method`` answer ``{"ok": false, "error": error}``.

        ``ratelimited`` is answered like Slack does: HTTP 429 with ``Retry-After`` (default
        1 s), so slack_sdk raises ``SlackApiError`` unless a retry handler is installed.
        Other errors come with HTTP 200, as Slack's API errors do. ``extra`` is merged
        into the error body (e.g. ``needed="chat:write"``).
        """
        if error == "ratelimited":
            status = 429 if status is None else status
            retry_after = 1 if retry_after is None else retry_after
        failure = _Failure(error, 200 if status is None else status, retry_after, extra)
        with self._lock:
            self._failures.setdefault(method, deque()).extend([failure] * times)

    def hold(self, method: str) -> None:
        """Calls to ``method`` get no answer until :meth:`release` (a slow Web API); the
        calls are recorded once answered."""
        with self._lock:
            self._held[method] = threading.Event()

    def release(self, method: str) -> None:
        with self._lock:
            held = self._held.pop(method, None)
        if held is not None:
            held.set()

    def waiting(self, method: str) -> int:
        """How many calls to ``method`` are held right now."""
        with self._lock:
            return self._waiting.get(method, 0)

    def _wait_if_held(self, method: str) -> None:
        with self._lock:
            held = self._held.get(method)
            if held is None:
                return
            self._waiting[method] = self._waiting.get(method, 0) + 1
        held.wait(timeout=30)
        with self._lock:
            self._waiting[method] -= 1

    def on(self, method: str, handler: Handler | dict[str, Any] | None) -> None:
        """Answer ``method`` with ``handler(params)`` (or a fixed dict) instead of the default.

        Pass ``None`` to restore the built-in behaviour.
        """
        with self._lock:
            if handler is None:
                self._handlers.pop(method, None)
            elif isinstance(handler, dict):
                fixed = handler
                self._handlers[method] = lambda _params: dict(fixed)
            else:
                self._handlers[method] = handler

    def reset(self) -> None:
        """Forget calls, scripted failures/handlers and stored state; keep the port."""
        with self._lock:
            self._calls.clear()
            self._failures.clear()
            self._handlers.clear()
            self.errors.clear()
            self.messages.clear()
            self.views.clear()
            self.home_views.clear()
            self.files.clear()

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[Call]:
        """Snapshot of all recorded calls, oldest first."""
        with self._lock:
            return list(self._calls)

    def mark(self) -> int:
        """Current number of calls; pass it as ``after=`` to only look at later calls."""
        with self._lock:
            return len(self._calls)

    def calls_to(self, method: str, after: int = 0) -> list[Call]:
        """Calls to ``method`` (recorded at index >= ``after``)."""
        return [c for c in self.calls[after:] if c.method == method]

    def find(
        self, method: str, predicate: Callable[[Call], bool] | None = None, after: int = 0
    ) -> Call | None:
        """First call to ``method`` after ``after`` that satisfies ``predicate``, or None."""
        for call in self.calls_to(method, after):
            if predicate is None or predicate(call):
                return call
        return None

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        after: int = 0,
    ) -> Call:
        """Wait until a matching call arrives (woken by each call the fake records); the bot
        answers Slack asynchronously.

        Raises AssertionError naming the calls that did arrive, which is usually enough
        to see what went wrong without re-running.
        """
        with self._arrived:
            found = self._arrived.wait_for(lambda: self.find(method, predicate, after), timeout)
        if found is None:
            raise AssertionError(
                f"no {method!r} call matching the predicate within {timeout}s "
                f"(after index {after}); seen: {self.describe(after) or 'nothing'}"
            )
        return found

    def wait_calls(self, count: int, after: int = 0, timeout: float = 5.0) -> None:
        """Wait until ``count`` calls, whatever they are, arrived after index ``after``."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._calls) - after >= count, timeout):
                raise AssertionError(f"fewer than {count} calls after index {after} within "
                                     f"{timeout}s; seen: {self.describe(after) or 'nothing'}")

    def settle(self, wait: float = 0.5) -> None:
        """Return once the bots calling this fake have done the work they were handed, so that
        a call that has not arrived by then is not coming.

        A bot running in this process says when it is idle (its lanes drained, its start-up
        round over: `BotThread.wait_idle`), so no clock is involved. A bot in a subprocess gives
        no such sign: for it, and for a fake with no bot at all, this waits `wait` seconds.
        """
        running = [bot for bot in self.bots if bot.running]
        if not running or any(not bot.in_process for bot in running):
            time.sleep(wait)
        for bot in running:
            if bot.in_process:
                bot.wait_idle()

    def assert_no_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        wait: float = 0.5,
        after: int = 0,
    ) -> None:
        """Fail if a matching call arrived, once the bots are done (see `settle`: `wait` is
        only what a bot in a subprocess is given)."""
        self.settle(wait)
        found = self.find(method, predicate, after)
        if found is not None:
            raise AssertionError(f"unexpected {method!r} call: {found.params!r}")

    def describe(self, after: int = 0) -> str:
        """One line per call — method plus a hint of its text — for failure messages."""
        lines = []
        for index, call in enumerate(self.calls[after:], start=after):
            hint = call.params.get("text") or call.params.get("error") or ""
            token = f" [{call.token}]" if call.token and (self.tokens or self.revoked) else ""
            lines.append(f"\n  [{index}] {call.method}{token} {str(hint)[:80]!r}")
        return "".join(lines)

    # ------------------------------------------------------------------ dispatch

    def _dispatch(
        self, path: str, query: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
        path = path.lstrip("/")
        if path.startswith("api/"):  # tolerate base URLs that keep Slack's /api/ prefix
            path = path[4:]
        if path.startswith("upload/"):
            method, params = "upload", {"file_id": path.split("/", 1)[1], "content": raw}
        else:
            params = _flatten(parse_qs(query, keep_blank_values=True))
            params.update(_decode_body(raw, headers.get("content-type", "")))
            _decode_json_fields(params)
            method = "response" if path.startswith("response/") else path
        if not method:
            return 404, "not found", {}

        with self._lock:
            call = Call(method, params, headers, time.time(), path)
            self._token, self._headers = call.token, headers
            status, body, extra_headers = self._answer(method, params)
            if isinstance(body, dict):
                call.response.update(body)
            self._calls.append(call)
            self._arrived.notify_all()
            return status, body, extra_headers

    def _answer(
        self, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
        """What Slack would answer (called under the lock, before the call is visible)."""
        queue = self._failures.get(method)
        failure = queue.popleft() if queue else None
        if failure is not None:
            extra_headers = {}
            if failure.retry_after is not None:
                extra_headers["Retry-After"] = str(failure.retry_after)
            body = {"ok": False, "error": failure.error, **failure.extra}
            return failure.status, body, extra_headers
        refused = self._refused_token(method)
        if refused is not None:
            return 200, refused, {}
        custom = self._handlers.get(method)
        if custom is not None:
            return 200, custom(params), {}
        if method == "upload":
            return 200, self._upload(params), {}
        builtin = _BUILTIN.get(method)
        result = builtin(self, params) if builtin else {"ok": True}
        return 200, result, {}

    # ------------------------------------------------------------------ helpers

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _next_ts(self) -> str:
        """Slack-style ``seconds.micros`` timestamps of the time the message was posted, as
        Slack's are (unique and increasing)."""
        self._next()
        self._last_ts = max(time.time_ns() // 1000, self._last_ts + 100)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    @staticmethod
    def _error(error: str, *messages: str) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": error}
        if messages:
            body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in messages]}
        return body

    @staticmethod
    def _dm_channel(channel: str) -> str:
        """Posting to a user id lands in the app's DM with that user, as in Slack."""
        return "D" + channel if channel[:1] in ("U", "W") else channel

    def _message_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": params.get("text") or "",
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if params.get(key) not in (None, ""):
                message[key] = params[key]
        return message

    def _check_message(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if not params.get("channel"):
            return self._error("channel_not_found")
        blocks = params.get("blocks")
        if not (params.get("text") or blocks or params.get("attachments")):
            return self._error("no_text")
        if len(str(params.get("text") or "")) > 40_000:
            return self._error("msg_too_long")
        if blocks is not None and self.strict_blocks:
            problems = validate_blocks(blocks, max_blocks=50)
            if problems:
                return self._error("invalid_blocks", *problems)
        return None

    # ------------------------------------------------------------------ methods

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        team = self.tokens.get(self._token or "", TEAM_ID)  # the workspace of the token used
        return {
            "ok": True,
            "url": f"https://{team.lower()}.slack.com/",
            "team": "Test Team",
            "user": "cmbot",
            "team_id": team,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message(params)
        if error:
            return error
        channel = self._dm_channel(str(params["channel"]))
        ts = self._next_ts()
        message = {**self._message_fields(params), "ts": ts}
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message(params)
        if error:
            return error
        channel, ts = str(params["channel"]), str(params.get("ts") or "")
        if not ts:
            return self._error("message_not_found")
        previous = self.messages.get((channel, ts), {})
        message = {**previous, **self._message_fields(params), "ts": ts}
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        if "thread_ts" in previous:
            message["thread_ts"] = previous["thread_ts"]
        self.messages[(channel, ts)] = message
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": message,
        }

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("user"):
            return self._error("user_not_in_channel")
        error = self._check_message(params)
        return error or {"ok": True, "message_ts": self._next_ts()}

    def _store_view(self, params: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict) or "type" not in view:
            return self._error("invalid_arguments", "view must be an object with a type")
        if self.strict_blocks:
            problems = validate_view(view)
            if problems:
                return self._error("invalid_arguments", *problems)
        if view_id is None:
            view_id = f"V{self._next():08X}"
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{self._next()}",
            "previous_view_id": None,
            "root_view_id": view_id,
            **view,
        }
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id") and not params.get("interactivity_pointer"):
            return self._error("invalid_arguments", "missing required field: trigger_id")
        return self._store_view(params)

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user_id") or "")
        if not user:
            return self._error("invalid_arguments", "missing required field: user_id")
        previous = self.home_views.get(user)
        result = self._store_view(params, previous["id"] if previous else None)
        if result.get("ok"):
            self.home_views[user] = result["view"]
        return result

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user") or "")
        if not user_id:
            return self._error("user_not_found")
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": user_id == BOT_USER_ID,
            "tz": "America/Los_Angeles",
            "tz_label": "Pacific Standard Time",
            "tz_offset": -28800,
            "profile": {"real_name": f"User {user_id}", "display_name": user_id.lower()},
        }
        # Slack only reports the locale when asked; keep that so a bot that forgets
        # include_locale=True fails here rather than in production.
        if _is_true(params.get("include_locale")):
            user["locale"] = self.user_locales.get(user_id, "en-US")
        user.update(self.users.get(user_id, {}))
        return {"ok": True, "user": user}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if params.get("channel"):
            return {"ok": True, "channel": {"id": params["channel"]}}
        if not users:
            return self._error("users_list_not_supplied")
        return {"ok": True, "channel": {"id": self.dms.get(users[0], "D" + users[0])}}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages of a channel, newest first (thread replies are not in it)."""
        channel = str(params.get("channel") or "")
        found = sorted(((ts, m) for (c, ts), m in self.messages.items()
                        if c == channel and m.get("thread_ts") in (None, ts)), reverse=True)
        limit = int(params.get("limit") or 100)
        return {"ok": True, "messages": [dict(m, ts=ts) for ts, m in found[:limit]],
                "has_more": len(found) > limit}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread, oldest first: its root, then its replies."""
        channel, root = str(params.get("channel") or ""), str(params.get("ts") or "")
        found = sorted((ts, m) for (c, ts), m in self.messages.items()
                       if c == channel and (ts == root or m.get("thread_ts") == root))
        if not found:
            return self._error("thread_not_found")
        return {"ok": True, "messages": [dict(m, ts=ts) for ts, m in found], "has_more": False}

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        return {
            "ok": True,
            "members": list(self.channel_members.get(channel, [])),
            "response_metadata": {"next_cursor": ""},
        }

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not params.get("length"):
            return self._error("invalid_arguments", "filename and length are required")
        file_id = f"F{self._next():08X}"
        self.files[file_id] = {
            "id": file_id,
            "name": params["filename"],
            "length": int(params["length"]),
            "content": None,
            "completed": False,
        }
        return {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}

    def _upload(self, params: dict[str, Any]) -> str:
        entry = self.files.setdefault(params["file_id"], {"id": params["file_id"]})
        entry["content"] = params["content"]
        return f"OK - {len(params['content'])}"

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return self._error("invalid_arguments", "files must be a non-empty JSON array")
        result = []
        for item in files:
            entry = self.files.get(str(item.get("id")))
            if entry is None or entry.get("content") is None:
                return self._error("file_not_found")
            title = item.get("title") or entry.get("name")
            entry.update(
                title=title,
                completed=True,
                channel_id=params.get("channel_id"),
                initial_comment=params.get("initial_comment"),
                thread_ts=params.get("thread_ts"),
            )
            result.append({"id": entry["id"], "title": title, "name": entry.get("name")})
        return {"ok": True, "files": result}

    def _response_url(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}


_BUILTIN: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "oauth.v2.access": FakeSlack._oauth_v2_access,
    "chat.postMessage": FakeSlack._chat_post_message,
    "chat.update": FakeSlack._chat_update,
    "chat.postEphemeral": FakeSlack._chat_post_ephemeral,
    "views.open": FakeSlack._views_open,
    "views.publish": FakeSlack._views_publish,
    "users.info": FakeSlack._users_info,
    "conversations.open": FakeSlack._conversations_open,
    "conversations.members": FakeSlack._conversations_members,
    "conversations.history": FakeSlack._conversations_history,
    "conversations.replies": FakeSlack._conversations_replies,
    "files.getUploadURLExternal": FakeSlack._files_get_upload_url,
    "files.completeUploadExternal": FakeSlack._files_complete_upload,
    "response": FakeSlack._response_url,
}


# ---------------------------------------------------------------------- Block Kit limits
# Only limits documented in Slack's Block Kit reference; exceeding any of them makes
# Slack answer invalid_blocks, which is exactly the bug these checks exist to catch.


def _text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _check_len(problems: list[str], where: str, value: str, limit: int) -> None:
    if len(value) > limit:
        problems.append(f"{where} must be at most {limit} characters (got {len(value)})")


def _check_element(problems: list[str], where: str, element: Any) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        problems.append(f"{where} must be an object with a type")
        return
    kind = element["type"]
    if "action_id" in element:
        _check_len(problems, f"{where}.action_id", str(element["action_id"]), 255)
    if kind == "button":
        text = element.get("text")
        if not isinstance(text, dict) or text.get("type") != "plain_text":
            problems.append(f"{where}.text must be a plain_text object")
        _check_len(problems, f"{where}.text", _text_of(text), 75)
        _check_len(problems, f"{where}.value", str(element.get("value", "")), 2000)
    options = element.get("options")
    if isinstance(options, list):
        limit = {"checkboxes": 10, "radio_buttons": 10, "overflow": 5}.get(kind, 100)
        if len(options) > limit:
            problems.append(f"{where}.options must have at most {limit} items")
        for i, option in enumerate(options):
            _check_len(problems, f"{where}.options[{i}].text", _text_of(option.get("text")), 75)
            _check_len(problems, f"{where}.options[{i}].value", str(option.get("value", "")), 150)


def validate_blocks(blocks: Any, max_blocks: int = 50) -> list[str]:
    """Problems Slack would report for ``blocks`` (empty list when it would accept them)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"no more than {max_blocks} items allowed [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"{where} must be an object with a type")
            continue
        if "block_id" in block:
            block_id = str(block["block_id"])
            _check_len(problems, f"{where}/block_id", block_id, 255)
            if block_id in block_ids:
                problems.append(f"{where}/block_id {block_id!r} is duplicated")
            block_ids.add(block_id)
        check = _BLOCK_CHECKS.get(block["type"])
        if check is not None:
            check(problems, where, block)
    return problems


def _check_section(problems: list[str], where: str, block: dict[str, Any]) -> None:
    if "text" not in block and "fields" not in block:
        problems.append(f"{where} must have text or fields")
    _check_len(problems, f"{where}/text", _text_of(block.get("text")), 3000)
    fields = block.get("fields") or []
    if len(fields) > 10:
        problems.append(f"{where}/fields must have at most 10 items")
    for i, item in enumerate(fields):
        _check_len(problems, f"{where}/fields/{i}", _text_of(item), 2000)
    if "accessory" in block:
        _check_element(problems, f"{where}/accessory", block["accessory"])


def _check_header(problems: list[str], where: str, block: dict[str, Any]) -> None:
    text = block.get("text")
    if not isinstance(text, dict) or text.get("type") != "plain_text":
        problems.append(f"{where}/text must be a plain_text object")
    _check_len(problems, f"{where}/text", _text_of(text), 150)


def _check_elements(problems: list[str], where: str, block: dict[str, Any]) -> None:
    """`actions` and `context` blocks: a bounded, non-empty list of elements."""
    kind, elements = block["type"], block.get("elements")
    limit = 25 if kind == "actions" else 10
    if not isinstance(elements, list) or not elements:
        problems.append(f"{where}/elements must be a non-empty array")
        return
    if len(elements) > limit:
        problems.append(f"{where}/elements must have at most {limit} items")
    if kind == "actions":
        action_ids = [e.get("action_id") for e in elements if isinstance(e, dict)]
        named = [a for a in action_ids if a is not None]
        if len(named) != len(set(named)):
            problems.append(f"{where}/elements has duplicate action_ids")
        for i, element in enumerate(elements):
            _check_element(problems, f"{where}/elements/{i}", element)


def _check_input(problems: list[str], where: str, block: dict[str, Any]) -> None:
    _check_len(problems, f"{where}/label", _text_of(block.get("label")), 2000)
    if "element" not in block:
        problems.append(f"{where}/element is required")
    else:
        _check_element(problems, f"{where}/element", block["element"])


_BLOCK_CHECKS = {"section": _check_section, "header": _check_header, "actions": _check_elements,
                 "context": _check_elements, "input": _check_input}


def validate_view(view: dict[str, Any]) -> list[str]:
    """Problems Slack would report for a modal or home tab ``view`` payload."""
    problems = validate_blocks(view.get("blocks", []), max_blocks=100)
    if view.get("type") == "modal":
        if "title" not in view:
            problems.append("modal views require a title")
        for key in ("title", "submit", "close"):
            if key in view:
                _check_len(problems, f"/view/{key}", _text_of(view[key]), 24)
    _check_len(problems, "/view/private_metadata", str(view.get("private_metadata", "")), 3000)
    _check_len(problems, "/view/callback_id", str(view.get("callback_id", "")), 255)
    return problems

