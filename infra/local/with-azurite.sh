#!/usr/bin/env bash
# Runs a command with Azurite up: starts it if it is not already running and,
# if this script started it, stops it again when the command ends (also on
# Ctrl-C), so nothing is left behind.
#   infra/local/with-azurite.sh go test ./...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
started=0
if ! "$here/azurite.sh" status >/dev/null 2>&1; then
  "$here/azurite.sh" start
  started=1
fi
cleanup() { if [[ $started == 1 ]]; then "$here/azurite.sh" stop; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM
"$@"
