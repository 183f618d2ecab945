"""`/cmbot` subcommands, the App Home tab and the global shortcut over HTTP, one end-to-end test
each. Who sees which consultation, languages and history pages are tested in-process
(`test_door_commands.py`)."""

from __future__ import annotations

from archive import anywhere_in_database
from interview_steps import ARTICLE, command, wait_question
from test_dm_interview import run_interview

USER, OTHER, DM, CHANNEL = "U1", "U2", "D1", "C1"


def finished(bot, user=USER, channel=DM):
    bot.driver.message(user, channel, "start")
    result = run_interview(bot, ARTICLE, user=user, channel=channel)
    return result.params["metadata"]["event_payload"]["consultation_id"]


def test_help_and_unknown_subcommand_answer_privately_with_usage(bot):
    status, body = command(bot, "help")
    assert status == 200 and "/cmbot start" in body and "/cmbot history" in body
    status, body = command(bot, "frobnicate <!here>")
    assert status == 200 and "frobnicate" in body and "/cmbot start" in body
    assert "<!here>" not in body
    bot.fake.assert_no_call("chat.postMessage", wait=0.3)


def test_history_show_export_delete(bot):
    fake = bot.fake
    cid = finished(bot)
    status, body = command(bot, "history", channel=DM)
    assert status == 200 and cid in body
    status, body = command(bot, f"show {cid}", channel=DM)
    assert status == 200 and "cmbot_recommendation" not in body and "Risks" in body
    # someone else cannot see a DM consultation, and it looks exactly like a missing one
    _, theirs = command(bot, f"show {cid}", user=OTHER)
    _, missing = command(bot, "show 00000000", user=OTHER)
    assert theirs.replace(cid, "X") == missing.replace("00000000", "X")
    mark = fake.mark()
    status, body = command(bot, f"export {cid}", channel=DM)
    assert status == 200
    upload = fake.wait_for("upload", after=mark)
    assert b"Reframed objectives" in upload.params["content"]
    done = fake.wait_for("files.completeUploadExternal", after=mark)
    assert done.params["channel_id"] == DM
    _, body = command(bot, f"delete {cid}", user=OTHER)
    assert "No consultation" in body
    _, body = command(bot, f"delete {cid}")
    assert "deleted" in body
    assert anywhere_in_database(bot.db_path, cid) == []  # backups included
    _, body = command(bot, "history")
    assert cid not in body


def test_lang_fr_switches_the_next_interview(bot):
    fake, driver = bot.fake, bot.driver
    _, body = command(bot, "lang fr")
    assert "français" in body
    driver.message(USER, DM, "start")
    call = wait_question(fake, "org_size")
    assert "Combien de personnes" in call.text
    _, body = command(bot, "lang de")
    assert "/cmbot lang fr" in body


def test_app_home_start_button_and_shortcut(bot):
    fake, driver = bot.fake, bot.driver
    driver.app_home_opened(USER)
    fake.wait_for("views.publish", lambda c: c.params["user_id"] == USER)
    view = fake.home_views[USER]
    assert any(e.get("action_id") == "cmbot_home_start" for b in view["blocks"]
               for e in b.get("elements", []))
    driver.block_action(USER, None, None, "cmbot_home_start", value="start",
                        block_id="cmbot_home", container_kind="view", view=view)
    first = wait_question(fake, "org_size")
    assert first.params["channel"].startswith("D")
    mark = fake.mark()
    driver.shortcut("cmbot_start", user=OTHER)
    opened = fake.wait_for("views.open", after=mark)
    assert opened.params["view"]["callback_id"] == "cmbot_start_modal"
    status, _ = driver.view_submission(OTHER, "cmbot_start_modal", state_values={
        "where": {"channel": {"type": "conversations_select", "selected_conversation": CHANNEL}},
        "team": {"team": {"type": "checkboxes", "selected_options": [{"value": "team"}]}}})
    assert status == 200
    root = fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == CHANNEL, after=mark)
    assert "team" in root.text.lower()
