#!/usr/bin/env bash
# Syntax and structure checks for infra/*.bicep and *.bicepparam without the Bicep CLI.
# Installs the pinned tree-sitter packages (package-lock.json, prebuilt binaries) on
# first use, runs the checker's self-tests, then checks the real files.
#   infra/check/check.sh            # self-tests + check; exit 1 on any problem
#   infra/check/check.sh --no-selftest
# The checker prints each problem as file:line:col: message.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if ! command -v node >/dev/null 2>&1; then
  echo "infra-check: node (>= 20) is required" >&2
  exit 2
fi
if [[ ! -d "$here/node_modules/tree-sitter-bicep" || ! -d "$here/node_modules/tree-sitter" ]]; then
  echo "infra-check: installing pinned checker packages from infra/check/package-lock.json" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

if [[ "${1:-}" != "--no-selftest" ]]; then
  # The self-tests break a copy of infra/ in each way the checker must catch.
  if ! out="$(cd "$here" && node --test check.test.js 2>&1)"; then
    printf '%s\n' "$out"
    echo "infra-check: checker self-tests FAILED" >&2
    exit 1
  fi
  pass="$(printf '%s\n' "$out" | sed -n 's/^# pass \([0-9]*\)$/\1/p')"
  fail="$(printf '%s\n' "$out" | sed -n 's/^# fail \([0-9]*\)$/\1/p')"
  echo "infra-check: checker self-tests ${pass:-0} passed, ${fail:-0} failed"
  if [[ "${pass:-0}" == "0" ]]; then echo "infra-check: no self-test ran" >&2; exit 1; fi
fi

node "$here/check.js" --root "$here/.."
