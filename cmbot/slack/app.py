"""Build the Bolt `App` and run it: Socket Mode, or HTTP under waitress (a production WSGI server).

Layout after Slack's bolt-python starter template: this module builds the app, `listeners/`
registers one kind of listener per module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from ..service import Desk
from .config import Settings, redact
from .conversation import Conductor
from .listeners import register_listeners
from .reminders import Reminders

log = logging.getLogger("cmbot.slack")


class RedactTokens(logging.Filter):
    """Tokens never reach a log line, whatever library wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


def setup_logging() -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactTokens())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("transitions").setLevel(logging.WARNING)  # one line per state change


def build_app(settings: Settings, desk: Desk) -> tuple[App, Conductor]:
    client = WebClient(token=settings.bot_token, base_url=settings.api_url)
    app = App(
        client=client,
        signing_secret=settings.signing_secret or "socket-mode",
        # Listeners run in the request thread, so the ack and the next question leave together;
        # every listener is a few milliseconds, far below Slack's 3 s.
        process_before_response=not settings.socket_mode,
        request_verification_enabled=not settings.socket_mode,
    )
    conductor = Conductor(desk, client, settings.lang)

    @app.middleware
    def drop_redeliveries(body: dict[str, Any], next: Callable[[], BoltResponse]) -> Any:
        """Slack re-sends events it thinks were lost (same `event_id`): handle each once."""
        event_id = body.get("event_id")
        if event_id and not conductor.seen.first_time(event_id):
            return BoltResponse(status=200, body="")
        return next()

    @app.middleware
    def reject_malformed(body: dict[str, Any], next: Callable[[], BoltResponse]) -> Any:
        """Payloads missing what every Slack payload of their kind has are refused up front."""
        return BoltResponse(status=400, body="malformed payload") if malformed(body) else next()

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.exception("listener failed: %s", type(error).__name__, exc_info=error)

    register_listeners(app, conductor)
    return app, conductor


def malformed(body: dict[str, Any]) -> bool:
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        return not isinstance(event, dict) or not isinstance(event.get("type"), str)
    user = (body.get("user") or {}).get("id")
    if kind in ("block_actions", "shortcut", "view_submission", "view_closed") and not isinstance(user, str):
        return True
    if kind == "block_actions":
        actions = body.get("actions")
        return not isinstance(actions, list) or not all(
            isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    if kind in ("view_submission", "view_closed"):
        return not isinstance((body.get("view") or {}).get("callback_id"), str)
    if "command" in body:
        return not (body.get("user_id") and body.get("channel_id"))
    return False


def wsgi(app: App) -> Callable[..., Iterable[bytes]]:
    """Bolt's WSGI handler for `POST /slack/events`, plus `GET /healthz` for load balancers."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        try:
            return slack(environ, start_response)
        except Exception as exc:  # a body Bolt cannot even parse: the sender's fault, not ours
            log.warning("refused a malformed request: %s", type(exc).__name__)
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"bad request"]

    return application


def serve(settings: Settings, desk: Desk) -> None:
    app, conductor = build_app(settings, desk)
    Reminders(conductor, settings.remind_after, settings.expire_after, settings.sweep_every).start()
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("cmbot: Socket Mode")
        SocketModeHandler(app, settings.app_token).start()
        return
    import waitress

    # Bound first, then logged: with `--port 0` the system picks the port, and the log says which.
    server = waitress.create_server(wsgi(app), host="0.0.0.0", port=settings.port, threads=8,
                                    ident="cmbot")
    log.info("cmbot: listening on http://0.0.0.0:%s/slack/events", server.effective_port)
    server.run()
