"""Block Kit rendering: pure functions from the core's data (and a language) to blocks.

A contract with people's clients and the tests (messages posted before an upgrade stay
clickable): a question's answer block has `block_id` = the state id and its options
carry their option id as `value`; multi questions add a `cmbot_submit` button; every question
has `cmbot_back`, `cmbot_restart` and `cmbot_cancel`. Navigation buttons carry the session id
as their value so a click always names its interview.
"""

from __future__ import annotations

from typing import Any

from ..advisor.explain import inline
from ..advisor.words import Funding
from ..consultation import change_lines
from ..i18n import t
from ..interview import Flow, Interview, Question, Session, Where
from ..interview.where import CHANNEL
from ..interview.wording import describe
from ..report import Report

Block = dict[str, Any]
BUTTONS_MAX = 5  # more options than this get a menu, which stays readable on a phone
PLAIN_MAX, HEADER_MAX, TEXT_MAX = 75, 150, 3000  # Block Kit's limits for buttons/options, headers, sections
NAV_BLOCK = "cmbot_nav"


def esc(text: Any) -> str:
    """Escape what people typed before it reaches Slack: no `<!channel>`, no fake links."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def where_label(where: Where, lang: str) -> str:
    """Where an interview ran, as history lines and the App Home show it."""
    if where.kind == CHANNEL:
        return t("slack.where_channel", lang, channel=where.channel)
    return t("slack.where_dm", lang)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word when one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 2 // 3 else cut).rstrip() + "…"


def plain(text: str, limit: int = PLAIN_MAX) -> dict[str, Any]:
    """Plain text within the limit of the field it goes in (75 for buttons and options, 150
    for headers and placeholders, 24 for a modal's title)."""
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": True}


def safe_cut(text: str, limit: int) -> str:
    """At most `limit` characters of already escaped mrkdwn, never ending inside an entity
    (`&amp;`) or a `<…>` mention or link."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    amp, lt = cut.rfind("&"), cut.rfind("<")
    if amp > cut.rfind(";"):
        cut = cut[:amp]
    if lt > cut.rfind(">"):
        cut = cut[:lt]
    return cut


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": safe_cut(text, TEXT_MAX) or " "}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def sections(text: str) -> list[Block]:
    """Text longer than one section allows, split into sections at line ends (a long line at
    its last safe point); no section for empty text."""
    blocks: list[Block] = []
    chunk = ""
    for line in text.split("\n"):
        while len(line) > TEXT_MAX:
            head = safe_cut(line, TEXT_MAX)
            blocks.append(section(chunk + "\n" + head if chunk else head))
            chunk, line = "", line[len(head):]
        if chunk and len(chunk) + 1 + len(line) > TEXT_MAX:
            blocks.append(section(chunk))
            chunk = line
        else:
            chunk = f"{chunk}\n{line}" if chunk else line
    if chunk.strip():
        blocks.append(section(chunk))
    return blocks


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def nav_block(session: Session, lang: str, submit: bool = False) -> Block:
    elements = [button(t("slack.submit", lang), "cmbot_submit", session.id, "primary")] if submit else []
    elements += [
        button(t("nav.back", lang), "cmbot_back", session.id),
        button(t("nav.restart", lang), "cmbot_restart", session.id),
        button(t("nav.cancel", lang), "cmbot_cancel", session.id, "danger"),
    ]
    return {"type": "actions", "block_id": NAV_BLOCK, "elements": elements}


def answer_block(flow: Flow, question: Question, session: Session) -> Block | None:
    lang, values = session.lang, session.values()
    options = flow.options(question, values)
    previous = session.answers.get(question.id)
    if question.kind == "multi":
        element: dict[str, Any] = {
            "type": "checkboxes",
            "action_id": "cmbot_multi",
            "options": [option(o.label[lang], o.id) for o in options],
        }
        chosen = [option(o.label[lang], o.id) for o in options
                  if previous and o.id in previous.value]
        if chosen:
            element["initial_options"] = chosen
        return {"type": "actions", "block_id": question.id, "elements": [element]}
    if question.kind in ("choice", "confirm"):
        if len(options) <= BUTTONS_MAX:
            elements = [
                button(o.label[lang], f"cmbot_choice_{i}", o.id,
                       "primary" if o.id == "confirm" else None)
                for i, o in enumerate(options)
            ]
        else:
            elements = [{
                "type": "static_select",
                "action_id": "cmbot_choice",
                "placeholder": plain(t("slack.edit_pick", lang), HEADER_MAX),
                "options": [option(o.label[lang], o.id) for o in options],
            }]
        return {"type": "actions", "block_id": question.id, "elements": elements}
    return None  # text and number: answered by a reply


def question_blocks(interview: Interview, session: Session, in_thread: bool) -> list[Block]:
    flow = interview.flow
    question = flow.states[session.state]
    lang = session.lang
    blocks: list[Block] = []
    if question.kind == "confirm":
        lines = [f"• *{q.prompt[lang]}* {esc(describe(flow, q.id, v, lang))}"
                 for q, v in interview.summary(session)]
        blocks += sections(t("slack.confirm_title", lang) + "\n" + "\n".join(lines))
    else:
        n, total = interview.progress(session)
        blocks.append(context(t("slack.progress", lang, n=n, total=total)))
    blocks.append(section(f"*{question.prompt[lang]}*"))
    if question.help[lang]:
        blocks.append(context(question.help[lang]))
    answer = answer_block(flow, question, session)
    if answer:
        blocks.append(answer)
    else:
        # Answered by a reply; the hint carries the state id so the question is still findable.
        hint = "slack.reply_hint_thread" if in_thread else "slack.reply_hint_dm"
        blocks.append({**context(t(hint, lang)), "block_id": question.id})
    blocks.append(nav_block(session, lang, submit=question.kind == "multi"))
    return blocks


def answered_blocks(flow: Flow, session: Session, state_id: str, value: Any, user: str) -> list[Block]:
    """What a question message becomes once answered: the question, the answer and who gave it."""
    lang = session.lang
    question = flow.states[state_id]
    answer = esc(describe(flow, state_id, value, lang))
    return [
        section(f"*{question.prompt[lang]}*"),
        context(":white_check_mark: " + t("slack.answered_by", lang, answer=answer, user=esc(user))),
    ]


def edit_picker(interview: Interview, session: Session) -> list[Block]:
    lang = session.lang
    options = [option(q.prompt[lang], q.id) for q, _ in interview.summary(session)]
    return [
        section(t("nav.edit_which", lang)),
        {"type": "actions", "block_id": "cmbot_edit", "elements": [{
            "type": "static_select", "action_id": "cmbot_edit",
            "placeholder": plain(t("slack.edit_pick", lang), HEADER_MAX), "options": options,
        }]},
        nav_block(session, lang),
    ]


def score_bar(score: int, width: int = 10) -> str:
    filled = round(score * width / 100)
    return "█" * filled + "░" * (width - filled)


def placement_blocks(report: Report) -> list[Block]:
    """The placement with its score, how a tie was settled, and the runner-up (or none)."""
    lang, placement, runner_up = report.lang, report.advice.placement, report.advice.runner_up
    top = placement.score
    head = (f"*{placement.line}*\n"
            f"`{t('slack.bar_label', lang, bar=score_bar(top), score=top)}`\n"
            f"{placement.why}")
    if placement.tie_text:
        head += f"\n_{placement.tie_text}_"
    second = runner_up.score
    runner_up_text = runner_up.line + (
        f"\n`{t('slack.bar_label', lang, bar=score_bar(second), score=second)}`"
        if second is not None else "")
    lines = [f"`{score_bar(s.score)}` {s.score:>3} · {s.label}"
             + ("" if s.eligible else f" _({t('advice.excluded', lang)})_")
             for s in report.advice.scores]
    return [section(head), section(runner_up_text),
            section(t("slack.scores_title", lang) + "\n" + "\n".join(lines))]


def budget_block(funding: Funding, lang: str, full: bool) -> Block:
    title = t("slack.budget_title" if full else "slack.budget_title_now", lang)
    return section(title + "\n" + t("slack.budget_block", lang, line=funding.line, why=funding.why))


def recommendation_blocks(report: Report, full: bool) -> list[Block]:
    lang, advice = report.lang, report.advice
    blocks: list[Block] = [{"type": "header", "text": plain(
        t("advice.title" if full else "advice.title_now", lang), HEADER_MAX)}]
    if report.changes is not None:
        title, lines = change_lines(report.changes, lang)
        blocks.append(section(f"*{title}*\n" + "\n".join(f"• {esc(line)}" for line in lines)))
    if full:
        blocks += placement_blocks(report)
    if advice.funding:
        blocks.append(budget_block(advice.funding, lang, full))
    blocks.append({"type": "divider"})
    risk_lines = [f":warning: *{r.title}*\n{esc(r.explanation)}" for r in advice.risks]
    blocks.append(section(t("slack.risks_title" if full else "slack.risks_title_now", lang) + "\n"
                          + ("\n\n".join(risk_lines) or t("advice.no_risks", lang))))
    blocks.append({"type": "divider"})
    blocks.append(section(t("slack.reframed_title", lang)))
    for item in advice.reframed:
        indicators = "\n".join(f"• {i}" for i in item.indicators)
        blocks.append(section(t("slack.reframe_block", lang, **{
            "from": esc(item.label), "to": esc(item.to), "why": item.why,
            "gain": inline(item.gain), "indicators": indicators})))
    if advice.evidence:
        blocks.append(context(t("slack.evidence_title", lang) + "\n" + "\n".join(
            t("evidence.line", lang, text=e.text, source=e.source) for e in advice.evidence)))
    cid = report.consultation_id
    blocks.append({"type": "actions", "block_id": "cmbot_result", "elements": [
        button(t("slack.export_md", lang), "cmbot_export_md", cid),
        button(t("slack.export_json", lang), "cmbot_export_json", cid),
        button(t("slack.rerun", lang), "cmbot_rerun", cid),
        button(t("slack.new_interview", lang), "cmbot_new", cid, "primary"),
    ]})
    return blocks


def recommendation_metadata(report: Report) -> dict[str, Any]:
    advice = report.advice
    return {
        "event_type": "cmbot_recommendation",
        "event_payload": {
            "consultation_id": report.consultation_id,
            "flow": report.flow,
            "lang": report.lang,
            "placement": advice.placement.place,
            "runner_up": advice.runner_up.place,
            "budget_owner": advice.funding.owner if advice.funding else None,
            "risks": report.risk_ids,
            "reframed": [{"from": r.objective, "to": r.to} for r in advice.reframed],
        },
    }


def summary_text(report: Report) -> str:
    advice = report.advice
    return t("advice.summary", report.lang, placement=advice.placement.label,
             runner_up=inline(advice.runner_up.label), count=len(report.risk_ids))
