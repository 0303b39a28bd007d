"""What an error answer may say: never a server path (a store, a model file, a log)."""

from __future__ import annotations

import re

# An absolute path in a message: the caller is told what is wrong, never where on the server.
_PATH = re.compile(r"(?<![\w.~:/])/(?:[\w.@+-]+/)*[\w.@+-]+/?")


def without_paths(text: str) -> str:
    """A message fit for a caller: every absolute server path replaced by `<path>`."""
    return _PATH.sub("<path>", text)
