"""A consultation as a memo a manager can paste into a document (Markdown), or as JSON."""

from __future__ import annotations

import json
import re

from .advisor.explain import inline
from .advisor.words import Advice, ReframeText
from .consultation import change_lines
from .i18n import long_date, t
from .interview import Flow, Where
from .interview.where import CHANNEL
from .interview.wording import describe
from .report import PanelReport, Report

FORMATS = ("md", "json")
_BREAKS = re.compile(r"[ \t\n\r\f\v\x1c-\x1f\x85\u2028\u2029]+")


def escape_md(text: str) -> str:
    """Free text must not turn into Markdown (or HTML) structure in someone else's document:
    it stays on its line (no fake bullets or headings) and its markup characters are escaped."""
    text = _BREAKS.sub(" ", text).strip(" ")  # not str.split(): it eats French no-break spaces
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text


def where_text(where: Where, lang: str) -> str:
    if where.kind == CHANNEL:
        text = t("terminal.where_channel", lang, channel=where.channel or "")
    else:
        text = t(f"terminal.where_{'dm' if where.is_dm else 'terminal'}", lang)
    if where.panel:
        return t("panel.where", lang, where=text, count=len(where.panel))
    return text


def placement_lines(advice: Advice, lang: str) -> list[str]:
    """The placement, how a tie was settled, and the runner-up (or why there is none)."""
    placement, runner_up = advice.placement, advice.runner_up
    lines = [t("export.placement_line", lang, placement=inline(placement.label),
               score=placement.score, why=placement.why), ""]
    if placement.tie_text:
        lines += [placement.tie_text, ""]
    if runner_up.place:
        lines.append(t("export.runner_up_line", lang, runner_up=inline(runner_up.label),
                       score=runner_up.score))
    else:
        lines.append(t("advice.no_runner_up", lang))
    return lines


def scores_table(advice: Advice, lang: str) -> list[str]:
    lines = [f"### {t('export.scores', lang)}", "",
             f"| {t('terminal.col_place', lang)} | {t('terminal.col_score', lang)} "
             f"| {t('terminal.col_reasons', lang)} |", "|---|---:|---|"]
    for s in advice.scores:
        reasons = " ".join((f"{r.points:+d} " if r.points else "") + r.text for r in s.reasons)
        label = s.label + ("" if s.eligible else f" ({t('advice.excluded', lang)})")
        lines.append(f"| {label} | {s.score} | {reasons} |")
    return lines


def reframe_lines(item: ReframeText, lang: str) -> list[str]:
    return [
        "- " + t("export.from_to", lang, **{"from": escape_md(item.label),
                                             "to": escape_md(item.to)}),
        "  - " + t("export.gain_line", lang, gain=escape_md(inline(item.gain))),
        "  - " + t("export.indicators_line", lang),
        *(f"    - {i}" for i in item.indicators),
        "  - " + t("export.why_line", lang, why=inline(item.why)),
    ]


def to_markdown(report: Report, flow: Flow, lang: str) -> str:
    cid, full, advice = report.consultation_id, flow.full_advice, report.advice
    tense = "" if full else "_now"
    lines = [f"# {t('export.title' + tense, lang, id=cid)}", "", f"## {t('export.context', lang)}", ""]
    lines.append(t("export.context_line", lang, id=cid, date=long_date(report.finished_at, lang),
                   who=escape_md(report.started_by),
                   where=escape_md(where_text(report.where, lang)),
                   flow=report.flow, version=report.flow_version))
    if report.panel is not None:
        lines += panel_markdown(report.panel, lang)
    lines += ["", f"## {t('export.answers', lang)}", ""]
    for state, value in report.answers.items():
        prompt = flow.states[state].prompt[lang] if state in flow.states else state
        shown = describe(flow, state, value, lang) if state in flow.states else str(value)
        lines.append(f"- **{escape_md(prompt)}** {escape_md(shown)}")
    lines += ["", f"## {t('export.recommendation' + tense, lang)}", ""]
    if report.changes is not None:
        title, changed = change_lines(report.changes, lang)
        lines += [f"### {title}", "", *(f"- {escape_md(line)}" for line in changed), ""]
    if full:
        lines += [*placement_lines(advice, lang), ""]
    if advice.funding:
        lines += [f"### {t('advice.budget' + tense, lang)}", "",
                  t("export.budget_line", lang, line=advice.funding.line, why=advice.funding.why),
                  ""]
    if full:
        lines += [*scores_table(advice, lang), ""]
    lines += [f"### {t('advice.risks' + tense, lang)}", ""]
    if not advice.risks:
        lines.append(t("advice.no_risks", lang))
    for risk in advice.risks:
        lines.append(f"- **{risk.title}** — {escape_md(risk.explanation)}")
    lines += ["", f"### {t('export.reframed', lang)}", ""]
    for item in advice.reframed:
        lines += reframe_lines(item, lang)
    if advice.evidence:
        lines += ["", f"### {t('advice.evidence', lang)}", ""]
        lines += [f"- {t('evidence.line', lang, text=e.text, source=e.source)}"
                  for e in advice.evidence]
    return "\n".join(lines) + "\n"


def panel_markdown(panel: PanelReport, lang: str) -> list[str]:
    """A panel's members, its merge rule, each member's answers side by side and where they
    disagree: what a facilitator puts in front of the room before the advice."""
    members = panel.members
    lines = ["", f"## {t('panel.heading', lang)}", "",
             t("panel.members_line", lang, members=", ".join(map(escape_md, members)),
               starter=escape_md(panel.starter)),
             "", f"### {t('panel.rule_heading', lang)}", ""]
    lines += [f"- {escape_md(line)}" for line in panel.rule]
    lines += ["", f"### {t('panel.table_heading', lang)}", ""]
    head = [t("panel.col_question", lang), *map(escape_md, members), t("panel.col_panel", lang)]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in panel.table:
        question = escape_md(row.question)
        if row.divergent:
            question = f"**{question}** ({t('panel.differs', lang)})"
        cells = [escape_md(row.answers[m]) for m in members]
        lines.append("| " + " | ".join([question, *cells, escape_md(row.merged)]) + " |")
    alone = [escape_md(panel.alone[m].label) for m in members]
    lines.append("| " + " | ".join([t("panel.alone_row", lang), *alone, ""]) + " |")
    lines += ["", f"### {t('panel.disagreements_heading', lang)}", ""]
    lines += [f"- **{d.title}** — {escape_md(d.explanation)}"
              for d in panel.disagreements] or [t("panel.no_disagreement", lang)]
    return lines


def render(report: Report, flow: Flow, lang: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    return to_markdown(report, flow, lang)
