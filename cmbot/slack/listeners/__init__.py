"""One module per kind of listener, each with `register(app, conductor)`."""

from slack_bolt import App

from ..conversation import Conductor
from . import actions, commands, events, home, panel, views


def register_listeners(app: App, conductor: Conductor) -> None:
    for module in (commands, events, actions, views, home, panel):
        module.register(app, conductor)
    actions.register_fallback(app)
