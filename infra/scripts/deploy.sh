#!/usr/bin/env bash
# Deploys the staged app in dist/ to the Flex Consumption function app: the plain
# alternative to `azd deploy` (this is what `make deploy` runs after `make package`).
#
#   infra/scripts/deploy.sh              # zip dist/ and push it
#   DRY_RUN=1 infra/scripts/deploy.sh    # build and verify the zip only
#
# Target: AZURE_RESOURCE_GROUP and AZURE_FUNCTION_APP_NAME from the environment, else
# from `azd env get-values` (the outputs of infra/main.bicep). Needs az CLI >= 2.60
# (config-zip on Flex Consumption goes through OneDeploy) and python3 (for the zip).
#
# The zip is built with Python's zipfile, not `zip -r`, so modes are set explicitly:
# the handler executable 0755, everything else 0644, whatever the build machine's
# umask or OS. Flex also adds +x to defaultExecutablePath itself, but other Linux plans
# (and `func start` on an unzipped copy) rely on the mode stored in the zip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dist="${DIST_DIR:-$root/dist}"

log() { echo "deploy: $*" >&2; }
die() { echo "deploy: error: $*" >&2; exit 1; }

# ---- what to deploy
[[ -f "$dist/host.json" ]] || die "$dist/host.json not found: run 'make package' first"
handler="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["customHandler"]["description"]["defaultExecutablePath"])' "$dist/host.json")" \
  || die "host.json has no customHandler.description.defaultExecutablePath"
[[ -f "$dist/$handler" ]] || die "handler '$handler' named in host.json is not in $dist (GOOS=linux GOARCH=amd64 build, no .exe)"
ls "$dist"/*/function.json >/dev/null 2>&1 || die "no <FunctionName>/function.json under $dist"

# ---- zip with explicit modes
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
zipfile="$work/app.zip"
python3 - "$dist" "$handler" "$zipfile" <<'PY'
import os, sys, zipfile
dist, handler, out = sys.argv[1], sys.argv[2], sys.argv[3]
handler = os.path.normpath(handler)
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for dirpath, dirnames, filenames in os.walk(dist):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, dist)          # host.json at the zip root
            info = zipfile.ZipInfo.from_file(full, rel)
            mode = 0o755 if os.path.normpath(rel) == handler else 0o644
            info.external_attr = (0o100000 | mode) << 16  # regular file + permissions
            info.create_system = 3                        # Unix, so the mode is honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(full, "rb") as f:
                z.writestr(info, f.read())
# verify what we wrote
with zipfile.ZipFile(out) as z:
    names = z.namelist()
    assert "host.json" in names, "host.json is not at the zip root"
    mode = (z.getinfo(handler).external_attr >> 16) & 0o777
    assert mode == 0o755, f"{handler} has mode {oct(mode)}, want 0o755"
    funcs = sorted(n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith("/function.json"))
    print(f"deploy: zip has host.json, {handler} (0755) and {len(funcs)} function(s): {', '.join(funcs)}", file=sys.stderr)
PY

if [[ -n "${DRY_RUN:-}" ]]; then
  out="${DRY_RUN_OUT:-$root/.local/app.zip}"  # .local/ is git-ignored
  mkdir -p "$(dirname "$out")" && cp "$zipfile" "$out"
  log "DRY_RUN: zip written to $out; nothing deployed"
  exit 0
fi

# ---- where to deploy
if [[ -z "${AZURE_RESOURCE_GROUP:-}" || -z "${AZURE_FUNCTION_APP_NAME:-}" ]]; then
  command -v azd >/dev/null 2>&1 || die "set AZURE_RESOURCE_GROUP and AZURE_FUNCTION_APP_NAME (or use azd, whose outputs provide them)"
  log "reading AZURE_RESOURCE_GROUP / AZURE_FUNCTION_APP_NAME from 'azd env get-values'"
  while IFS='=' read -r key value; do
    value="${value#\"}"; value="${value%\"}"
    case "$key" in
      AZURE_RESOURCE_GROUP) : "${AZURE_RESOURCE_GROUP:=$value}" ;;
      AZURE_FUNCTION_APP_NAME) : "${AZURE_FUNCTION_APP_NAME:=$value}" ;;
    esac
  done < <(azd env get-values -C "$root/infra")
fi
[[ -n "${AZURE_RESOURCE_GROUP:-}" && -n "${AZURE_FUNCTION_APP_NAME:-}" ]] || die "AZURE_RESOURCE_GROUP / AZURE_FUNCTION_APP_NAME unknown: provision first (azd provision -C infra, or az deployment sub create)"
command -v az >/dev/null 2>&1 || die "the Azure CLI (az) is required"

# ---- deploy (retry: right after provisioning, the identity's storage role may not
# have propagated yet and the package upload fails with 403 for a few minutes)
for attempt in 1 2 3; do
  log "deploying to $AZURE_FUNCTION_APP_NAME in $AZURE_RESOURCE_GROUP (attempt $attempt)"
  if az functionapp deployment source config-zip \
      --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
      --src "$zipfile" --output none; then
    log "done: https://$(az functionapp show -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" --query defaultHostName -o tsv)"
    exit 0
  fi
  [[ $attempt -lt 3 ]] && { log "deployment failed; retrying in 60s"; sleep 60; }
done
die "deployment failed 3 times; see 'az functionapp deployment list' / the app's Deployment Center log"
