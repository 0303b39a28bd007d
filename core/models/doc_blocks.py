"""Generated blocks inside a generated markdown page: text between `<!-- NAME:begin -->` and
`<!-- NAME:end -->` is written by another producer (the `recovery` bench case writes one into
docs/forecasting.md) and survives when the page around it is regenerated."""

from __future__ import annotations

import re

# Where a block goes when the page has none yet: before this heading, else at the end.
ANCHOR = "\n## Method"
_BLOCK = re.compile(r"<!-- (?P<name>[\w-]+):begin -->\n.*?<!-- (?P=name):end -->\n?", re.DOTALL)


def block(name: str, body: str) -> str:
    """`body` between the begin and end markers of `name`."""
    return f"<!-- {name}:begin -->\n{body.rstrip()}\n<!-- {name}:end -->\n"


def find_blocks(text: str) -> dict[str, str]:
    """Every marked block of a page, by name (markers included)."""
    return {match["name"]: match[0] for match in _BLOCK.finditer(text)}


def _insert(text: str, marked: str) -> str:
    at = text.find(ANCHOR)
    if at < 0:
        return text.rstrip("\n") + "\n\n" + marked
    return text[: at + 1] + marked + "\n" + text[at + 1 :]


def replace_block(text: str, name: str, body: str) -> str:
    """The page with block `name` set to `body`: in place when present, else inserted before `ANCHOR`."""
    marked = block(name, body)
    existing = find_blocks(text).get(name)
    if existing is not None:
        return text.replace(existing, marked if existing.endswith("\n") else marked.rstrip("\n"), 1)
    return _insert(text, marked)


def keep_blocks(new_text: str, old_text: str) -> str:
    """A regenerated page (`new_text`) with the blocks of its previous version that it lacks put back."""
    present = find_blocks(new_text)
    for name, marked in find_blocks(old_text).items():
        if name not in present:
            new_text = _insert(new_text, marked if marked.endswith("\n") else marked + "\n")
    return new_text
