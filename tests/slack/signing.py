"""Slack's request signing: the two headers Slack adds to every request it sends an app, which
Bolt checks (`X-Slack-Request-Timestamp`, `X-Slack-Signature`)."""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["sign", "signature"]


def signature(secret: str, body: str | bytes, timestamp: int | str) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, Slack's signing scheme."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def sign(secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request; ``timestamp`` defaults to now.

    Pass an old ``timestamp`` (more than 5 minutes ago) to test replay protection.
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(secret, body, ts),
    }
