"""French typography in a terminal: no line may break at a no-break space.

French puts a narrow no-break space (U+202F) before `?`, `!` and `;` and a no-break space
(U+00A0) before `:` and inside « ». `rich` wraps at every Unicode space, so at 80 columns a
French question could end with a lone `?` at the start of a line (rich issues #3545 and #4196,
still open). `keep_no_break_spaces()` makes rich's word splitter treat both as part of a word;
`wrap()` does the same for text handed to prompt_toolkit, which wraps by character.
"""

from __future__ import annotations

import re
import textwrap

from rich import _wrap

NO_BREAK = "\u00a0\u202f"
_WORD = re.compile(rf"[^\S{NO_BREAK}]*[\S{NO_BREAK}]+[^\S{NO_BREAK}]*")


def keep_no_break_spaces() -> None:
    """Make rich wrap only at breaking spaces (idempotent)."""
    _wrap.re_word = _WORD


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Lines of at most `width` cells, broken at spaces only (`textwrap` never breaks at
    U+00A0/U+202F); later lines start with `indent`."""
    return textwrap.wrap(text, max(width, 20), subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [""]


def shorten(text: str, width: int) -> str:
    """`text`, or as many of its words as fit in `width` cells followed by "…"."""
    if len(text) <= width:
        return text
    return textwrap.shorten(text, max(width, 20), placeholder=" …")


keep_no_break_spaces()
