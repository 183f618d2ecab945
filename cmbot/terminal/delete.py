"""`cmbot delete ID`: erase a saved consultation, as `/cmbot delete` does in Slack.

It says what is about to go and asks first (default: no), like `gh repo delete`; `--yes`
skips the question for scripts, and without a terminal to ask on, `--yes` is required.
"""

from __future__ import annotations

import sys

from rich.console import Console

from ..consultation import Consultation
from ..export import where_text
from ..i18n import t
from ..service import Desk


def _described(consultation: Consultation, lang: str) -> str:
    placement = consultation.placement
    return t("terminal.delete_what", lang, id=consultation.id,
             date=consultation.finished_at[:16].replace("T", " "), who=consultation.started_by,
             where=where_text(consultation.where, lang),
             placement=t(f"place.{placement}", lang) if placement else "—")


def _confirmed(consultation: Consultation, lang: str, console: Console) -> bool:
    console.print(_described(consultation, lang), highlight=False)
    try:
        reply = input(t("terminal.delete_question", lang) + " ")
    except (EOFError, KeyboardInterrupt):
        console.print()
        return False
    return reply.strip().lower() in t("terminal.yes_words", lang)


def confirm_and_delete(desk: Desk, consultation_id: str, lang: str, yes: bool,
                       console: Console) -> int:
    """Returns the exit code: 0 deleted or kept on purpose, 1 not found, 2 cannot ask."""
    consultation = desk.consultation(consultation_id)
    if consultation is None:
        sys.stderr.write(t("terminal.not_found", lang, id=consultation_id) + "\n")
        return 1
    if not yes:
        if not sys.stdin.isatty():
            sys.stderr.write(t("terminal.delete_needs_yes", lang, id=consultation_id) + "\n")
            return 2
        if not _confirmed(consultation, lang, console):
            console.print(t("terminal.delete_kept", lang, id=consultation_id), highlight=False)
            return 0
    desk.delete(consultation_id)
    console.print(t("terminal.deleted", lang, id=consultation_id), highlight=False)
    return 0
