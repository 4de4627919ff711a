#!/usr/bin/env bash
# Start our action server, then the Rasa server (`run`, the default) or the terminal chat
# (`shell`). Ctrl-C stops both. Called by `make run` and `make shell` after setup and training.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
bin=.venv/bin

# Urgent replies name the clinic's phone and the emergency number: without them the wording is
# generic ("your local emergency number"), which a clinic should not go live with.
for name in CLINIC_PHONE EMERGENCY_NUMBER; do
  if [ -z "${!name:-}" ]; then
    echo "WARNING: $name is not set: urgent replies use generic wording instead (see README, Configuration)." >&2
  fi
done
[ "$mode" = check-config ] && exit 0
rasa_port=5005    # endpoints.yml and the README use these two ports
action_port=5055
mkdir -p var

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # url, name, pid
  for _ in $(seq 1 240); do
    if curl -fs -o /dev/null "$1"; then return 0; fi
    kill -0 "$3" 2>/dev/null || { echo "ERROR: the $2 stopped during start-up; see var/$2.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "ERROR: the $2 did not answer at $1 within 2 minutes; see var/$2.log" >&2
  exit 1
}

"$bin/rasa" run actions --port "$action_port" >var/action-server.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$action_port/health" action-server "${pids[-1]}"
echo "Action server ready on port $action_port (log: var/action-server.log)"

if [ "$mode" = shell ]; then
  "$bin/rasa" shell --endpoints endpoints.yml --port "$rasa_port"
  exit 0
fi

# The HTTP API (conversation history, /model/parse) is switched on only with a token.
api_args=()
if [ -n "${RASA_API_TOKEN:-}" ]; then api_args=(--enable-api --auth-token "$RASA_API_TOKEN"); fi

"$bin/rasa" run --endpoints endpoints.yml --credentials credentials.yml --port "$rasa_port" \
  "${api_args[@]}" >var/rasa-server.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$rasa_port/" rasa-server "${pids[-1]}"

cat <<MSG

The assistant is running (logs: var/rasa-server.log, var/action-server.log). Talk to it:
  curl -s -XPOST http://localhost:$rasa_port/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "patient-1", "message": "how long until I can go home?"}'
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "A server stopped; see the logs in var/." >&2
exit 1
