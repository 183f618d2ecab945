"""Socket Mode for the fake Slack: the WebSocket end Slack keeps with each connected app process.

A bot in Socket Mode asks `apps.connections.open` (answered by the fake, as its other Web API
methods) for a `ws://` URL, opens it on the fake's own port, receives `hello`, then envelopes
(`events_api`, `interactive`, `slash_commands`) that it acknowledges with their `envelope_id`.
Slack spreads envelopes over an app's open connections (up to 10); here the test picks the
connection of each one. `SocketDriver` is the `BotDriver` whose requests travel that way
instead of over signed HTTP, so the same interview steps drive a Socket Mode bot.

The WebSocket protocol (RFC 6455) is only what slack_sdk's built-in client speaks: a handshake,
text frames (masked from the client, unmasked from the server), ping/pong and close.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import struct
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from fakeslack import FakeSlack
from slack_requests import BotDriver, Reply

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class Connection:
    """One open WebSocket: the bot process at the other end acknowledges what it is sent."""

    def __init__(self, handler: Any):
        self.rfile, self.wfile = handler.rfile, handler.wfile
        self._send_lock = threading.Lock()
        self.acks: dict[str, dict[str, Any]] = {}
        self.acked = threading.Condition()
        self.open = True

    def send(self, message: dict[str, Any], opcode: int = TEXT) -> None:
        data = json.dumps(message).encode() if opcode == TEXT else b""
        self._frame(opcode, data)

    def _frame(self, opcode: int, data: bytes) -> None:
        size = len(data)
        head = bytes([0x80 | opcode])
        if size < 126:
            head += bytes([size])
        elif size < 1 << 16:
            head += bytes([126]) + struct.pack("!H", size)
        else:
            head += bytes([127]) + struct.pack("!Q", size)
        with self._send_lock:
            self.wfile.write(head + data)
            self.wfile.flush()

    def _read(self) -> tuple[int, bytes]:
        first, second = self.rfile.read(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self.rfile.read(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if second & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(size)))
        return first & 0x0F, data

    def serve(self) -> None:
        """Read until the bot goes: pings answered, acknowledgements noted."""
        try:
            while True:
                opcode, data = self._read()
                if opcode == PING:
                    self._frame(PONG, data)
                elif opcode == CLOSE:
                    return
                elif opcode == TEXT:
                    ack = json.loads(data)
                    with self.acked:
                        self.acks[ack.get("envelope_id", "")] = ack
                        self.acked.notify_all()
        except (OSError, ValueError):
            return  # the process died (SIGKILL): its socket is gone
        finally:
            self.open = False
            with self.acked:
                self.acked.notify_all()


class SocketMode:
    """The fake's Socket Mode side: connections as bots open them, envelopes sent on one."""

    def __init__(self, fake: FakeSlack):
        self.fake = fake
        self.connections: list[Connection] = []
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        fake.on("apps.connections.open", self._open_url)
        fake.websocket = self._accept

    def _open_url(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.fake.port}/link/?ticket={next(self._ids)}"}

    def _accept(self, handler: Any) -> None:
        key = handler.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept)
        handler.end_headers()
        handler.wfile.flush()
        connection = Connection(handler)
        with self._changed:
            self.connections.append(connection)
            self._changed.notify_all()
        connection.send({"type": "hello", "num_connections": len(self.live()),
                         "connection_info": {"app_id": "A1"}, "debug_info": {"host": "fake"}})
        connection.serve()

    def live(self) -> list[Connection]:
        return [c for c in self.connections if c.open]

    def wait_connections(self, count: int, timeout: float = 20.0) -> list[Connection]:
        """The first `count` connections ever opened, once they are."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.connections) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.connections)} of {count} Socket Mode connections")
                self._changed.wait(left)
            return self.connections[:count]

    def deliver(self, connection: Connection, kind: str, payload: dict[str, Any],
                retry_attempt: int = 0, retry_reason: str = "", timeout: float = 10.0) -> Reply:
        """Send one envelope and wait for its acknowledgement (Slack waits 3 s, then retries)."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": retry_attempt,
                    "retry_reason": retry_reason}
        connection.send(envelope)
        deadline = time.monotonic() + timeout
        with connection.acked:
            while envelope_id not in connection.acks:
                left = deadline - time.monotonic()
                if left <= 0 or not connection.open:
                    return Reply(504, "")
                connection.acked.wait(left)
            return Reply(200, json.dumps(connection.acks[envelope_id].get("payload") or {}))


class SocketDriver(BotDriver):
    """A `BotDriver` whose requests reach the bot as Socket Mode envelopes on `connection`
    (change it between requests to spread them as Slack does), not as signed HTTP."""

    def __init__(self, hub: SocketMode, connection: Connection, response_url_base: str):
        super().__init__("http://unused", "unused", response_url_base)
        self.hub, self.connection = hub, connection

    def post(self, body: bytes | str, content_type: str = "application/json",
             headers: dict[str, str] | None = None, **_: Any) -> Reply:
        text = body.decode() if isinstance(body, bytes) else body
        retry = {k.lower(): v for k, v in (headers or {}).items()}
        attempt = int(retry.get("x-slack-retry-num", 0))
        reason = retry.get("x-slack-retry-reason", "")
        if text.startswith("{"):
            return self.hub.deliver(self.connection, "events_api", json.loads(text), attempt, reason)
        fields = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        if "payload" in fields:
            return self.hub.deliver(self.connection, "interactive", json.loads(fields["payload"]),
                                    attempt, reason)
        return self.hub.deliver(self.connection, "slash_commands", fields, attempt, reason)
