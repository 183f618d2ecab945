"""The interview through the Slack door in this process (`door`: the listener functions called
as Bolt calls them, Slack's Web API recorded): every way to start, every kind of question,
refused answers, navigation, duplicates and the end. Each test takes milliseconds; the signed
HTTP suite keeps one end-to-end test per listener kind and contract path."""

from __future__ import annotations

from interview_steps import ARTICLE
from recording import asked

USER, OTHER, DM, CHANNEL = "U1", "U2", "D1", "C1"
FIRST = ["org_size", "departments", "proposed_host", "budget_owner"]


def answer_up_to(door, stop, answers=ARTICLE, user=USER, mark=0):
    """Answer each question as asked until `stop` is asked; returns that question."""
    for state, value in answers.items():
        question = door.client.question(state, mark)
        if state == stop:
            return question
        mark = door.client.mark()
        door.answer(user, question, state, value)
    return door.client.question(stop, mark)


def saved(door, channel=DM, thread_ts=None):
    session_id = door.desk.session_at(channel, thread_ts)
    with door.desk.session(session_id) as session:
        return session


def start_in_channel(door, user=USER, channel=CHANNEL):
    door.mention(user, channel, "<@UBOT> start")
    root = next(c for c in door.client.posted() if c.params["channel"] == channel
                and not c.params.get("thread_ts"))
    return root, door.client.question("org_size")


# --- starting -----------------------------------------------------------------------------------

def test_start_in_a_dm_posts_the_intro_then_question_one(door):
    door.message(USER, DM, "start")
    intro, first = door.client.posted()
    assert asked(intro) is None and "Where should your community manager sit?" in intro.text
    assert asked(first) == "org_size" and "Question 1 of" in first.blocks()
    assert first.params["channel"] == DM and not first.params.get("thread_ts")


def test_start_again_in_a_dm_shows_the_interview_in_progress(door):
    door.message(USER, DM, "start")
    answer_up_to(door, "departments")
    mark = door.client.mark()
    door.message(USER, DM, "start")
    notice, again = door.client.posted(mark)
    assert "already have an interview in progress" in notice.text
    assert asked(again) == "departments"
    assert len(door.desk.sessions_of(USER)) == 1


def test_a_dm_that_is_not_a_start_gets_a_hello_and_no_interview(door):
    door.message(USER, DM, "hi there")
    assert door.client.methods() == ["chat.postEphemeral"]
    assert "Say `start`" in door.client.told()[-1].text
    assert door.desk.session_at(DM) is None


def test_an_unknown_flow_is_named_with_the_known_ones(door):
    door.message(USER, DM, "start <nonsense>")
    assert door.client.methods() == ["chat.postEphemeral"]
    told = door.client.told()[-1].text
    assert "no interview called `&lt;nonsense&gt;`" in told and "`community_manager`" in told
    assert door.desk.session_at(DM) is None


def test_a_mention_starts_a_thread_under_a_root_message(door):
    root, first = start_in_channel(door)
    assert f"<@{USER}>" in root.text
    assert first.params["thread_ts"] == root.ts and first.params["channel"] == CHANNEL


def test_a_mention_that_is_not_a_start_answers_with_usage_privately(door):
    door.mention(USER, CHANNEL, "<@UBOT> what is this?")
    assert door.client.posted() == []
    assert "/cmbot start" in door.client.told()[-1].text


def test_a_channel_the_bot_is_not_in_says_how_to_invite_it_and_leaves_nothing(door):
    door.client.refuse_next("chat.postMessage", "not_in_channel")
    door.mention(USER, CHANNEL, "<@UBOT> start")
    assert "/invite @cmbot" in door.client.told()[-1].text
    assert door.desk.sessions_of(USER) == []
    mark = door.client.mark()  # once invited, a start works
    door.mention(USER, CHANNEL, "<@UBOT> start")
    assert asked(door.client.posted(mark)[-1]) == "org_size"


def test_a_start_names_its_flow_and_team_in_any_order_and_a_dm_is_never_a_team(door):
    door.mention(USER, CHANNEL, "<@UBOT> start objectives_review team")
    door.message(OTHER, "D2", "start team")
    (mine,), (theirs,) = door.desk.sessions_of(USER), door.desk.sessions_of(OTHER)
    assert (mine.flow_id, mine.team) == ("objectives_review", True)
    assert (theirs.flow_id, theirs.team) == ("community_manager", False)


def test_a_slash_start_in_a_channel_the_bot_is_not_in_answers_through_the_command(door):
    door.client.refuse_next("chat.postMessage", "not_in_channel")
    answer = door.command("start", user=USER, channel=CHANNEL)
    assert [c["text"] for c in answer.calls] == [
        "I cannot post in <#C1>. Invite me there first (`/invite @cmbot`), then try again."]
    assert door.client.told() == [] and door.desk.sessions_of(USER) == []


def test_a_group_dm_runs_the_interview_in_a_thread(door):
    answer = door.command("start", user=USER, channel="G0MPIM1", channel_name="mpdm-u1--u2-1")
    root = door.client.posted()[0]
    first = door.client.question("org_size")
    assert root.params["channel"] == "G0MPIM1" and first.params["thread_ts"] == root.ts
    assert "follow the thread" in answer.texts()
    mark = door.client.mark()  # a reply in its thread comes as `message.mpim`
    door.message(USER, "G0MPIM1", "medium please", thread_ts=root.ts, channel_type="mpim")
    assert "buttons" in door.client.posted(mark)[-1].text


def test_a_group_dm_without_the_bot_says_how_to_add_it_and_leaves_nothing(door):
    door.client.refuse_next("chat.postMessage", "channel_not_found")  # Slack's answer there
    answer = door.command("start", user=USER, channel="G0MPIM1", channel_name="mpdm-u1--u2-1")
    assert "Add apps" in answer.texts() and "group DM" in answer.texts()
    assert "Try again in a moment" not in answer.texts()
    assert [c.response.get("ok") for c in door.client.posted()] == [None]  # only the refused root
    assert door.desk.sessions_of(USER) == []  # nothing was left half-started
    mark = door.client.mark()
    door.command("start", user=USER, channel="G0MPIM1", channel_name="mpdm-u1--u2-1")
    assert door.client.question("org_size", mark).params["channel"] == "G0MPIM1"


def test_the_new_interview_button_starts_one_and_an_unknown_button_is_ignored(door):
    door.action(USER, "cmbot_new", DM, "1.1", value="new", block_id="cmbot_result")
    assert asked(door.client.posted()[-1]) == "org_size"
    mark = door.client.mark()
    door.action(USER, "cmbot_from_the_future", DM, "1.1", value="x", block_id="x")
    assert door.client.calls[mark:] == [] and len(door.ack.calls) == 2


def test_a_panel_asks_the_facts_once_and_posts_the_merged_result_in_its_thread(door):
    """The starter gives the organisation's facts and an opinion, a member only an opinion."""
    facts = {"org_size": "medium", "departments": ["communication", "marketing", "sales"]}
    mine = {"proposed_host": "sales", "budget_owner": "host", "budget_amount": "10 000",
            "objectives": ["fans", "conversion"], "reporting": "sales", "content": "little",
            "brand_reach": "niche", "collaboration": ["communication", "sales"],
            "dedicated_possible": "no"}
    theirs = {"proposed_host": "communication", "budget_owner": "host", "budget_amount": "30k",
              "objectives": ["awareness", "advocates"], "reporting": "qualitative",
              "dedicated_possible": "maybe"}
    door.command(f"panel <@{OTHER}>", user=USER, channel=CHANNEL)
    root = door.client.posted()[0]
    assert root.params["channel"] == CHANNEL and f"<@{OTHER}>" in root.blocks()
    for state, value in [*facts.items(), *mine.items(), ("confirm", "confirm")]:
        door.answer(USER, door.client.question(state, channel="DU1"), state, value)
    mark = door.client.mark()
    result = door.run(theirs, user=OTHER, channel="DU2")
    asked_of_them = [asked(c) for c in door.client.posted() if c.params["channel"] == "DU2"]
    assert "org_size" not in asked_of_them and "proposed_host" in asked_of_them
    assert result.params["channel"] == CHANNEL and result.params["thread_ts"] == root.ts
    payload = result.params["metadata"]["event_payload"]
    assert result.params["metadata"]["event_type"] == "cmbot_panel_result"
    assert payload["members"] == [USER, OTHER] and "proposed_host" in payload["divergences"]
    assert door.desk.consultation(payload["consultation_id"]) is not None
    assert door.client.since(mark, "chat.update")  # the root's progress was updated


def test_a_mention_delivered_twice_and_retried_starts_once(door):
    at = "1712345678.000100"
    door.mention(USER, CHANNEL, "<@UBOT> start", at=at)
    event_id = door.message(USER, CHANNEL, "<@UBOT> start", at=at)
    door.message(USER, CHANNEL, "<@UBOT> start", at=at, event_id=event_id)  # Slack's retry
    roots = [c for c in door.client.posted() if not c.params.get("thread_ts")]
    assert len(roots) == 1
    assert [asked(c) for c in door.client.posted()].count("org_size") == 1


# --- answering ----------------------------------------------------------------------------------

def test_a_whole_interview_answers_each_kind_of_question_and_ends_with_the_result(door):
    door.message(USER, DM, "start")
    result = door.run(ARTICLE)
    payload = result.params["metadata"]["event_payload"]
    assert result.params["metadata"]["event_type"] == "cmbot_recommendation"
    assert payload["flow"] == "community_manager" and payload["lang"] == "en"
    assert payload["budget_owner"] in ("dedicated", "management")
    assert "Who should pay" in result.blocks()
    # each answered question now shows its answer and who gave it, buttons gone
    budget = door.client.question("budget_amount")
    answered = door.client.updated(budget.ts)
    assert "€0" in answered.blocks() and f"<@{USER}>" in answered.blocks()
    assert "cmbot_choice" not in door.client.updated(door.client.question("org_size").ts).blocks()
    # the consultation is archived, the session gone
    consultation = door.desk.consultation(payload["consultation_id"])
    assert consultation is not None and consultation.started_by == USER
    assert consultation.answers["departments"] == ARTICLE["departments"]
    assert door.desk.session_at(DM) is None


def test_a_bad_number_is_asked_again_and_nothing_is_saved(door):
    door.message(USER, DM, "start")
    question = answer_up_to(door, "budget_amount")
    mark = door.client.mark()
    door.reply(USER, question, "twelve thousand")
    warning, again = door.client.posted(mark)
    assert "whole amount" in warning.text and warning.params["channel"] == DM
    assert warning.text.count("\n") == 0
    assert asked(again) == "budget_amount"
    session = saved(door)
    assert session.state == "budget_amount" and "budget_amount" not in session.answers
    mark = door.client.mark()
    door.reply(USER, again, "12 000 €")
    assert asked(door.client.posted(mark)[0]) == "objectives"
    assert "€12,000" in door.client.updated(again.ts).blocks()


def test_a_click_on_an_option_not_offered_is_refused_privately(door):
    door.message(USER, DM, "start")
    question = door.client.question("org_size")
    mark = door.client.mark()
    door.action(USER, "cmbot_choice_0", DM, question.ts, None, "household", "org_size")
    assert door.client.methods(mark) == ["chat.postEphemeral"]
    assert door.client.told(mark)[0].text.count("\n") == 0
    assert saved(door).state == "org_size" and saved(door).answers == {}


def test_a_multi_question_submitted_with_nothing_ticked_is_refused(door):
    door.message(USER, DM, "start")
    question = answer_up_to(door, "departments")
    mark = door.client.mark()
    door.submit(USER, question, "departments", [])
    assert door.client.methods(mark) == ["chat.postEphemeral"]
    assert saved(door).state == "departments"


def test_ticks_remembered_from_change_actions_count_when_the_submit_carries_none(door):
    door.message(USER, DM, "start")
    question = answer_up_to(door, "departments")
    for picked in (["sales"], ["communication", "sales"]):
        door.action(USER, "cmbot_multi", DM, question.ts, None, block_id="departments",
                    selected_options=picked)
    mark = door.client.mark()
    door.action(USER, "cmbot_submit", DM, question.ts, None, saved(door).id, "cmbot_nav")
    host = door.client.question("proposed_host", mark)
    offered = [e["value"] for b in host.params["blocks"] if b.get("block_id") == "proposed_host"
               for e in b["elements"]]
    assert offered == ["communication", "sales", "management", "undecided"]


def test_a_typed_reply_to_a_button_question_asks_for_the_buttons(door):
    door.message(USER, DM, "start")
    mark = door.client.mark()
    door.message(USER, DM, "medium")
    assert "buttons" in door.client.posted(mark)[-1].text
    assert saved(door).answers == {}


def test_replies_sent_to_the_channel_too_or_with_a_file_are_answers(door):
    root, _ = start_in_channel(door)
    question = answer_up_to(door, "budget_amount")
    mark = door.client.mark()
    door.reply(USER, question, "15000", subtype="thread_broadcast")
    assert asked(door.client.posted(mark)[0]) == "objectives"
    door.message(OTHER, "D2", "start")
    question = answer_up_to(door, "budget_amount", user=OTHER, mark=mark)
    mark = door.client.mark()
    door.reply(OTHER, question, "12k", subtype="file_share", files=[{"id": "F1", "name": "b.pdf"}])
    assert asked(door.client.posted(mark)[0]) == "objectives"
    assert root.params["channel"] == CHANNEL


def test_a_reply_redelivered_answers_once(door):
    start_in_channel(door)
    question = answer_up_to(door, "budget_amount")
    mark = door.client.mark()
    at = "1712345679.000100"
    event_id = door.reply(USER, question, "5k", at=at)
    door.reply(USER, question, "5k", at=at, event_id=event_id)  # Slack's retries
    door.reply(USER, question, "5k", at=at, event_id=event_id)
    door.reply(USER, question, "5k", at=at)  # the same message under another event id
    posted = door.client.posted(mark)
    assert [asked(c) for c in posted] == ["objectives"]
    assert not any("whole amount" in c.text for c in posted)


def test_free_text_is_never_echoed_raw(door):
    door.message(USER, DM, "start")
    other = answer_up_to(door, "objectives_other", with_other(""))
    mark = door.client.mark()
    door.reply(USER, other, "Ping <!channel> & <https://evil.example|click> now")
    assert asked(door.client.posted(mark)[0]) == "reporting"
    for call in door.client.calls:
        if call.method.startswith("chat."):
            raw = call.blocks() + call.text
            assert "<!channel>" not in raw and "<https://evil" not in raw
    assert "&lt;!channel&gt; &amp;" in door.client.updated(other.ts).blocks()


def with_other(text):
    """ARTICLE with "other" objectives and their free text, in the order they are asked."""
    answers = {}
    for state, value in ARTICLE.items():
        answers[state] = ["fans", "other"] if state == "objectives" else value
        if state == "objectives":
            answers["objectives_other"] = text
    return answers


def test_a_long_summary_is_split_and_loses_no_answer(door):
    door.message(USER, DM, "start")
    confirm = answer_up_to(door, "confirm", {**with_other("R&D <ideas> " + "&" * 480),  # 2 500 escaped
                                             "confirm": None})
    sections = [b["text"]["text"] for b in confirm.params["blocks"] if b["type"] == "section"]
    assert len("".join(sections)) > 3000 and all(len(text) <= 3000 for text in sections)
    summary = "\n".join(sections)
    assert "&amp;lt;" not in summary and "R&amp;D &lt;ideas&gt;" in summary
    assert "unit of its own" in summary  # the last answer is still there
    assert not any(text.rstrip().endswith(("&", "&amp", "&lt")) for text in sections)


def test_only_the_starter_may_answer_in_a_channel(door):
    _, first = start_in_channel(door, user=USER)
    mark = door.client.mark()
    door.click(OTHER, first, "org_size", "large")
    refusal = door.client.told(mark)[-1]
    assert refusal.params["user"] == OTHER and f"<@{USER}>" in refusal.text
    assert door.client.posted(mark) == []
    mark = door.client.mark()  # a reply in the thread from someone else is refused too
    door.message(OTHER, CHANNEL, "hello", thread_ts=first.params["thread_ts"])
    assert [c.params["user"] for c in door.client.told(mark)] == [OTHER]
    assert door.client.posted(mark) == []
    door.click(USER, first, "org_size", "large")  # the starter's click still works
    assert asked(door.client.posted(mark)[-1]) == "departments"


def test_in_a_team_interview_each_answer_records_who_gave_it(door):
    door.client.members[CHANNEL] = [USER, OTHER]
    door.command("start team", user=USER, channel=CHANNEL)
    first = door.client.question("org_size")
    door.click(OTHER, first, "org_size", "large")
    assert f"<@{OTHER}>" in door.client.updated(first.ts).blocks()
    assert saved(door, CHANNEL, first.params["thread_ts"]).answers["org_size"].by == OTHER


def test_the_result_of_a_channel_interview_goes_in_its_thread_and_sums_up_the_root(door):
    root, _ = start_in_channel(door)
    result = door.run(ARTICLE)
    assert result.params["thread_ts"] == root.ts
    cid = result.params["metadata"]["event_payload"]["consultation_id"]
    summary = door.client.updated(root.ts)
    assert cid in summary.text and "risk" in summary.text


# --- navigation ---------------------------------------------------------------------------------

def test_back_restart_and_cancel(door):
    door.message(USER, DM, "start")
    first = door.client.question("org_size")
    door.click(USER, first, "org_size", "small")
    second = door.client.question("departments")
    mark = door.client.mark()
    door.nav(USER, second, "cmbot_back")
    again = door.client.question("org_size", mark)
    assert "Back" in door.client.updated(second.ts).blocks()
    mark = door.client.mark()
    door.nav(USER, again, "cmbot_restart")
    assert "Starting over" in door.client.posted(mark)[0].text
    restarted = door.client.question("org_size", mark)
    assert saved(door).answers == {}
    mark = door.client.mark()
    door.nav(USER, restarted, "cmbot_cancel")
    assert "cancelled" in door.client.posted(mark)[-1].text.lower()
    assert door.desk.session_at(DM) is None
    mark = door.client.mark()  # its buttons now change nothing and say so, privately
    door.click(USER, restarted, "org_size", "large")
    assert door.client.methods(mark) == ["chat.postEphemeral"]
    assert "over or was cancelled" in door.client.told(mark)[0].text


def test_back_on_the_first_question_is_refused_privately(door):
    door.message(USER, DM, "start")
    first = door.client.question("org_size")
    mark = door.client.mark()
    door.nav(USER, first, "cmbot_back")
    assert door.client.methods(mark) == ["chat.postEphemeral"]
    assert saved(door).state == "org_size"


def test_cancel_in_a_channel_closes_its_root_message(door):
    root, first = start_in_channel(door)
    door.nav(USER, first, "cmbot_cancel")
    assert f"<@{USER}> cancelled" in door.client.updated(root.ts).text


def test_edit_from_the_confirm_step_returns_to_it(door):
    door.message(USER, DM, "start")
    confirm = answer_up_to(door, "confirm", {**ARTICLE, "confirm": None})
    mark = door.client.mark()
    door.click(USER, confirm, "confirm", "edit")
    picker = door.client.posted(mark)[0]
    assert any(b.get("block_id") == "cmbot_edit" for b in picker.params["blocks"])
    mark = door.client.mark()
    door.action(USER, "cmbot_edit", DM, picker.ts, None, "dedicated_possible", "cmbot_edit",
                select=True)
    question = door.client.question("dedicated_possible", mark)
    mark = door.client.mark()
    door.click(USER, question, "dedicated_possible", "yes")
    again = door.client.question("confirm", mark)
    assert "Yes" in again.blocks()
    mark = door.client.mark()
    door.action(USER, "cmbot_edit", DM, picker.ts, None, "org_size", "cmbot_edit", select=True)
    assert "no longer current" in door.client.told(mark)[0].text  # the old picker is stale


def test_editing_a_question_the_interview_did_not_ask_is_refused_privately(door):
    door.message(USER, DM, "start")
    confirm = answer_up_to(door, "confirm", {**ARTICLE, "confirm": None})
    door.click(USER, confirm, "confirm", "edit")
    picker = door.client.posted()[-1]
    for state in ("objectives_other", "nonsense"):  # skipped on this path; no such question
        mark = door.client.mark()
        door.action(USER, "cmbot_edit", DM, picker.ts, None, state, "cmbot_edit", select=True)
        assert door.client.methods(mark) == ["chat.postEphemeral"]
        assert "not part of this interview" in door.client.told(mark)[0].text
    assert saved(door).state == "confirm"


def test_resume_shows_the_current_question_again(door):
    door.message(USER, DM, "start")
    answer_up_to(door, "departments")
    mark = door.client.mark()
    door.action(USER, "cmbot_resume", value=saved(door).id)
    assert [asked(c) for c in door.client.posted(mark)] == ["departments"]
    mark = door.client.mark()
    door.action(OTHER, "cmbot_resume", DM, "1.1", value=saved(door).id)
    assert door.client.posted(mark) == [] and door.client.told(mark)
