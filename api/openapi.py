"""The checked-in OpenAPI schema: `python -m api.openapi` rewrites api/openapi.json from the app.

A test checks that the served schema equals the file, so a change to a route shows up in review.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from api.main import create_app
from api.settings import Settings

SCHEMA_FILE = Path(__file__).with_name("openapi.json")


def build_schema() -> dict[str, Any]:
    """The app's OpenAPI schema (it does not depend on the settings' values)."""
    return create_app(Settings()).openapi()


def render_schema(schema: dict[str, Any]) -> str:
    """The schema as the file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    """Write api/openapi.json; with --check, only say whether it is up to date (exit 1 if not)."""
    text = render_schema(build_schema())
    if "--check" in sys.argv[1:]:
        current = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE} is out of date; run `python -m api.openapi`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(text)
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
