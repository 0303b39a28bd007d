#!/bin/sh
# Secrets arrive as files (compose `secrets:`, a Kubernetes Secret volume): for every
# JOURNEYOPS_<NAME>_FILE set, export JOURNEYOPS_<NAME> with the file's content, then run the command.
set -eu
for var in $(env | sed -n 's/^\(JOURNEYOPS_[A-Z0-9_]*\)_FILE=.*/\1/p'); do
    file=$(printenv "${var}_FILE")
    if [ -r "$file" ]; then
        value=$(cat "$file")
        export "$var=$value"
    else
        echo "journeyops: ${var}_FILE names $file, which is not readable; ${var} stays unset" >&2
    fi
    unset "${var}_FILE"
done
# The dashboard checks its sign-in set-up first (ui/preflight.py): bound beyond localhost without
# sign-in in .streamlit/secrets.toml, it stops here with one line naming the missing settings.
if [ "${1:-}" = "streamlit" ] && [ "${2:-}" = "run" ]; then
    python -m ui.preflight "$@" || exit $?
fi
exec "$@"
