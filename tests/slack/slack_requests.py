"""`BotDriver` plays Slack's side against a running app: it builds requests exactly as Slack
sends them to an app's request URL, signs them (`signing.sign`) and posts them.

Bolt routes by payload shape, so the tests are only as good as these payloads: they follow
Slack's documented envelopes (Events API ``event_callback``, slash-command forms, ``payload=``
JSON for interactivity) and use only the standard library, so the harness adds no dependencies.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, NamedTuple
from urllib.parse import urlencode

from signing import sign

__all__ = ["BotDriver", "Reply", "checkbox_state", "slack_ts"]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
VERIFICATION_TOKEN = "legacy-verification-token"

_counter = itertools.count(1)
_ts_lock = threading.Lock()
_last_ts = [0]


def _unique() -> int:
    return next(_counter)


def slack_ts(at: float | None = None) -> str:
    """A message timestamp in Slack's ``"1700000000.000100"`` form, unique per process.

    Slack uses ``ts`` as a message id, so two test messages must never share one.
    """
    micros = int((time.time() if at is None else at) * 1_000_000)
    with _ts_lock:
        micros = max(micros, _last_ts[0] + 1)
        _last_ts[0] = micros
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


class Reply(NamedTuple):
    """What the app answered: HTTP status and body text (unpacks as ``status, body``)."""

    status: int
    body: str

    def json(self) -> Any:
        """The body parsed as JSON (Bolt answers JSON for view errors, options, etc.)."""
        return json.loads(self.body) if self.body else None


def _option(value: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def checkbox_state(
    block_id: str, action_id: str, values: list[str], kind: str = "checkboxes"
) -> dict[str, Any]:
    """``state.values`` fragment for a checkbox (or multi-select) group."""
    return {block_id: {action_id: {"type": kind, "selected_options": [_option(v) for v in values]}}}


class BotDriver:
    """Plays Slack's side of the conversation against a running app.

    Every method signs its body with ``secret`` and POSTs to ``{base_url}/slack/events``
    (``events_path``), returning a :class:`Reply`. ``response_url_base`` should be the
    fake Web API's URL so that ``respond()`` calls land in it as method ``"response"``.
    The last envelope sent is kept in ``last_body`` and ``last_event_id`` so a
    test can re-deliver it with :meth:`retry_last`, as Slack does on timeouts.
    """

    def __init__(
        self,
        base_url: str,
        secret: str,
        response_url_base: str | None = None,
        *,
        team: str = "T1",
        team_domain: str = "testteam",
        api_app_id: str = "A1",
        bot_user_id: str = "UBOT",
        events_path: str = "/slack/events",
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.response_url_base = (response_url_base or "https://hooks.slack.com/").rstrip("/")
        self.team = team
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.bot_user_id = bot_user_id
        self.events_path = events_path
        self.timeout = timeout
        self.last_body: str | None = None
        self.last_event_id: str | None = None

    # ------------------------------------------------------------------ transport

    def post(
        self,
        body: bytes | str,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
        path: str | None = None,
    ) -> Reply:
        """POST a raw body; use ``signed=False``, ``secret=`` or ``timestamp=`` to forge."""
        raw = body.encode() if isinstance(body, str) else body
        all_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0"}
        if signed:
            all_headers.update(sign(self.secret if secret is None else secret, raw, timestamp))
        all_headers.update(headers or {})
        url = self.base_url + (self.events_path if path is None else path)
        request = urllib.request.Request(url, data=raw, headers=all_headers, method="POST")
        return self._open(request)

    def get(self, path: str) -> Reply:
        """GET ``{base_url}{path}`` (health checks and the like)."""
        return self._open(urllib.request.Request(self.base_url + path, method="GET"))

    def healthz(self) -> int:
        """Status of ``GET /healthz``; raises ``URLError`` while nothing listens."""
        return self.get("/healthz").status

    def _open(self, request: urllib.request.Request) -> Reply:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Reply(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.read().decode("utf-8", "replace"))

    def _post_json(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        body = json.dumps(payload)
        self.last_body = body
        return self.post(body, JSON, headers=headers)

    def _post_form(self, fields: dict[str, str]) -> Reply:
        body = urlencode(fields)
        self.last_body = body
        return self.post(body, FORM)

    def _post_payload(self, payload: dict[str, Any]) -> Reply:
        return self._post_form({"payload": json.dumps(payload)})

    def _response_url(self) -> str:
        return f"{self.response_url_base}/response/{_unique()}"

    @staticmethod
    def _trigger_id() -> str:
        return f"{_unique()}.{int(time.time())}.{uuid.uuid4().hex}"

    def _user(self, user: str) -> dict[str, Any]:
        name = user.lower()
        return {"id": user, "username": name, "name": name, "team_id": self.team}

    # ------------------------------------------------------------------ Events API

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        team: str | None = None,
        retry_reason: str = "http_timeout",
    ) -> Reply:
        """Deliver ``event`` inside an ``event_callback`` envelope.

        ``retry_num`` adds Slack's retry headers; combine it with the original
        ``event_id`` (see ``last_event_id``) to simulate a redelivery.
        """
        team_id = team or self.team
        event_id = event_id or f"Ev{_unique():010d}"
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "context_team_id": team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers = None
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        self.last_event_id = event_id
        return self._post_json(envelope, headers)

    def retry_last(self, retry_num: int = 1, retry_reason: str = "http_timeout") -> Reply:
        """Re-deliver the last body byte for byte with retry headers, like Slack does."""
        if self.last_body is None:
            raise RuntimeError("nothing was sent yet")
        content_type = JSON if self.last_body.startswith("{") else FORM
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.post(self.last_body, content_type, headers=headers)

    def message(
        self,
        user: str,
        channel: str,
        text: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        channel_type: str | None = None,
        **extra: Any,
    ) -> Reply:
        """A user's ``message`` event; ``channel_type`` defaults from the id (D→im)."""
        if channel_type is None:
            channel_type = {"D": "im", "G": "group"}.get(channel[:1], "channel")
        event = self._typed_event("message", user, channel, text, ts, thread_ts)
        event["channel_type"] = channel_type
        event.update(extra)
        return self.event(event)

    def app_mention(
        self,
        user: str,
        channel: str,
        text: str,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> Reply:
        """An ``app_mention`` event; prefixes ``<@bot>`` unless the text already has it."""
        mention = f"<@{self.bot_user_id}>"
        if mention not in text:
            text = f"{mention} {text}"
        return self.event(self._typed_event("app_mention", user, channel, text, ts, thread_ts))

    def _typed_event(self, kind: str, user: str, channel: str, text: str,
                     ts: str | None, thread_ts: str | None) -> dict[str, Any]:
        """What Slack sends for a person's typed text, whether a message or a mention."""
        ts = ts or slack_ts()
        event: dict[str, Any] = {
            "type": kind,
            "client_msg_id": str(uuid.uuid4()),
            "user": user,
            "text": text,
            "blocks": _rich_text(text),
            "team": self.team,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    def app_home_opened(
        self, user: str, tab: str = "home", view: dict[str, Any] | None = None
    ) -> Reply:
        """``app_home_opened``; ``view`` is the previously published view, if any."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D" + user,
            "tab": tab,
            "event_ts": slack_ts(),
        }
        if view is not None:
            event["view"] = view
        return self.event(event)

    def url_verification(self, challenge: str = "challenge-token") -> Reply:
        """The handshake Slack performs when the request URL is configured."""
        return self._post_json(
            {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        )

    # ------------------------------------------------------------------ commands

    def command(
        self,
        text: str,
        user: str = "U1",
        channel: str = "C1",
        command: str = "/cmbot",
        channel_name: str = "general",
    ) -> Reply:
        """A slash command, form-encoded like Slack does."""
        return self._post_form(
            {
                "token": VERIFICATION_TOKEN,
                "team_id": self.team,
                "team_domain": self.team_domain,
                "channel_id": channel,
                "channel_name": channel_name,
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": self.api_app_id,
                "is_enterprise_install": "false",
                "response_url": self._response_url(),
                "trigger_id": self._trigger_id(),
            }
        )

    # ------------------------------------------------------------------ interactivity

    def block_action(
        self,
        user: str,
        channel: str | None,
        message_ts: str | None,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
        selected_options: list[str] | list[dict[str, Any]] | None = None,
        state_values: dict[str, Any] | None = None,
        thread_ts: str | None = None,
        message: dict[str, Any] | None = None,
        container_kind: str = "message",
        *,
        select: bool = False,
        action_type: str | None = None,
        view: dict[str, Any] | None = None,
        channel_name: str = "general",
        is_ephemeral: bool = False,
    ) -> Reply:
        """A ``block_actions`` payload for one element interaction.

        * button: ``value="x"``;
        * static select / radio: ``value="x", select=True`` (or ``action_type=...``);
        * checkboxes / multi-select: ``selected_options=["a", "b"]``.

        ``state_values`` is the whole ``state.values`` of the message or view (build it
        with :func:`checkbox_state`).
        ``container_kind="view"`` sends an action from a modal or the home tab and needs
        ``view`` (e.g. ``fake.home_views[user]``); channel and message are then omitted.
        """
        now = slack_ts()
        if action_type is None:
            if selected_options is not None:
                action_type = "checkboxes"
            elif select:
                action_type = "static_select"
            else:
                action_type = "button"
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or f"b{_unique()}",
            "type": action_type,
            "action_ts": now,
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": value or action_id, "emoji": True}
            if value is not None:
                action["value"] = value
        elif selected_options is not None:
            action["selected_options"] = [_option(v) for v in selected_options]
        else:
            action["selected_option"] = None if value is None else _option(value)
            if action_type == "static_select":
                action["placeholder"] = {"type": "plain_text", "text": "Select", "emoji": True}

        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self._trigger_id(),
            "team": {"id": self.team, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": state_values or {}},
            "actions": [action],
        }
        if container_kind == "view":
            if view is None:
                raise ValueError("container_kind='view' needs the view the action came from")
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = {**view, "state": {"values": state_values or {}}}
        else:
            if channel is None or message_ts is None:
                raise ValueError("message actions need channel and message_ts")
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": is_ephemeral,
            }
            if thread_ts:
                payload["container"]["thread_ts"] = thread_ts
            payload["channel"] = {"id": channel, "name": channel_name}
            if message is None:
                message = {
                    "type": "message",
                    "user": self.bot_user_id,
                    "bot_id": "BBOT",
                    "ts": message_ts,
                    "text": "",
                }
                if thread_ts:
                    message["thread_ts"] = thread_ts
            if not is_ephemeral:
                payload["message"] = message
            payload["response_url"] = self._response_url()
        return self._post_payload(payload)

    def view_submission(
        self,
        user: str,
        callback_id: str,
        state_values: dict[str, Any] | None = None,
        private_metadata: str = "",
        view_id: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        view: dict[str, Any] | None = None,
    ) -> Reply:
        """A modal's ``view_submission``; pass ``view`` (e.g. from ``fake.views``) to reuse it."""
        base = dict(view or {})
        view_id = view_id or base.get("id") or f"V{_unique():08d}"
        submitted = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "cmbot"},
            "blocks": blocks if blocks is not None else [],
            **base,
            "id": view_id,
            "team_id": self.team,
            "app_id": self.api_app_id,
            "callback_id": callback_id,
            "private_metadata": private_metadata or base.get("private_metadata", ""),
            "state": {"values": state_values or {}},
            "hash": base.get("hash") or f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
        }
        return self._post_payload(
            {
                "type": "view_submission",
                "team": {"id": self.team, "domain": self.team_domain},
                "user": self._user(user),
                "api_app_id": self.api_app_id,
                "token": VERIFICATION_TOKEN,
                "trigger_id": self._trigger_id(),
                "view": submitted,
                "response_urls": [],
                "is_enterprise_install": False,
                "enterprise": None,
            }
        )

    def shortcut(self, callback_id: str, user: str = "U1") -> Reply:
        """A global shortcut (type ``shortcut``), as from the lightning-bolt menu."""
        return self._post_payload(
            {
                "type": "shortcut",
                "token": VERIFICATION_TOKEN,
                "action_ts": slack_ts(),
                "team": {"id": self.team, "domain": self.team_domain},
                "user": self._user(user),
                "is_enterprise_install": False,
                "enterprise": None,
                "callback_id": callback_id,
                "trigger_id": self._trigger_id(),
            }
        )


def _rich_text(text: str) -> list[dict[str, Any]]:
    """The ``rich_text`` block Slack attaches to every user-typed message."""
    return [
        {
            "type": "rich_text",
            "block_id": uuid.uuid4().hex[:5],
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]
