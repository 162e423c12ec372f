# shellcheck shell=bash
# Sourced by failover.sh and failback.sh: dry runs, required settings, and the steps they share.
# The settings are the deployment outputs, as `azd env get-values` prints them (eval "$(azd env get-values)") or as
# az deployment sub show --query properties.outputs gives them.

dry_run=false

# Runs a command, or with --dry-run prints it (shell-quoted, ready to paste) and runs nothing.
run() {
  if $dry_run; then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    printf '+ %s\n' "$*" >&2
    "$@"
  fi
}

# A step in a region that may be down: a failure is reported and the procedure goes on.
best_effort() {
  if ! "$@"; then
    echo "warning: failed (the region may be down; continuing): $*" >&2
  fi
}

say() {
  echo "# $*"
}

need() {
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      echo "error: $name is not set: export the deployment outputs first (eval \"\$(azd env get-values)\")" >&2
      exit 2
    fi
  done
}

# Cosmos DB names regions "West Europe" where the template says "westeurope".
normalise_region() {
  echo "$1" | tr -d ' ' | tr '[:upper:]' '[:lower:]'
}

# Makes `region` the Cosmos DB write region unless it is already (service-managed failover may have moved it).
cosmos_write_region() {
  local region=$1 other=$2
  if $dry_run; then
    say "unless Cosmos DB already writes in $region (az cosmosdb show -g $AZURE_RESOURCE_GROUP -n $COSMOS_ACCOUNT_NAME --query 'writeLocations[0].locationName'):"
  else
    local current
    current=$(az cosmosdb show --resource-group "$AZURE_RESOURCE_GROUP" --name "$COSMOS_ACCOUNT_NAME" --query 'writeLocations[0].locationName' --output tsv)
    if [ "$(normalise_region "$current")" = "$(normalise_region "$region")" ]; then
      echo "Cosmos DB already writes in $region" >&2
      return 0
    fi
  fi
  run az cosmosdb failover-priority-change --resource-group "$AZURE_RESOURCE_GROUP" --name "$COSMOS_ACCOUNT_NAME" \
    --failover-policies "$region=0" "$other=1"
}

# Turns an app's batch ingest and maintenance jobs on (false) or off (true): only the active region runs them.
set_standby() {
  local app=$1 disabled=$2
  run az functionapp config appsettings set --resource-group "$AZURE_RESOURCE_GROUP" --name "$app" --output none \
    --settings "AzureWebJobs.ingestBatchRecords.Disabled=$disabled" "AzureWebJobs.maintenance.Disabled=$disabled"
}

# The Event Grid subscription of a region's storage account to its app's blob webhook, with the app's current key.
subscribe_blob_events() {
  local app=$1 storage=$2 topic=$3
  run env POSTDEPLOY_STANDBY=1 AZURE_RESOURCE_GROUP="$AZURE_RESOURCE_GROUP" AZURE_FUNCTION_APP_NAME="$app" \
    AZURE_STORAGE_ACCOUNT_NAME="$storage" BLOB_SYSTEM_TOPIC_NAME="$topic" sh "$scripts/postdeploy.sh"
}

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
