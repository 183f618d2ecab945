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
from ..consultation import change_lines
from ..export import where_text
from ..i18n import t
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


def scores_table(report: dict[str, Any]) -> Table:
    """Every placement on one line (score, a 10-cell bar, label), its reasons below it at the
    full width left: readable at 80 columns, and no taller than it needs at 160."""
    lang = report["lang"]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(ratio=1)
    for number, s in enumerate(report["scores"]):
        if number:
            grid.add_row("", "")
        label = Text(s["label"], style="bold")
        if not s["eligible"]:
            label.append(f" ({t('advice.excluded', lang)})", style="dim")
        grid.add_row(Text(t("advice.score_points", lang, score=s["score"]) + " " + bar(s["score"])),
                     label)
        for reason in s["reasons"]:  # a ruled-out reason has no points
            points = f"{reason['points']:+d}" if reason["points"] else ""
            grid.add_row(Text(points, style="dim"), Text(reason["text"]))
    return grid


def placement_panel(report: dict[str, Any]) -> Panel:
    """The placement and its score, how a tie was settled, and the runner-up (or why none)."""
    lang = report["lang"]
    head = Text(report["placement_line"], style="bold")
    head.append(f" ({t('advice.score_points', lang, score=report['placement_score'])})")
    head.append("\n" + report["placement_why"] + "\n")
    if report.get("tie_text"):
        head.append(report["tie_text"] + "\n", style="italic")
    runner = report["runner_up_line"]
    if report.get("runner_up_score") is not None:
        runner += f" ({t('advice.score_points', lang, score=report['runner_up_score'])})"
    head.append(runner, style="dim")
    return Panel(head, title=t("advice.title", lang), expand=False)


def budget_panel(report: dict[str, Any], full: bool) -> Panel:
    """Who should pay (who pays, for a role in place), and why."""
    budget = report["budget"]
    body = Text.assemble((budget["line"], "bold"), "\n", budget["why"])
    return Panel(body, title=t("advice.budget" if full else "advice.budget_now", report["lang"]),
                 expand=False)


def show_report(console: Console, report: dict[str, Any], full: bool = True) -> None:
    lang = report["lang"]
    if "panel" in report:
        show_panel(console, report["panel"], lang)
    if "changes" in report:
        title, lines = change_lines(report, lang)
        console.print(Panel("\n".join(f"• {escape(line)}" for line in lines), title=title,
                            expand=False))
    if full:
        console.print(placement_panel(report))
    if report.get("budget"):
        console.print(budget_panel(report, full))
    if full:
        console.print(Panel(scores_table(report), title=t("advice.scores", lang), expand=False,
                            box=box.ROUNDED))
    risks = [(Text("•", style="bold red"),
              Text.assemble((r["title"], "bold red"), "\n", r["explanation"]))
             for r in report["risk_details"]]
    body: Any = _bulleted(risks) if risks else Text(t("advice.no_risks", lang))
    console.print(Panel(body, title=t("advice.risks" if full else "advice.risks_now", lang),
                        expand=False))
    reframed = Table(title=t("advice.reframed", lang), show_lines=True)
    reframed.add_column(t("advice.from", lang))
    reframed.add_column(t("advice.to", lang))
    reframed.add_column(t("advice.indicators", lang))
    for item in report["reframed"]:
        gain = t("export.gain_line", lang, gain=inline(item["gain"]))
        reframed.add_row(escape(item["from_label"]),
                         escape(item["to"]) + f"\n[green]{escape(gain)}[/green]"
                         + f"\n[dim]{escape(item['why'])}[/dim]",
                         escape("\n".join(f"• {i}" for i in item["indicators"])))
    console.print(reframed)
    if report.get("evidence"):
        lines = [t("evidence.line", lang, text=e["text"], source=e["source"])
                 for e in report["evidence"]]
        console.print(Panel(_bulleted([("•", Text(line)) for line in lines]),
                            title=t("advice.evidence", lang), expand=False))


def show_history(console: Console, rows: list[dict[str, Any]], lang: str) -> None:
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
        placement = row["recommendation"]["placement"] if row.get("recommendation") else ""
        table.add_row(row["id"], row["finished_at"][:16].replace("T", " "),
                      escape(row.get("started_by", "")), escape(where_text(row["where"], lang)),
                      t(f"place.{placement}", lang) if placement else "", row["flow_id"])
    console.print(table)
