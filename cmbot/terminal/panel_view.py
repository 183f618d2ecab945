"""A panel drawn for a terminal: the members' answers side by side, then their disagreements."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from ..i18n import t
from ..report import PanelReport


def show_panel(console: Console, panel: PanelReport, lang: str) -> None:
    members = panel.members
    console.print(t("panel.members_line", lang, members=", ".join(members),
                    starter=panel.starter), highlight=False)
    console.print(Panel("\n".join(f"• {escape(line)}" for line in panel.rule),
                        title=t("panel.rule_heading", lang), expand=False))
    table = Table(title=t("panel.table_heading", lang), show_lines=True)
    table.add_column(t("panel.col_question", lang))
    for member in members:
        table.add_column(escape(member))
    table.add_column(t("panel.col_panel", lang), style="bold")
    for row in panel.table:
        question = escape(row.question)
        if row.divergent:
            question = f"[yellow]{question}[/yellow] [dim]({t('panel.differs', lang)})[/dim]"
        table.add_row(question, *(escape(row.answers[m]) for m in members), escape(row.merged))
    table.add_row(t("panel.alone_row", lang),
                  *(escape(panel.alone[m].label) for m in members), "")
    console.print(table)
    found = [f"[bold yellow]• {escape(d.title)}[/bold yellow]\n  {escape(d.explanation)}"
             for d in panel.disagreements] or [t("panel.no_disagreement", lang)]
    console.print(Panel(Group(*found), title=t("panel.disagreements_heading", lang), expand=False))
