"""The whole interview in French for a user whose Slack locale is fr-FR."""

from __future__ import annotations

from interview_steps import ARTICLE, answer_block, command, wait_question
from test_dm_interview import run_interview

USER, DM = "U1", "D1"


def test_whole_interview_in_french_then_back_to_english(bot):
    fake, driver = bot.fake, bot.driver
    fake.user_locales[USER] = "fr-FR"
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    assert "Combien de personnes" in first.text
    labels = [e["text"]["text"] for e in answer_block(first, "org_size")["elements"]]
    assert "Moins de 10" in labels
    nav = [e["text"]["text"] for b in first.params["blocks"] if b.get("block_id") == "cmbot_nav"
           for e in b["elements"]]
    assert nav == ["Retour", "Recommencer", "Annuler"]
    assert "Question 1 sur" in str(first.params["blocks"])
    result = run_interview(bot, ARTICLE)
    payload = result.params["metadata"]["event_payload"]
    assert payload["lang"] == "fr"
    text = str(result.params["blocks"])
    assert "Rattachement recommandé" in text and "Risques" in text
    assert "Qui doit financer le poste" in text and payload["budget_owner"] in ("dedicated", "management")
    assert all(r["to"] and "Faire" in payload["reframed"][0]["to"] for r in payload["reframed"])
    # the person prefers English from now on
    _, body = command(bot, "lang en", channel=DM)
    assert "English" in body
    mark = fake.mark()
    driver.message(USER, DM, "start")
    again = wait_question(fake, "org_size", after=mark)
    assert "How many people" in again.text


def test_objectives_review_flow_in_slack(bot):
    """`/cmbot start objectives_review`: a short interview answered with risks and reframes only."""
    from test_dm_interview import run_interview as run

    driver = bot.driver
    bot.fake.dms[USER] = DM  # the app's own DM with the user: the interview runs right there
    status, _ = driver.command("start objectives_review", channel=DM)
    assert status == 200
    answers = {"current_host": "sales", "budget_owner": "host",
               "objectives": ["fans", "awareness"], "reporting": "volume", "content": "none",
               "brand_reach": "niche"}
    result = run(bot, answers)
    payload = result.params["metadata"]["event_payload"]
    assert payload["flow"] == "objectives_review"
    assert [r["from"] for r in payload["reframed"]] == ["fans", "awareness"]
    assert {"quantitative_objectives", "budget_owner_pressure", "unrealistic_audience_target",
            "reporting_mismatch"} <= set(payload["risks"])
    assert "isolated_role" not in payload["risks"]  # this flow never asks about collaboration
    text = str(result.params["blocks"])
    assert "Recommended placement" not in text and "Risks in the current set-up" in text
    assert payload["budget_owner"] == "management"
    assert "Who pays" in text and "As long as the sales department pays" in text
