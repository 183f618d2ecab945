"""A mapping changed for one test: the article's answers with one answer different, an
environment with a variable more or one less."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def with_(base: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `base` with `changes` made: a value sets its key, `None` removes it. The copy
    is deep, so a test that edits a list inside it leaves `base` as every other test sees it."""
    changed = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if value is None:
            changed.pop(key, None)
        else:
            changed[key] = value
    return changed
