"""`--help` without type labels on flags.

Recent typer versions print a `<bool>` label beside every flag (`--json <bool>`), which reads as
if the flag took a value. A flag takes none, so its label is emptied, as git, gh and uv print
them. Options that do take a value name it with a `metavar` (`--output FILE`).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


def _unlabel_flags(command: Any, ctx: Any) -> None:
    for param in [*command.params, command.get_help_option(ctx)]:
        if param is not None and getattr(param, "is_flag", False):
            param.metavar = ""


class PlainFlags(TyperGroup):
    """A command group whose commands (and itself) show flags with no type label."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _unlabel_flags(command, ctx)
        return command
