"""What the command line prints is text for a terminal: names and messages that came from a feed
may hold ANSI escape sequences or control characters, which a terminal would act on (recolour,
move the cursor, retitle the window, hide what follows). Every line is cleaned on its way out."""

from __future__ import annotations

import re
from typing import Any, TextIO

# ESC sequences (CSI "ESC [ … final", OSC "ESC ] … BEL/ST", and two-character ones), then any other
# C0 or C1 control character except tab, line feed and carriage return (progress bars redraw
# with it).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """The text without escape sequences and control characters (tab and line breaks kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


class CleanStream:
    """A text stream that writes everything cleaned (see clean_text) to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        """Write the cleaned text; return the length of the text given, as a stream does."""
        self.stream.write(clean_text(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
