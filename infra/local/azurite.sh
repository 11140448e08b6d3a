#!/usr/bin/env bash
# Starts or stops Azurite (the Azure Storage emulator) on 127.0.0.1 for local
# runs and tests. Data lives under .local/azurite (git-ignored), so a restart
# loses nothing.
#   infra/local/azurite.sh start   # install if missing, start, wait until ready
#   infra/local/azurite.sh stop
#   infra/local/azurite.sh status
# AZURITE_IN_MEMORY=1 keeps nothing on disk (tests: fast, and a fresh start
# every run); AZURITE_DATA overrides the data folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${AZURITE_DATA:-$root/.local/azurite}"
pidfile="$data/azurite.pid"
bin="$here/node_modules/.bin/azurite"

install() {
  if [[ ! -x "$bin" ]]; then
    echo "azurite: installing the pinned version from infra/local/package-lock.json" >&2
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ready() {
  # Every service answers something (even 400) once it is up.
  for port in 10000 10001 10002; do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
  done
}

case "${1:-start}" in
start)
  install
  if ready; then echo "azurite: already running on 127.0.0.1:10000-10002" >&2; exit 0; fi
  mkdir -p "$data"
  # In memory, Azurite refuses --location; it then writes nothing at all.
  store=(--location "$data")
  if [[ "${AZURITE_IN_MEMORY:-}" == 1 ]]; then store=(--inMemoryPersistence); fi
  nohup "$bin" --silent --disableTelemetry --skipApiVersionCheck --loose "${store[@]}" \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
    >"$data/azurite.out" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 150); do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then break; fi
    if ready; then echo "azurite: ready on 127.0.0.1:10000-10002 (${store[*]})" >&2; exit 0; fi
    sleep 0.2
  done
  echo "azurite: did not become ready; see $data/azurite.out" >&2
  exit 1
  ;;
stop)
  if [[ -f "$pidfile" ]]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi
  ;;
status)
  if ready; then echo running; else echo stopped; exit 1; fi
  ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
