"""`/cmbot` subcommands, consultations, App Home, the shortcut and languages through the Slack
door in this process (`door`): who sees which consultation, what each answer says, in which
language. Milliseconds each; the signed HTTP suite keeps one end-to-end test per listener kind
and contract path."""

from __future__ import annotations

import dataclasses
import json
import threading
from contextlib import AbstractContextManager

from archive import anywhere_in_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interview_steps import ARTICLE
from listener_driver import ListenerDriver
from recording import RecordingClient, asked

from cmbot.store.memory import MemoryStore

USER, OTHER, DM, CHANNEL = "U1", "U2", "D1", "C1"


def finished(door, user=USER, channel=DM):
    """A consultation `user` ran in `channel` (a DM, or a channel's thread); its id."""
    mark = door.client.mark()
    if channel.startswith("D"):
        door.message(user, channel, "start")
    else:
        door.mention(user, channel, "<@UBOT> start")
    result = door.run(ARTICLE, user=user, mark=mark)
    return result.params["metadata"]["event_payload"]["consultation_id"]


def buttons(blocks, action_id):
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == action_id]


# --- consultations: who sees what -----------------------------------------------------------------

def test_show_export_and_delete_need_an_id(door):
    for sub in ("show", "export", "delete"):
        assert f"/cmbot {sub} 3f9a1c2e" in door.command(sub).last["text"]


def test_a_dm_consultation_is_its_owners_alone_and_others_get_not_found(door):
    cid = finished(door)
    assert "Risks" in door.command(f"show {cid}").texts()
    theirs = door.command(f"show {cid}", user=OTHER).last["text"]
    missing = door.command("show 00000000", user=OTHER).last["text"]
    assert theirs.replace(cid, "X") == missing.replace("00000000", "X")
    for sub in ("export", "delete"):
        assert "No consultation" in door.command(f"{sub} {cid}", user=OTHER).last["text"]
    assert door.client.since(0, "files.upload") == []
    assert door.desk.consultation(cid) is not None
    assert cid not in door.command("history", user=OTHER).texts()
    assert "deleted" in door.command(f"delete {cid}").last["text"]  # the owner, at once in a DM
    assert door.desk.consultation(cid) is None
    assert cid not in door.command("history").texts()


def test_channel_consultations_are_visible_to_members(make_door):
    door = make_door(engine="tinydb")
    cid = finished(door, channel=CHANNEL)
    door.client.members[CHANNEL] = [USER, OTHER]
    assert "Risks" in door.command(f"show {cid}", user=OTHER).texts()
    assert cid in door.command("history", user=OTHER).texts()
    assert "No consultation" in door.command(f"show {cid}", user="U3").last["text"]
    assert f"<@{USER}>" in door.command(f"delete {cid}", user=OTHER).last["text"]  # only its owner
    # in a channel, the owner is asked to confirm before it disappears for everyone
    asked_first = door.command(f"delete {cid}", user=USER).last
    assert buttons(asked_first["blocks"], "cmbot_delete_confirm")
    assert anywhere_in_database(door.db_path, cid) != []
    kept = door.action(USER, "cmbot_delete_keep", CHANNEL, "1.1", value=cid, block_id="cmbot_delete")
    assert "kept" in kept.last["text"] and kept.last["replace_original"] is True
    done = door.action(OTHER, "cmbot_delete_confirm", CHANNEL, "1.1", value=cid,
                       block_id="cmbot_delete")  # a confirm button forwarded to someone else
    assert "No consultation" in done.last["text"] and door.desk.consultation(cid) is not None
    done = door.action(USER, "cmbot_delete_confirm", CHANNEL, "1.1", value=cid,
                       block_id="cmbot_delete")
    assert "deleted" in done.last["text"]
    assert anywhere_in_database(door.db_path, cid) == []


def test_an_export_is_uploaded_where_the_consultation_ran(door):
    cid = finished(door)
    assert "MD" in door.command(f"export {cid}").last["text"]
    upload = door.client.since(0, "files.upload")[-1]
    assert upload.params["channel"] == DM and "Reframed objectives" in upload.params["content"]
    door.command(f"export {cid} json")
    assert json.loads(door.client.since(0, "files.upload")[-1].params["content"])["consultation_id"] == cid
    door.client.refuse_next("files.upload", "not_in_channel")
    assert "could not be uploaded (not_in_channel)" in door.command(f"export {cid}").last["text"]


def test_the_export_button_of_a_result_and_someone_elses(door):
    cid = finished(door)
    result = door.client.posted()[-1]
    md = buttons(result.params["blocks"], "cmbot_export_md")[0]
    door.action(USER, "cmbot_export_md", DM, result.ts, value=md["value"], block_id="cmbot_result")
    assert door.client.since(0, "files.upload")[-1].params["filename"] == f"cmbot-{cid}.md"
    mark = door.client.mark()
    door.action(OTHER, "cmbot_export_md", "D2", "1.1", value=cid, block_id="cmbot_result")
    assert door.client.since(mark, "files.upload") == []
    assert f"No consultation `{cid}`" in door.client.told(mark)[-1].text


def test_rerun_with_one_change_shows_what_changed(door):
    parent = finished(door)
    blocks = door.command(f"show {parent}").last["blocks"]
    rerun = buttons(blocks, "cmbot_rerun")[0]
    mark = door.client.mark()
    door.action(USER, "cmbot_rerun", DM, "1712345678.000300", value=rerun["value"],
                block_id="cmbot_result")
    confirm = door.client.question("confirm", mark)  # every answer is already there
    assert "Sales" in confirm.blocks()
    mark = door.client.mark()
    door.click(USER, confirm, "confirm", "edit")
    picker = door.client.posted(mark)[0]
    mark = door.client.mark()
    door.action(USER, "cmbot_edit", DM, picker.ts, None, "dedicated_possible", "cmbot_edit",
                select=True)
    mark = door.client.mark()
    door.click(USER, door.client.question("dedicated_possible"), "dedicated_possible", "yes")
    confirm = door.client.question("confirm", mark)
    mark = door.client.mark()
    door.click(USER, confirm, "confirm", "confirm")
    result = next(c for c in door.client.posted(mark) if c.params.get("metadata"))
    payload = result.params["metadata"]["event_payload"]
    assert payload["placement"] == "dedicated" and payload["consultation_id"] != parent
    assert f"What changed since consultation {parent}" in result.blocks()
    assert "Could the role have a unit of its own" in result.blocks()
    assert door.desk.consultation(payload["consultation_id"]).parent_id == parent


def test_a_rerun_clicked_once_and_delivered_twice_starts_one_interview(door):
    cid = finished(door)
    mark = door.client.mark()
    for _ in range(2):
        door.action(USER, "cmbot_rerun", DM, "1.1", value=cid, block_id="cmbot_result",
                    action_ts="1712345678.000500")
    assert [asked(c) for c in door.client.posted(mark)] == [None, "confirm"]
    assert len(door.desk.sessions_of(USER)) == 1


def test_a_rerun_of_a_consultation_one_cannot_see_is_not_found(door):
    cid = finished(door)
    mark = door.client.mark()
    door.action(OTHER, "cmbot_rerun", "D2", "1.1", value=cid, block_id="cmbot_result")
    assert door.client.posted(mark) == [] and door.desk.sessions_of(OTHER) == []
    assert "No consultation" in door.client.told(mark)[-1].text


def test_history_is_paginated_newest_first(door):
    first = door.desk.consultation(finished(door))
    ids = [first.id]
    for i in range(1, 12):  # eleven more, each finished a minute after the one before
        ids.append(f"{first.id[:8]}{i:04d}")
        door.desk.add(dataclasses.replace(first, id=ids[-1],
                                          finished_at=f"2099-01-01T00:{i:02d}:00+00:00"))
    page = door.command("history").last
    text = json.dumps(page["blocks"])
    assert ids[-1] in text and ids[0] not in text  # newest first, ten a page
    more = buttons(page["blocks"], "cmbot_history_more")[0]
    second = door.action(USER, "cmbot_history_more", "C1", "1712345678.000400",
                         value=more["value"], block_id="cmbot_history").last
    rest = json.dumps(second["blocks"])
    assert ids[0] in rest and ids[1] in rest and ids[-1] not in rest
    assert second["replace_original"] is True


def test_a_history_page_out_of_range_shows_the_last_page(door):
    answer = door.action(USER, "cmbot_history_more", DM, "1712345678.000100", value="12",
                         block_id="cmbot_history").last
    assert answer["blocks"] and all(b["text"]["text"].strip() for b in answer["blocks"]
                                    if b["type"] == "section")
    cid = finished(door)
    for value in ("12", "99999999999", "-3", "x"):
        answer = door.action(USER, "cmbot_history_more", DM, "1.1", value=value,
                             block_id="cmbot_history").last
        assert cid in json.dumps(answer["blocks"]), value


# --- App Home, the shortcut ---------------------------------------------------------------------

def test_app_home_lists_interviews_in_progress_with_resume_and_recent_consultations(door):
    cid = finished(door, channel="D9")
    door.message(USER, DM, "start")
    door.click(USER, door.client.question("org_size"), "org_size", "large")
    door.home_opened(USER)
    view = door.client.since(0, "views.publish")[-1].params["view"]
    assert door.client.since(0, "views.publish")[-1].params["user_id"] == USER
    assert "question 2 of" in json.dumps(view["blocks"]) and cid in json.dumps(view["blocks"])
    resume = next(b["accessory"] for b in view["blocks"]
                  if b.get("accessory", {}).get("action_id") == "cmbot_resume")
    mark = door.client.mark()
    door.action(USER, "cmbot_resume", value=resume["value"])
    assert [asked(c) for c in door.client.posted(mark)] == ["departments"]


def test_app_home_refused_by_slack_stays_as_it_was_and_its_panel_button_opens_the_modal(door):
    door.client.refuse_next("views.publish", "not_enabled")
    door.home_opened(USER)
    assert door.client.methods() == ["views.publish"]  # logged; nothing said, nothing broken
    door.action(USER, "cmbot_home_panel", value="panel", block_id="cmbot_home")
    assert door.client.since(0, "views.open")[-1].params["view"]["callback_id"] == "cmbot_panel_modal"


def test_app_home_start_opens_the_interview_in_the_persons_dm(door):
    door.client.dms[USER] = "D77"
    door.action(USER, "cmbot_home_start", value="start", block_id="cmbot_home")
    assert door.client.question("org_size").params["channel"] == "D77"
    door.client.refuse_next("conversations.open", "user_disabled")
    mark = door.client.mark()
    door.action(OTHER, "cmbot_home_start", value="start", block_id="cmbot_home")
    told = door.client.posted(mark)  # no DM to start in: said in the person's DM, once it opens
    assert [c.params["channel"] for c in told] == ["DU2"] and "user_disabled" in told[0].text
    assert door.desk.sessions_of(OTHER) == []


def test_the_shortcut_opens_the_modal_and_its_submission_starts_where_asked(door):
    door.shortcut("cmbot_start", user=OTHER)
    opened = door.client.since(0, "views.open")[-1]
    assert opened.params["view"]["callback_id"] == "cmbot_start_modal"
    door.view_submission(OTHER, "cmbot_start_modal", {
        "where": {"channel": {"type": "conversations_select", "selected_conversation": CHANNEL}},
        "team": {"team": {"type": "checkboxes", "selected_options": [{"value": "team"}]}}})
    root = door.client.posted()[0]
    assert root.params["channel"] == CHANNEL and "team" in root.text.lower()
    mark = door.client.mark()
    door.view_submission(USER, "cmbot_start_modal", {})  # no channel: the person's DM
    assert door.client.question("org_size", mark).params["channel"] == "DU1"
    door.client.refuse_next("views.open", "expired_trigger_id")
    mark = door.client.mark()
    door.shortcut("cmbot_start", user=USER)
    assert "expired_trigger_id" in " ".join(c.text for c in door.client.since(mark)
                                            if c.method.startswith("chat."))


def test_a_panel_starts_from_the_command(door):
    door.client.members[CHANNEL] = [USER, OTHER, "U3"]
    answer = door.command(f"panel <@{OTHER}> <@U3>", user=USER, channel=CHANNEL)
    assert CHANNEL in answer.last["text"]
    root = door.client.posted()[0]
    assert root.params["channel"] == CHANNEL and not root.params.get("thread_ts")
    assert door.client.question("org_size").params["channel"] == "DU1"  # the starter's DM first


def test_the_panel_modal_says_what_is_wrong_on_its_own_fields(door):
    door.shortcut("cmbot_panel", user=USER)
    modal = door.client.since(0, "views.open")[-1].params["view"]
    assert modal["callback_id"] == "cmbot_panel_modal"
    picked = {"members": {"members": {"type": "multi_users_select", "selected_users": [OTHER]}}}
    in_a_dm = door.view_submission(USER, "cmbot_panel_modal", {
        **picked, "where": {"channel": {"type": "conversations_select", "selected_conversation": DM}}},
        modal["private_metadata"])
    assert in_a_dm["response_action"] == "errors" and list(in_a_dm["errors"]) == ["where"]
    assert "A panel runs in a channel" in in_a_dm["errors"]["where"]
    alone = door.view_submission(USER, "cmbot_panel_modal", {"where": {"channel": {
        "type": "conversations_select", "selected_conversation": CHANNEL}}}, modal["private_metadata"])
    assert list(alone["errors"]) == ["members"] and "Name the members" in alone["errors"]["members"]
    assert door.client.posted() == [] and door.desk.sessions_of(USER) == []


# --- languages ----------------------------------------------------------------------------------

def test_lang_sets_the_next_interviews_language_and_refuses_others(door):
    assert "français" in door.command("lang fr").last["text"]
    door.message(USER, DM, "start")
    assert "Combien de personnes" in door.client.question("org_size").text
    assert "/cmbot lang fr" in door.command("lang de").last["text"]


def test_a_french_slack_locale_picks_french_and_a_choice_beats_it(door):
    door.client.locales[USER] = "fr-FR"
    door.message(USER, DM, "start")
    first = door.client.question("org_size")
    assert "Combien de personnes" in first.text
    info = door.client.since(0, "users.info")[0]
    assert info.params["include_locale"] is True
    labels = [e["text"]["text"] for b in first.params["blocks"] if b.get("block_id") == "org_size"
              for e in b["elements"]]
    assert "Moins de 10" in labels
    nav = [e["text"]["text"] for b in first.params["blocks"] if b.get("block_id") == "cmbot_nav"
           for e in b["elements"]]
    assert nav == ["Retour", "Recommencer", "Annuler"]
    assert "Question 1 sur" in first.blocks()
    result = door.run(ARTICLE)
    payload = result.params["metadata"]["event_payload"]
    assert payload["lang"] == "fr"
    assert "Rattachement recommandé" in result.blocks() and "Risques" in result.blocks()
    assert "Qui doit financer le poste" in result.blocks()
    assert payload["budget_owner"] in ("dedicated", "management")
    assert all(r["to"] for r in payload["reframed"]) and "Faire" in payload["reframed"][0]["to"]
    assert "English" in door.command("lang en").last["text"]  # English from now on
    mark = door.client.mark()
    door.message(USER, DM, "start")
    assert "How many people" in door.client.question("org_size", mark).text


def test_the_objectives_review_flow_in_the_persons_own_dm(door):
    """`/cmbot start objectives_review`: a short interview answered with risks and reframes only."""
    door.command("start objectives_review", channel="DU1")
    answers = {"current_host": "sales", "budget_owner": "host",
               "objectives": ["fans", "awareness"], "reporting": "volume", "content": "none",
               "brand_reach": "niche"}
    result = door.run(answers)
    payload = result.params["metadata"]["event_payload"]
    assert payload["flow"] == "objectives_review" and result.params["channel"] == "DU1"
    assert [r["from"] for r in payload["reframed"]] == ["fans", "awareness"]
    assert {"quantitative_objectives", "budget_owner_pressure", "unrealistic_audience_target",
            "reporting_mismatch"} <= set(payload["risks"])
    assert "isolated_role" not in payload["risks"]  # this flow never asks about collaboration
    assert "Recommended placement" not in result.blocks()
    assert "Risks in the current set-up" in result.blocks()
    assert payload["budget_owner"] == "management"
    assert "Who pays" in result.blocks() and "As long as the sales department pays" in result.blocks()


def test_start_in_a_dm_between_people_runs_in_the_bots_dm(door):
    answer = door.command("start", user=USER, channel="D5")
    assert "our own DM" in answer.texts()
    assert door.client.question("org_size").params["channel"] == "DU1"


# --- whatever people send -------------------------------------------------------------------------

def test_help_and_unknown_subcommands_answer_with_usage(door):
    assert "/cmbot history" in door.command("help").last["text"]
    assert door.command("").last["text"] == door.command("help").last["text"]
    answer = door.command("frobnicate <!here>").last["text"]
    assert "frobnicate" in answer and "/cmbot start" in answer and "<!here>" not in answer
    assert door.client.posted() == []


def test_oversized_and_control_text_is_capped(door):
    door.message(USER, DM, "start")
    answer = door.command("x" * 20_000)
    assert len(json.dumps(answer.calls)) < 4000
    mark = door.client.mark()
    door.message(USER, DM, "\x00\x07" + "y" * 50_000)
    assert "buttons" in door.client.posted(mark)[-1].text
    assert all(len(call.text) < 4000 for call in door.client.calls)


STATES = ["org_size", "departments", "proposed_host", "budget_owner", "budget_amount",
          "objectives", "objectives_other", "reporting", "content", "brand_reach",
          "collaboration", "dedicated_possible", "confirm", "nonsense"]
VALUES = ["small", "sales", "management", "host", "unknown", "fans", "other", "volume", "none",
          "household", "yes", "no", "confirm", "edit", "", "<!channel>", "x" * 80]
ACTIONS = ["cmbot_choice_0", "cmbot_choice", "cmbot_submit", "cmbot_back", "cmbot_restart",
           "cmbot_cancel", "cmbot_edit", "cmbot_multi", "cmbot_resume", "cmbot_export_md",
           "cmbot_rerun", "cmbot_new", "cmbot_history_more", "something_else"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from([USER, OTHER]), st.sampled_from(ACTIONS),
                                st.sampled_from(STATES), st.sampled_from(VALUES),
                                st.booleans()), min_size=1, max_size=15))
def test_random_clicks_and_replies_never_break_anything(door, steps):
    """Any sequence is acknowledged and handled without an error (a listener's exception would
    fail this test: the door's lanes run each job in the test's own thread)."""
    mark = door.client.mark()
    door.message(USER, DM, "start")  # a new interview, or the one still running is shown again
    question = next(c for c in door.client.posted(mark) if any(
        b.get("block_id") == "cmbot_nav" for b in c.params.get("blocks") or []))
    for user, action, state, value, as_reply in steps:
        if as_reply:
            door.message(user, DM, value or "?")
            continue
        acks = len(door.ack.calls)
        door.action(user, action, DM, question.ts, value=value, block_id=state,
                    select=action == "cmbot_choice", state_values={state: {"cmbot_multi": {
                        "type": "checkboxes", "selected_options": [{"value": value}]}}})
        assert len(door.ack.calls) == acks + 1, action
    # whatever happened, the person can always end it and start afresh
    door.message(USER, DM, "start")
    assert "/cmbot start" in door.command("help").last["text"]


class MeetingPoint(MemoryStore):
    """The memory engine, with the first interview start held still just before its session
    is first written (`id_taken`, when it picks an id) until a second start has come as far:
    to the DM's start lock, or past the "is one running here?" look to its own `id_taken`."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals = 0
        self.second = threading.Event()

    def _arrive(self) -> None:
        self.arrivals += 1
        if self.arrivals == 1:
            self.second.wait(5)
        else:
            self.second.set()

    def id_taken(self, session_id: str) -> bool:
        self._arrive()
        return super().id_taken(session_id)

    def hold(self, key: str) -> AbstractContextManager[None]:
        if key.startswith("dm:") and self.arrivals == 1:
            self._arrive()
        return super().hold(key)


def test_two_starts_in_one_dm_at_once_begin_one_interview(shipped_desk):
    store = MeetingPoint()
    door = ListenerDriver(shipped_desk.over(store), RecordingClient(store))
    first = threading.Thread(target=door.conductor.start_in_dm, args=(USER,))
    first.start()  # App Home's button …
    door.message(USER, "DU1", "start")  # … and a typed `start`, at the same moment
    first.join(5)
    assert store.session_ids() == [door.desk.session_at("DU1")]
    said = [c.text for c in door.client.posted() if c.params["channel"] == "DU1"]
    assert len([c for c in door.client.posted() if asked(c) == "org_size"]) == 2
    assert any("already have an interview in progress" in text for text in said)
