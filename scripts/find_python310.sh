#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 does not support 3.11 or newer).
# Looks at $PYTHON310, then python3.10 on PATH, then pyenv's versions, then /usr/bin.
set -euo pipefail

is_310() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  for p in "$(pyenv root)"/versions/3.10.*/bin/python3.10; do candidates+=("$p"); done
fi
for p in "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  candidates+=("$p")
done

for p in "${candidates[@]}"; do
  if is_310 "$p"; then echo "$p"; exit 0; fi
done

cat >&2 <<'MSG'
ERROR: Python 3.10 was not found. Rasa 3.6 needs Python 3.10 (it does not support 3.11 or newer).
Install it, then run the same command again:
  - with pyenv:   pyenv install 3.10.13
  - on Debian/Ubuntu: apt-get install python3.10 python3.10-venv (where your release has it)
or point to an existing interpreter:   PYTHON310=/path/to/python3.10 make test
MSG
exit 1
