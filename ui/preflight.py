"""Start-up check of the dashboard: `python -m ui.preflight streamlit run app.py --server.address ...`.

The image's entrypoint runs it before `streamlit run`: a dashboard bound to anything but localhost
must have sign-in configured, else it exits at once with one line naming the missing settings —
never a server whose pages show an error behind a green health check. Streamlit's own config and
secrets loaders read the address and the secrets, so the check sees what the server will see.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.access import signin

# The streamlit flags this check reads; every other flag is the server's business.
READ_FLAGS: frozenset[str] = frozenset({"server.address", "secrets.files"})
EXIT_REFUSED = 78  # EX_CONFIG


def flag_options(argv: Sequence[str]) -> dict[str, str]:
    """`--server.address X` / `--server.address=X` flags of a streamlit command line, for the read flags."""
    found: dict[str, str] = {}
    args = list(argv)
    for i, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, eq, value = arg[2:].partition("=")
        if name not in READ_FLAGS:
            continue
        if eq:
            found[name] = value
        elif i + 1 < len(args):
            found[name] = args[i + 1]
    return found


def refusal(argv: Sequence[str]) -> str | None:
    """Why this streamlit command line must not start (one line), or None."""
    from streamlit import config
    from streamlit.runtime.secrets import secrets_singleton

    options: dict[str, object] = dict(flag_options(argv))
    if "secrets.files" in options:
        options["secrets.files"] = [options["secrets.files"]]
    config.get_config_options(force_reparse=True, options_from_flags=options)
    address = config.get_option("server.address")
    found = secrets_singleton.to_dict() if secrets_singleton.load_if_toml_exists() else {}
    return signin.serving_refusal(address, found)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when the command may start; else print the reason on one line and exit 78."""
    reason = refusal(sys.argv[1:] if argv is None else argv)
    if reason is None:
        return 0
    print(reason, file=sys.stderr)
    return EXIT_REFUSED


if __name__ == "__main__":
    raise SystemExit(main())
