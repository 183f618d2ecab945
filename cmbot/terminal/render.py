"""The recommendation and the history, drawn with `rich` for a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from ..consultation import change_lines
from ..export import where_text
from ..i18n import t
from .panel_view import show_panel


def bar(score: int, width: int = 20) -> str:
    filled = round(score * width / 100)
    return "█" * filled + "░" * (width - filled)


def show_report(console: Console, report: dict[str, Any], full: bool = True) -> None:
    lang = report["lang"]
    if "panel" in report:
        show_panel(console, report["panel"], lang)
    if "changes" in report:
        title, lines = change_lines(report, lang)
        console.print(Panel("\n".join(f"• {escape(line)}" for line in lines), title=title,
                            expand=False))
    if full:
        placement = t("advice.placement_line", lang, placement=report["placement_label"])
        runner_up = t("advice.runner_up_line", lang, runner_up=report["runner_up_label"])
        head = (f"[bold]{escape(placement)}[/bold]\n{escape(report['placement_why'])}\n"
                f"[dim]{escape(runner_up)}[/dim]")
        console.print(Panel(head, title=t("advice.title", lang), expand=False))
        table = Table(title=t("advice.scores", lang), show_lines=True)
        table.add_column(t("terminal.col_place", lang))
        table.add_column(t("terminal.col_score", lang), justify="right")
        table.add_column("")
        table.add_column(t("terminal.col_reasons", lang))
        for s in report["scores"]:
            reasons = "\n".join(f"{r['points']:+d} {r['text']}" for r in s["reasons"])
            label = s["label"] + ("" if s["eligible"] else f" ({t('advice.excluded', lang)})")
            table.add_row(escape(label), str(s["score"]), bar(s["score"]), escape(reasons))
        console.print(table)
    risks = [f"[bold red]• {escape(r['title'])}[/bold red]\n  {escape(r['explanation'])}"
             for r in report["risk_details"]] or [t("advice.no_risks", lang)]
    console.print(Panel(Group(*risks), title=t("advice.risks", lang), expand=False))
    reframed = Table(title=t("advice.reframed", lang), show_lines=True)
    reframed.add_column(t("advice.from", lang))
    reframed.add_column(t("advice.to", lang))
    reframed.add_column(t("advice.indicators", lang))
    for item in report["reframed"]:
        reframed.add_row(escape(item["from_label"]),
                         escape(item["to"]) + f"\n[dim]{escape(item['why'])}[/dim]",
                         escape("\n".join(f"• {i}" for i in item["indicators"])))
    console.print(reframed)


def show_history(console: Console, rows: list[dict[str, Any]], lang: str) -> None:
    if not rows:
        console.print(t("terminal.history_empty", lang))
        return
    table = Table(title=t("terminal.history_title", lang))
    for key in ("col_id", "col_date", "col_who", "col_where", "col_placement", "col_flow"):
        table.add_column(t(f"terminal.{key}", lang))
    for row in rows:
        placement = row["recommendation"]["placement"] if row.get("recommendation") else ""
        table.add_row(row["id"], row["finished_at"][:16].replace("T", " "),
                      escape(row.get("started_by", "")), escape(where_text(row["where"], lang)),
                      t(f"place.{placement}", lang) if placement else "", row["flow_id"])
    console.print(table)
