"""A consultation as a memo a manager can paste into a document (Markdown), or as JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from .consultation import change_lines
from .i18n import t
from .interview import Flow
from .interview.wording import describe

FORMATS = ("md", "json")
_BREAKS = re.compile(r"[ \t\n\r\f\v\x1c-\x1f\x85\u2028\u2029]+")


def escape_md(text: str) -> str:
    """Free text must not turn into Markdown (or HTML) structure in someone else's document:
    it stays on its line (no fake bullets or headings) and its markup characters are escaped."""
    text = _BREAKS.sub(" ", text).strip(" ")  # not str.split(): it eats French no-break spaces
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text


def where_text(where: dict[str, Any], lang: str) -> str:
    kind = where.get("kind", "terminal")
    if kind == "channel":
        text = t("terminal.where_channel", lang, channel=where.get("channel_name")
                 or where.get("channel", ""))
    else:
        text = t(f"terminal.where_{'dm' if kind == 'dm' else 'terminal'}", lang)
    if where.get("panel"):
        return t("panel.where", lang, where=text, count=len(where["panel"]))
    return text


def to_markdown(report: dict[str, Any], flow: Flow, lang: str) -> str:
    cid = report["consultation_id"]
    lines = [f"# {t('export.title', lang, id=cid)}", "", f"## {t('export.context', lang)}", ""]
    lines.append(t("export.context_line", lang, id=cid, date=report["finished_at"][:10],
                   who=escape_md(report["started_by"]),
                   where=escape_md(where_text(report["where"], lang)),
                   flow=report["flow"], version=report["flow_version"]))
    if "panel" in report:
        lines += panel_markdown(report["panel"], lang)
    lines += ["", f"## {t('export.answers', lang)}", ""]
    for state, value in report["answers"].items():
        prompt = flow.states[state].prompt[lang] if state in flow.states else state
        shown = describe(flow, state, value, lang) if state in flow.states else str(value)
        lines.append(f"- **{escape_md(prompt)}** {escape_md(shown)}")
    lines += ["", f"## {t('export.recommendation', lang)}", ""]
    if "changes" in report:
        title, changed = change_lines(report, lang)
        lines += [f"### {title}", "", *(f"- {escape_md(line)}" for line in changed), ""]
    scores = {s["place"]: s for s in report["scores"]}
    if flow.outcome == "full":
        lines.append(t("export.placement_line", lang, placement=report["placement_label"],
                       score=scores[report["placement"]]["score"], why=report["placement_why"]))
        lines.append("")
        lines.append(t("export.runner_up_line", lang, runner_up=report["runner_up_label"],
                       score=scores[report["runner_up"]]["score"]))
        lines += ["", f"### {t('export.scores', lang)}", ""]
        lines.append(f"| {t('terminal.col_place', lang)} | {t('terminal.col_score', lang)} "
                     f"| {t('terminal.col_reasons', lang)} |")
        lines.append("|---|---:|---|")
        for s in report["scores"]:
            reasons = " ".join(r["text"] for r in s["reasons"])
            lines.append(f"| {s['label']} | {s['score']} | {reasons} |")
    lines += ["", f"### {t('export.risks', lang)}", ""]
    if not report["risk_details"]:
        lines.append(t("advice.no_risks", lang))
    for risk in report["risk_details"]:
        lines.append(f"- **{risk['title']}** — {escape_md(risk['explanation'])}")
    lines += ["", f"### {t('export.reframed', lang)}", ""]
    for item in report["reframed"]:
        lines.append("- " + t("export.from_to", lang, **{"from": escape_md(item["from_label"]),
                                                          "to": escape_md(item["to"])}))
        lines.append("  - " + t("export.indicators_line", lang,
                                items="; ".join(item["indicators"])))
        lines.append("  - " + t("export.why_line", lang, why=item["why"]))
    return "\n".join(lines) + "\n"


def panel_markdown(panel: dict[str, Any], lang: str) -> list[str]:
    """A panel's members, its merge rule, each member's answers side by side and where they
    disagree: what a facilitator puts in front of the room before the advice."""
    members = panel["members"]
    lines = ["", f"## {t('panel.heading', lang)}", "",
             t("panel.members_line", lang, members=", ".join(map(escape_md, members)),
               starter=escape_md(panel["starter"])),
             "", f"### {t('panel.rule_heading', lang)}", ""]
    lines += [f"- {escape_md(line)}" for line in panel["rule"]]
    lines += ["", f"### {t('panel.table_heading', lang)}", ""]
    head = [t("panel.col_question", lang), *map(escape_md, members), t("panel.col_panel", lang)]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in panel["table"]:
        question = escape_md(row["question"])
        if row["divergent"]:
            question = f"**{question}** ({t('panel.differs', lang)})"
        cells = [escape_md(row["answers"][m]) for m in members]
        lines.append("| " + " | ".join([question, *cells, escape_md(row["merged"])]) + " |")
    alone = [escape_md(panel["alone"][m]["label"]) for m in members]
    lines.append("| " + " | ".join([t("panel.alone_row", lang), *alone, ""]) + " |")
    lines += ["", f"### {t('panel.disagreements_heading', lang)}", ""]
    lines += [f"- **{d['title']}** — {escape_md(d['explanation'])}"
              for d in panel["disagreements"]] or [t("panel.no_disagreement", lang)]
    return lines


def render(report: dict[str, Any], flow: Flow, lang: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    return to_markdown(report, flow, lang)
