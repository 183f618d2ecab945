"""One module per kind of listener, each with `register(app)` wiring its module-level functions
(the layout of Slack's bolt-python starter template). Listeners acknowledge, parse the payload
and hand the work to the conductor's lanes (`context.later`)."""

from slack_bolt import App

from . import actions, commands, events, home, panel, views


def register_listeners(app: App) -> None:
    for module in (commands, events, actions, views, home, panel):
        module.register(app)
    actions.register_fallback(app)
