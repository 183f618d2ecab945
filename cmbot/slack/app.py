"""Build the Bolt `App` and run it: Socket Mode, or HTTP under waitress (a production WSGI server).

Layout after Slack's bolt-python starter template: this module builds the app, `listeners/`
registers one kind of listener per module. Listeners run in the request's thread
(`process_before_response`), acknowledge at once and hand their work to per-interview lanes,
so Slack's HTTP answer never waits for the Web API; Bolt's own threaded mode would poll for
the ack every 10 ms instead.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.middleware.authorization import SingleTeamAuthorization
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.web import SlackResponse

from ..i18n import t
from ..service import Desk
from ..store.engines import EngineError
from . import panel
from .config import BOT_SCOPES, RETRY_BACKOFF, ConfigError, Settings, redact
from .context import CONDUCTOR, EVENT, HANDED, LANES
from .conversation import Conductor
from .courier import Failure, slack_error
from .install_pages import InstallFlow, InstallPages
from .lanes import Lanes
from .listeners import register_listeners
from .reminders import Reminders
from .transport import KeepAliveClient, RetryingRespond, ScaledJitter
from .workspaces import DEFAULT, Conductors, SignedStates, TokenFor, workspace_key

log = logging.getLogger("cmbot.slack")
BODY_MAX = 1 << 20  # Slack's payloads are a few KB; anything near this is not Slack
RETRIES = 3


class RedactTokens(logging.Filter):
    """Tokens never reach a log line, whatever library wrote it; nor do request bodies
    (Bolt logs a refused request's body whole)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "body: " in message:
            message = message.split("body: ", 1)[0] + "body: [not logged])"
        record.msg = redact(message)
        record.args = ()
        return True


def setup_logging() -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactTokens())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("transitions").setLevel(logging.WARNING)  # one line per state change


def resilient(client: WebClient, backoff: float = RETRY_BACKOFF) -> WebClient:
    """Rate limits waited out (honouring `Retry-After`), server and connection errors retried
    after `backoff` seconds, doubling (`CMBOT_RETRY_BACKOFF`): all of it in the worker lanes,
    never on the acknowledgement path."""
    client.retry_handlers = [
        RateLimitErrorRetryHandler(max_retry_count=RETRIES),
        ServerErrorRetryHandler(max_retry_count=RETRIES, interval_calculator=backing_off(backoff)),
        ConnectionErrorRetryHandler(max_retry_count=RETRIES, interval_calculator=backing_off(backoff))]
    return client


def backing_off(backoff: float) -> BackoffRetryIntervalCalculator:
    """slack_sdk's exponential backoff from `backoff` seconds, its random jitter scaled alike."""
    return BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=ScaledJitter(backoff))


def check_slack(settings: Settings) -> SlackResponse:
    """`auth.test`, once at start-up, with a quiet client of its own: a one-line `ConfigError`
    naming what is wrong (the bot's client would log every retry)."""
    quiet = logging.getLogger("cmbot.slack.startup")
    quiet.propagate, quiet.disabled = False, True
    client = WebClient(token=settings.bot_token, base_url=settings.api_url, logger=quiet, timeout=10,
                       retry_handlers=[ConnectionErrorRetryHandler(  # slack_sdk's one retry
                           interval_calculator=backing_off(settings.retry_backoff))])
    try:
        return client.auth_test()
    except SlackApiError as exc:
        error = slack_error(exc)
        hint = {"invalid_auth": "SLACK_BOT_TOKEN is not a valid token",
                "token_revoked": "SLACK_BOT_TOKEN was revoked (reinstall the app for a new one)",
                "account_inactive": "the workspace or bot user behind SLACK_BOT_TOKEN is deactivated",
                }.get(error, "Slack refused SLACK_BOT_TOKEN")
        raise ConfigError(f"{hint} (auth.test: {error})") from None
    except Failure as exc:
        raise ConfigError(f"cannot reach Slack at {client.base_url} ({slack_error(exc)}: "
                          f"{redact(str(exc))[:120]})") from None


def build_app(settings: Settings, desk: Desk, lanes: Lanes | None = None,
              verify: bool = True) -> tuple[App, Conductors]:
    """The Bolt app: with one bot token (`SLACK_BOT_TOKEN`), or installed in many workspaces
    through Slack's OAuth flow (`settings.oauth`: `/slack/install`, `/slack/oauth_redirect`)."""
    lanes = lanes or Lanes()

    def make(scoped: Desk, client: WebClient) -> Conductor:
        return make_conductor(scoped, client, settings.lang, lanes)

    def client_with(token: str) -> WebClient:
        """A workspace's interviews' client: retries, and its connections kept open (a turn
        makes two or three calls)."""
        return resilient(KeepAliveClient(token=token, base_url=settings.api_url), settings.retry_backoff)

    if settings.oauth is None:
        app = single_team_app(settings, verify)
        conductors = Conductors.fixed(desk, make(desk.scoped(DEFAULT), client_with(settings.bot_token)))
    else:
        app, authorize = oauth_app(settings, desk)
        conductors = Conductors(desk, make, client_with, installed_token(settings, authorize))
        register_uninstall(app, conductors)
    app.middleware(provider(conductors, lanes, many=settings.oauth is not None))

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.error("listener failed: %s", type(error).__name__, exc_info=error)
        return BoltResponse(status=200, body="")  # never a 500 to Slack: it would only retry

    register_listeners(app)
    return app, conductors


def make_conductor(desk: Desk, client: WebClient, lang: str, lanes: Lanes) -> Conductor:
    """A workspace's conductor as the app wires it: panels take over their members' steps,
    and earlier messages are tidied in a lane of their own. The in-process tests build theirs
    here too, so they run the conductor the app runs."""
    return Conductor(desk, client, lang, after_answer=panel.after_answer,
                     after_leave=panel.after_leave, defer=lanes.submit)


def single_team_app(settings: Settings, verify: bool) -> App:
    """One workspace, one bot token: checked once at start (`auth.test`)."""
    app = App(
        token=settings.bot_token,
        signing_secret=settings.signing_secret or "socket-mode",
        process_before_response=True,
        request_verification_enabled=not settings.socket_mode,
        token_verification_enabled=False,
        before_authorize=reject_malformed,  # right after the signature check, before Bolt reads it
    )
    resilient(app.client, settings.retry_backoff).base_url = settings.api_url  # Bolt's clients copy it
    if verify:
        identity = check_slack(settings)
        for middleware in app._middleware_list:  # Bolt would call auth.test on the first request
            if isinstance(middleware, SingleTeamAuthorization):
                middleware.auth_test_result = identity
    return app


def oauth_app(settings: Settings, desk: Desk) -> tuple[App, InstallationStoreAuthorize]:
    """Installed in many workspaces: Bolt's OAuth flow, installations and states kept in
    cmbot's database, each request authorised with its workspace's bot token (rotated when it
    is about to expire, if the app turned token rotation on)."""
    oauth = settings.oauth
    assert oauth is not None
    try:
        installations, states = desk.installation_stores(oauth.client_id)
    except EngineError as exc:
        raise ConfigError(str(exc)) from None
    authorize = InstallationStoreAuthorize(
        logger=log, installation_store=installations, client_id=oauth.client_id,
        client_secret=oauth.client_secret, token_rotation_expiration_minutes=oauth.rotation_minutes,
        bot_only=True, cache_enabled=True,  # auth.test once per token, not per request
        client=resilient(WebClient(base_url=settings.api_url), settings.retry_backoff))
    flow_settings = OAuthSettings(
        client_id=oauth.client_id, client_secret=oauth.client_secret, scopes=list(BOT_SCOPES),
        redirect_uri=oauth.redirect_uri, installation_store=installations,
        installation_store_bot_only=True, state_store=SignedStates(states, oauth.state_secret),
        token_rotation_expiration_minutes=oauth.rotation_minutes)
    flow_settings.redirect_uri_page_renderer = InstallPages(
        settings.lang, flow_settings.install_path, flow_settings.redirect_uri_path)
    flow = InstallFlow(settings=flow_settings)
    flow.default_lang = settings.lang
    app = App(
        signing_secret=settings.signing_secret,
        process_before_response=True,
        before_authorize=reject_malformed,
        authorize=authorize,
        user_facing_authorize_error_message=t("slack.not_installed", settings.lang),
        installation_store=installations,
        installation_store_bot_only=True,
        oauth_flow=flow,
    )
    resilient(app.client, settings.retry_backoff).base_url = settings.api_url  # oauth.v2.access too
    return app, authorize


def installed_token(settings: Settings, authorize: InstallationStoreAuthorize) -> TokenFor:
    """A workspace's bot token outside any request (reminders), through the same authorisation
    as requests: a token about to expire is refreshed and saved first."""
    def token_for(workspace: str, enterprise_id: str | None) -> str | None:
        org = workspace.startswith("E")
        context = BoltContext({"client": WebClient(base_url=settings.api_url, timeout=10)})
        try:
            found = authorize(context=context, enterprise_id=workspace if org else enterprise_id,
                              team_id=None if org else workspace, user_id=None)
        except Exception as exc:  # a workspace gone, or Slack unreachable: no token now
            log.warning("no bot token for workspace %s: %s", workspace, type(exc).__name__)
            return None
        return found.bot_token if found is not None else None
    return token_for


def register_uninstall(app: App, conductors: Conductors) -> None:
    """`app_uninstalled` and `tokens_revoked`: the workspace's tokens go (Bolt's own
    listeners delete them from the installation store); its data stays until an operator runs
    `cmbot db delete-workspace`."""
    removing = app.default_app_uninstalled_event_listener()
    revoking = app.default_tokens_revoked_event_listener()

    def on_uninstalled(context: BoltContext) -> None:
        removing(context=context)
        conductors.forget(workspace_key(context))
        log.info("cmbot was uninstalled from workspace %s: its tokens are deleted",
                 workspace_key(context))

    def on_revoked(event: dict[str, Any], context: BoltContext) -> None:
        revoking(event=event, context=context)
        if (event.get("tokens") or {}).get("bot"):
            conductors.forget(workspace_key(context))

    app.event("app_uninstalled")(on_uninstalled)
    app.event("tokens_revoked")(on_revoked)


def provider(conductors: Conductors, lanes: Lanes, many: bool) -> Callable[..., Any]:
    def provide(context: BoltContext, body: dict[str, Any], next: Callable[[], BoltResponse]) -> Any:
        """The workspace's conductor and the lanes for the listeners; and each event handled
        once: Slack re-sends events it thinks were lost (same `event_id`), also after a restart."""
        if many and context.bot_token is None:  # uninstalled, tokens revoked: Bolt's listeners
            return next()
        workspace = workspace_key(context) if many else DEFAULT
        conductor = conductors.of(workspace, context.bot_token, context.enterprise_id)
        if conductor is None:
            return next()
        context[CONDUCTOR], context[LANES] = conductor, lanes
        if context.response_url:  # replies to commands and clicks, retried like Web API calls
            context["respond"] = RetryingRespond(response_url=context.response_url,
                                                 retry_handlers=conductor.client.retry_handlers)
        event_id = body.get("event_id")
        if not isinstance(event_id, str):
            return next()
        desk = conductor.desk
        if not desk.claim(event_id):
            return BoltResponse(status=200, body="")
        context[EVENT] = event_id
        try:
            response = next()
        except BaseException:
            desk.release(event_id)
            raise
        if not context.get(HANDED):  # nothing was handed to a lane: the event is done
            desk.done(event_id)
        return response
    return provide


def reject_malformed(body: dict[str, Any], next: Callable[[], BoltResponse]) -> Any:
    """Payloads missing what every Slack payload of their kind has are refused up front."""
    return BoltResponse(status=400, body="malformed payload") if malformed(body) else next()


def malformed(body: dict[str, Any]) -> bool:
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        return not isinstance(event, dict) or not isinstance(event.get("type"), str) or any(
            key in event and not isinstance(event[key], str) for key in ("user", "channel", "ts", "text"))
    user = body.get("user")
    if kind in ("block_actions", "shortcut", "view_submission", "view_closed") and not (
            isinstance(user, dict) and isinstance(user.get("id"), str)):
        return True
    if kind == "shortcut":
        return not isinstance(body.get("trigger_id"), str)
    if kind == "block_actions":
        actions = body.get("actions")
        return not isinstance(actions, list) or not all(
            isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return not isinstance(view, dict) or not isinstance(view.get("callback_id"), str)
    if "command" in body:
        return not (isinstance(body.get("user_id"), str) and isinstance(body.get("channel_id"), str))
    return False


def _refuse(start_response: Callable, status: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain")])
    return [status.split(" ", 1)[1].lower().encode()]


def wsgi(app: App) -> Callable[..., Iterable[bytes]]:
    """Bolt's WSGI handler for `POST /slack/events`, plus `GET /healthz` for load balancers.
    What cannot be Slack is refused before Bolt reads it: a body over `BODY_MAX` (413), a
    timestamp that is not a number (401)."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > BODY_MAX:
            return _refuse(start_response, "413 Payload Too Large")
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if environ.get("REQUEST_METHOD") == "POST" and not (stamp and stamp.isdigit() and len(stamp) < 12):
            return _refuse(start_response, "401 Unauthorized")
        try:
            return slack(environ, start_response)
        except Exception as exc:  # a body Bolt cannot even parse: the sender's fault, not ours
            log.warning("refused a malformed request: %s", type(exc).__name__)
            return _refuse(start_response, "400 Bad Request")

    return application


@dataclass
class Bot:
    """A started bot: the Bolt app, its worker lanes and its housekeeping thread."""

    app: App
    lanes: Lanes
    reminders: Reminders

    def close(self) -> None:
        """Stop sweeping, finish the work handed to the lanes, then stop them (a bot stopped
        inside a process that lives on; `cmbot serve` simply exits)."""
        self.reminders.stop()
        self.lanes.wait_idle()
        self.lanes.shutdown()


def start(settings: Settings, desk: Desk) -> Bot:
    """The app, Slack checked, and its reminders swept in their own thread: what every way of
    serving starts with."""
    lanes = Lanes()
    app, conductors = build_app(settings, desk, lanes)
    reminders = Reminders(conductors, settings.remind_after, settings.expire_after, settings.sweep_every)
    reminders.start()
    return Bot(app, lanes, reminders)


def http_server(app: App, port: int, host: str = "0.0.0.0") -> Any:
    """Waitress serving the app at `/slack/events`, bound (port 0: the system picks one, see
    `effective_port`) but not yet running: `run()` serves until the process ends."""
    import waitress

    return waitress.create_server(wsgi(app), host=host, port=port, threads=8, ident="cmbot",
                                  max_request_body_size=BODY_MAX)


def serve(settings: Settings, desk: Desk) -> None:
    sys.setswitchinterval(0.001)  # hand the GIL to a woken worker soon, not after 5 ms
    bot = start(settings, desk)
    # What start-up loaded (flows, the archive's index of every consultation, the sessions'
    # index) lives as long as the process: out of the garbage collector's sight, so that its
    # full collections do not rescan it in the middle of a turn.
    gc.freeze()
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("cmbot: Socket Mode")
        SocketModeHandler(bot.app, settings.app_token).start()
        return
    # Bound first, then logged: with `--port 0` the system picks the port, and the log says which.
    try:
        server = http_server(bot.app, settings.port)
    except OSError as exc:  # the port taken by another program: the operator's to fix, in one line
        bot.close()
        raise ConfigError(f"cannot listen on port {settings.port} ({exc.strerror or exc}): "
                          "choose another with --port or PORT") from None
    log.info("cmbot: listening on http://0.0.0.0:%s/slack/events", server.effective_port)
    if settings.oauth is not None:
        log.info("cmbot: installing in many workspaces from http://0.0.0.0:%s/slack/install",
                 server.effective_port)
    server.run()
