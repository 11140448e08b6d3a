#!/usr/bin/env bash
# Creates (or updates) the Entra app registration that protects the function
# app's HTTP APIs, with the app roles the handler checks (functions/access.go),
# and optionally assigns a role to a user, group or service principal.
# Bicep cannot create app registrations, so an administrator runs this once per
# environment, then sets GOVKIT_API_CLIENT_ID to the client id it prints and
# re-provisions (apiClientId in infra/main.bicepparam turns on Easy Auth).
#
#   infra/scripts/create-app-registration.sh [--dry-run] create <env-name>
#   infra/scripts/create-app-registration.sh [--dry-run] assign <client-id> <role> <principal-object-id>
#
# Roles (value = what the handler checks):
#   Governance.Reader        read contracts and the cloud-app register           (users, groups)
#   Contracts.Editor         create and change contracts                          (users, groups)
#   CloudApps.Reviewer       edit IG fields and erasure evidence                  (users, groups)
#   SubjectRequests.Officer  subject requests; the only role seeing personal data (users, groups)
#   Automation               Power Automate / SharePoint flows (managed identity or service principal)
#
# Needs: az CLI signed in as an Application Administrator (create) and, to
# assign roles, a Privileged Role Administrator or the app's owner.
# Idempotent: role ids are fixed below, so re-running updates in place.
set -euo pipefail

dry_run=""
if [[ "${1:-}" == "--dry-run" ]]; then dry_run=1; shift; fi
log() { echo "app-registration: $*" >&2; }
run() { log "+ $*"; if [[ -z "$dry_run" ]]; then "$@"; fi; }

roles_json() {
  # Fixed ids: changing one would orphan existing assignments.
  cat <<'JSON'
[
 {"id":"6f1c3f4e-2c59-4d8e-9a55-0b5c7d1e2a01","value":"Governance.Reader","displayName":"Governance reader","description":"Read contracts and the cloud-app register.","allowedMemberTypes":["User","Application"],"isEnabled":true},
 {"id":"6f1c3f4e-2c59-4d8e-9a55-0b5c7d1e2a02","value":"Contracts.Editor","displayName":"Contracts editor","description":"Create and change contracts in the register.","allowedMemberTypes":["User","Application"],"isEnabled":true},
 {"id":"6f1c3f4e-2c59-4d8e-9a55-0b5c7d1e2a03","value":"CloudApps.Reviewer","displayName":"Cloud apps reviewer","description":"Edit information-governance fields and erasure evidence of cloud apps.","allowedMemberTypes":["User","Application"],"isEnabled":true},
 {"id":"6f1c3f4e-2c59-4d8e-9a55-0b5c7d1e2a04","value":"SubjectRequests.Officer","displayName":"Subject requests officer","description":"Read and update subject requests, including requesters' personal details.","allowedMemberTypes":["User","Application"],"isEnabled":true},
 {"id":"6f1c3f4e-2c59-4d8e-9a55-0b5c7d1e2a05","value":"Automation","displayName":"Automation","description":"Power Automate and SharePoint flows calling the APIs.","allowedMemberTypes":["Application"],"isEnabled":true}
]
JSON
}

case "${1:-}" in
create)
  env_name="${2:?usage: create <env-name>}"
  name="govkit-api-${env_name}"
  roles_file="$(mktemp)"; trap 'rm -f "$roles_file"' EXIT
  roles_json >"$roles_file"
  app_id="$(az ad app list --display-name "$name" --query '[0].appId' -o tsv 2>/dev/null || true)"
  if [[ -z "$app_id" ]]; then
    log "creating app registration $name"
    if [[ -n "$dry_run" ]]; then app_id="<new-client-id>"; else
      app_id="$(az ad app create --display-name "$name" --sign-in-audience AzureADMyOrg --app-roles "@$roles_file" --query appId -o tsv)"
    fi
  else
    log "updating app roles of existing $name ($app_id)"
    run az ad app update --id "$app_id" --app-roles "@$roles_file"
  fi
  run az ad app update --id "$app_id" --identifier-uris "api://$app_id"
  # A service principal in this tenant is what role assignments attach to.
  if [[ -z "$dry_run" ]] && ! az ad sp show --id "$app_id" >/dev/null 2>&1; then
    run az ad sp create --id "$app_id"
  fi
  # Users must be assigned a role to get a token for the API at all.
  if [[ -z "$dry_run" ]]; then
    sp_id="$(az ad sp show --id "$app_id" --query id -o tsv)"
    run az ad sp update --id "$sp_id" --set appRoleAssignmentRequired=true
  fi
  echo "GOVKIT_API_CLIENT_ID=$app_id"
  log "next: azd env set GOVKIT_API_CLIENT_ID $app_id && azd provision -C infra (or export it before az deployment sub create)"
  ;;
assign)
  client_id="${2:?usage: assign <client-id> <role> <principal-object-id>}"
  role="${3:?role}"; principal="${4:?principal object id}"
  role_id="$(roles_json | python3 -c 'import json,sys; r=[x["id"] for x in json.load(sys.stdin) if x["value"]==sys.argv[1]]; print(r[0] if r else "")' "$role")"
  [[ -n "$role_id" ]] || { log "unknown role $role"; exit 2; }
  graph="$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv 2>/dev/null || echo https://graph.microsoft.com/)"
  graph="${graph%/}"
  sp_id="$(az ad sp show --id "$client_id" --query id -o tsv)"
  existing="$(az rest --method GET --url "$graph/v1.0/servicePrincipals/$sp_id/appRoleAssignedTo" \
    --query "value[?principalId=='$principal' && appRoleId=='$role_id'] | length(@)" -o tsv)"
  if [[ "$existing" != "0" ]]; then log "$principal already has $role"; exit 0; fi
  run az rest --method POST --url "$graph/v1.0/servicePrincipals/$sp_id/appRoleAssignedTo" \
    --headers Content-Type=application/json \
    --body "{\"principalId\":\"$principal\",\"resourceId\":\"$sp_id\",\"appRoleId\":\"$role_id\"}"
  ;;
*)
  sed -n '2,22p' "$0"; exit 2 ;;
esac
