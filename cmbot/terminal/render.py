"""The recommendation and the history, drawn with `rich` for a terminal."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..advisor.explain import inline
from ..advisor.words import Advice, Funding
from ..consultation import change_lines
from ..export import where_text
from ..i18n import t
from ..report import Report
from ..summary import Summary
from .panel_view import show_panel
from .typography import keep_no_break_spaces

keep_no_break_spaces()


def bar(score: int, width: int = 10) -> str:
    filled = round(score * width / 100)
    return "█" * filled + "░" * (width - filled)


def _bulleted(items: list[tuple[str, Text]]) -> Table:
    """`mark  text` rows whose text wraps under itself, not under the mark (a hanging indent)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(ratio=1)
    for mark, text in items:
        grid.add_row(mark, text)
    return grid


def scores_table(advice: Advice, lang: str) -> Table:
    """Every placement on one line (score, a 10-cell bar, label), its reasons below it at the
    full width left: readable at 80 columns, and no taller than it needs at 160."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(ratio=1)
    for number, s in enumerate(advice.scores):
        if number:
            grid.add_row("", "")
        label = Text(s.label, style="bold")
        if not s.eligible:
            label.append(f" ({t('advice.excluded', lang)})", style="dim")
        grid.add_row(Text(t("advice.score_points", lang, score=s.score) + " " + bar(s.score)),
                     label)
        for reason in s.reasons:  # a ruled-out reason has no points
            points = f"{reason.points:+d}" if reason.points else ""
            grid.add_row(Text(points, style="dim"), Text(reason.text))
    return grid


def placement_panel(advice: Advice, lang: str) -> Panel:
    """The placement and its score, how a tie was settled, and the runner-up (or why none)."""
    placement, runner_up = advice.placement, advice.runner_up
    head = Text(placement.line, style="bold")
    head.append(f" ({t('advice.score_points', lang, score=placement.score)})")
    head.append("\n" + placement.why + "\n")
    if placement.tie_text:
        head.append(placement.tie_text + "\n", style="italic")
    runner = runner_up.line
    if runner_up.score is not None:
        runner += f" ({t('advice.score_points', lang, score=runner_up.score)})"
    head.append(runner, style="dim")
    return Panel(head, title=t("advice.title", lang), expand=False)


def budget_panel(funding: Funding, lang: str, full: bool) -> Panel:
    """Who should pay (who pays, for a role in place), and why."""
    body = Text.assemble((funding.line, "bold"), "\n", funding.why)
    return Panel(body, title=t("advice.budget" if full else "advice.budget_now", lang),
                 expand=False)


def show_report(console: Console, report: Report, full: bool = True) -> None:
    lang, advice = report.lang, report.advice
    if report.panel is not None:
        show_panel(console, report.panel, lang)
    if report.changes is not None:
        title, lines = change_lines(report.changes, lang)
        console.print(Panel("\n".join(f"• {escape(line)}" for line in lines), title=title,
                            expand=False))
    if full:
        console.print(placement_panel(advice, lang))
    if advice.funding:
        console.print(budget_panel(advice.funding, lang, full))
    if full:
        console.print(Panel(scores_table(advice, lang), title=t("advice.scores", lang),
                            expand=False, box=box.ROUNDED))
    risks = [(Text("•", style="bold red"),
              Text.assemble((r.title, "bold red"), "\n", r.explanation))
             for r in advice.risks]
    body: Any = _bulleted(risks) if risks else Text(t("advice.no_risks", lang))
    console.print(Panel(body, title=t("advice.risks" if full else "advice.risks_now", lang),
                        expand=False))
    reframed = Table(title=t("advice.reframed", lang), show_lines=True)
    reframed.add_column(t("advice.from", lang))
    reframed.add_column(t("advice.to", lang))
    reframed.add_column(t("advice.indicators", lang))
    for item in advice.reframed:
        gain = t("export.gain_line", lang, gain=inline(item.gain))
        reframed.add_row(escape(item.label),
                         escape(item.to) + f"\n[green]{escape(gain)}[/green]"
                         + f"\n[dim]{escape(item.why)}[/dim]",
                         escape("\n".join(f"• {i}" for i in item.indicators)))
    console.print(reframed)
    if advice.evidence:
        lines = [t("evidence.line", lang, text=e.text, source=e.source) for e in advice.evidence]
        console.print(Panel(_bulleted([("•", Text(line)) for line in lines]),
                            title=t("advice.evidence", lang), expand=False))


def show_history(console: Console, rows: list[Summary], lang: str) -> None:
    if not rows:
        console.print(t("terminal.history_empty", lang))
        return
    # No borders, so that 80 columns hold every column; ids, dates and flow ids are read and
    # copied whole, so they never wrap or get cut (the other columns wrap at spaces).
    table = Table(title=t("terminal.history_title", lang), box=None, pad_edge=False,
                  header_style="bold underline")
    for key in ("col_id", "col_date", "col_who", "col_where", "col_placement", "col_flow"):
        table.add_column(t(f"terminal.{key}", lang),
                         no_wrap=key in ("col_id", "col_date", "col_flow"))
    for row in rows:
        table.add_row(row.id, row.finished_at[:16].replace("T", " "), escape(row.started_by or ""),
                      escape(where_text(row.where, lang)),
                      t(f"place.{row.placement}", lang) if row.placement else "", row.flow_id)
    console.print(table)
