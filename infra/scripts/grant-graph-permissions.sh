#!/usr/bin/env bash
# One-time admin consent: grants the app's user-assigned managed identity the Microsoft
# Graph *application* permissions it needs. Bicep cannot do this (app role assignments
# are Entra ID objects, not ARM resources), so an administrator runs this once per
# environment after the first `azd provision` / `az deployment sub create`.
#
#   infra/scripts/grant-graph-permissions.sh [--dry-run] [--with-list-subscriptions] [<uami-principal-id>]
#
# The principal id defaults to $AZURE_UAMI_PRINCIPAL_ID, else the azd output of the same
# name. Who can run it: a Privileged Role Administrator (or Global Administrator) signed
# in with `az login` to the council's tenant. Granting application permissions to
# Microsoft Graph is tenant-wide admin consent.
#
# Idempotent: a permission already granted is reported and skipped. Prints every call.
#
# Permissions (least privilege for what the functions do):
#   Application.Read.All              CloudAppHarvest: read service principals / app registrations (delta)
#   DelegatedPermissionGrant.Read.All CloudAppHarvest: read which delegated scopes users consented to apps
#   Sites.Selected                    SharePointSync and the nightly reconcile: access only to the
#                                     SharePoint sites an admin then grants explicitly, per site, with
#                                     POST /sites/{site-id}/permissions; no tenant-wide SharePoint access.
#   Sites.ReadWrite.All               only with --with-list-subscriptions: Graph accepts subscriptions on
#                                     a SharePoint list only from an app holding Sites.ReadWrite.All (the
#                                     Graph subscription permission table lists no narrower permission).
#                                     It is tenant-wide write access to every site: without it, leave
#                                     SHAREPOINT_NOTIFICATION_URL unset and run the reconcile more often.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

PERMISSIONS=(Application.Read.All DelegatedPermissionGrant.Read.All Sites.Selected)
GRAPH_APP_ID=00000003-0000-0000-c000-000000000000 # Microsoft Graph, the same in every tenant

dry_run=""
principal_id=""
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    --with-list-subscriptions) PERMISSIONS+=(Sites.ReadWrite.All) ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) principal_id="$arg" ;;
  esac
done

log() { echo "graph-permissions: $*" >&2; }
die() { echo "graph-permissions: error: $*" >&2; exit 1; }
command -v az >/dev/null 2>&1 || die "the Azure CLI (az) is required"

principal_id="${principal_id:-${AZURE_UAMI_PRINCIPAL_ID:-}}"
if [[ -z "$principal_id" ]] && command -v azd >/dev/null 2>&1; then
  principal_id="$(azd env get-value AZURE_UAMI_PRINCIPAL_ID -C "$root/infra" 2>/dev/null || true)"
fi
[[ -n "$principal_id" ]] || die "pass the managed identity's principal (object) id, or set AZURE_UAMI_PRINCIPAL_ID"

# Graph endpoint of the signed-in cloud (national clouds differ).
graph="$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)"
graph="${graph%/}/v1.0"
tenant="$(az account show --query tenantId -o tsv)"
log "tenant $tenant, Graph $graph"

uami_name="$(az rest --method GET --url "$graph/servicePrincipals/$principal_id?\$select=displayName" --query displayName -o tsv)" \
  || die "no service principal $principal_id in this tenant (wrong tenant, or the identity is not provisioned yet)"
log "managed identity: $uami_name ($principal_id)"

graph_sp="$(az rest --method GET --url "$graph/servicePrincipals(appId='$GRAPH_APP_ID')?\$select=id" --query id -o tsv)"
existing="$(az rest --method GET \
  --url "$graph/servicePrincipals/$principal_id/appRoleAssignments" \
  --query "value[?resourceId=='$graph_sp'].appRoleId" -o tsv)"

changed=0
for permission in "${PERMISSIONS[@]}"; do
  role_id="$(az rest --method GET --url "$graph/servicePrincipals/$graph_sp?\$select=appRoles" \
    --query "appRoles[?value=='$permission' && contains(allowedMemberTypes, 'Application')].id | [0]" -o tsv)"
  [[ -n "$role_id" ]] || die "Microsoft Graph has no application permission '$permission'"
  if grep -qix "$role_id" <<<"$existing"; then
    log "already granted: $permission ($role_id)"
    continue
  fi
  body="{\"principalId\":\"$principal_id\",\"resourceId\":\"$graph_sp\",\"appRoleId\":\"$role_id\"}"
  if [[ -n "$dry_run" ]]; then
    log "would grant: $permission -> POST $graph/servicePrincipals/$principal_id/appRoleAssignments $body"
    continue
  fi
  log "granting: $permission ($role_id)"
  az rest --method POST --url "$graph/servicePrincipals/$principal_id/appRoleAssignments" \
    --headers Content-Type=application/json --body "$body" --output none
  changed=1
done

if [[ $changed -eq 1 ]]; then
  log "done. Managed identity tokens are cached for up to 24 hours: restart the function app"
  log "(az functionapp restart -g <rg> -n <app>) so new tokens carry the new roles."
fi
cat >&2 <<'NOTE'
graph-permissions: next steps that this script does not do:
  * Sites.Selected grants no site by itself: an admin grants each SharePoint site the app
    uses (POST /sites/{site-id}/permissions with role "read" for this identity's app id);
    see "SharePoint list forms" in README.md.
  * Power BI (only if push datasets are used): in the Fabric/Power BI admin portal allow
    service principals to use the Power BI APIs (limited to a security group containing this
    identity), then add the identity to the target workspace as Member.
NOTE
