"""The performance floor: the smallest Bolt bot that speaks cmbot's Slack contract.

No storage, no advice, no i18n, no durability: each answer moves an in-memory cursor and posts the
next question. Same server (waitress) as cmbot, so a benchmark can time it and cmbot side by side
in one run and report cmbot's turn latency as a ratio of this floor.
Run: VENV/bin/python floorbot.py PORT  (env SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL;
PORT 0: a free one, logged as `cmbot serve` logs it)
It answers `/cmbot start` in a DM only; the recommendation is a fixed stand-in with the metadata.
"""
from __future__ import annotations

import os
import sys
import threading

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import create_server

ORDER = ["org_size", "departments", "proposed_host", "budget_owner", "budget_amount", "objectives",
         "objectives_other", "reporting", "content", "brand_reach", "collaboration", "dedicated_possible", "confirm"]
DEPTS = ["communication", "marketing", "web", "sales", "customer_service", "product", "hr"]
OPTIONS = {
    "org_size": ["micro", "small", "medium", "large"], "departments": DEPTS,
    "proposed_host": DEPTS + ["management", "undecided"],
    "budget_owner": ["host", "management", "shared", "dedicated", "unknown"],
    "objectives": ["fans", "conversion", "company_news", "awareness", "support", "feedback", "advocates", "other"],
    "reporting": ["volume", "sales", "qualitative", "none"], "content": ["none", "little", "regular", "rich"],
    "brand_reach": ["household", "known", "niche"], "collaboration": DEPTS,
    "dedicated_possible": ["yes", "maybe", "no"], "confirm": ["confirm", "edit"]}
MULTI = {"departments", "objectives", "collaboration"}

client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"],
          process_before_response=True, token_verification_enabled=False)
cursors: dict[str, dict] = {}
lock = threading.Lock()


def ask(channel: str) -> None:
    c = cursors[channel]
    state = ORDER[c["i"]]
    if state in OPTIONS:
        if state in MULTI:
            el = [{"type": "checkboxes", "action_id": "cmbot_multi",
                   "options": [{"text": {"type": "plain_text", "text": o}, "value": o} for o in OPTIONS[state]]}]
            blocks = [{"type": "actions", "block_id": state, "elements": el},
                      {"type": "actions", "block_id": "nav", "elements": [
                          {"type": "button", "action_id": "cmbot_submit", "text": {"type": "plain_text", "text": "Next"}}]}]
        else:
            blocks = [{"type": "actions", "block_id": state, "elements": [
                {"type": "button", "action_id": f"cmbot_choice_{k}", "value": o,
                 "text": {"type": "plain_text", "text": o}} for k, o in enumerate(OPTIONS[state])]}]
    else:
        blocks = [{"type": "section", "block_id": state, "text": {"type": "mrkdwn", "text": state}}]
    client.chat_postMessage(channel=channel, text=state, blocks=blocks)


def advance(channel: str, value) -> None:
    with lock:
        c = cursors.get(channel)
        if c is None:
            return
        state = ORDER[c["i"]]
        c["answers"][state] = value
        c["i"] += 1
        if state == "budget_owner" and value == "unknown":
            c["i"] += 1
        if state != "confirm" and ORDER[c["i"]] == "objectives_other" and "other" not in (c["answers"].get("objectives") or []):
            c["i"] += 1
        if state == "confirm":
            del cursors[channel]
            client.chat_postMessage(channel=channel, text="done", metadata={
                "event_type": "cmbot_recommendation",
                "event_payload": {"consultation_id": channel, "flow": "community_manager", "lang": "en",
                                  "placement": "dedicated", "runner_up": "management", "risks": [], "reframed": []}})
            return
    ask(channel)


@app.command("/cmbot")
def on_command(ack, command):
    ack()
    with lock:
        cursors[command["channel_id"]] = {"i": 0, "answers": {}}
    ask(command["channel_id"])


@app.action({"action_id": __import__("re").compile(r"^cmbot_(choice_\d+|submit|multi)$")})
def on_action(ack, body, action):
    ack()
    if action["action_id"] == "cmbot_multi":
        return
    channel = body["channel"]["id"]
    if action["action_id"] == "cmbot_submit":
        state = ORDER[cursors[channel]["i"]]
        values = body["state"]["values"].get(state, {})
        picked = [o["value"] for v in values.values() for o in v.get("selected_options", [])]
        advance(channel, picked)
    else:
        advance(channel, action["value"])


@app.event("message")
def on_message(event):
    if event.get("bot_id") or event.get("subtype"):
        return
    advance(event["channel"], event.get("text", ""))


if __name__ == "__main__":
    handler = SlackRequestHandler(app)
    server = create_server(handler, host="127.0.0.1", port=int(sys.argv[1]), threads=4)
    # As `cmbot serve` says it (PORT 0: the system picks one, and this line says which).
    print(f"listening on http://127.0.0.1:{server.effective_port}/slack/events", file=sys.stderr,
          flush=True)
    server.run()
