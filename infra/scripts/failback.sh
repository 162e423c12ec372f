#!/usr/bin/env bash
# Back to the primary region once it is healthy, after failover.sh. Run it with the deployment outputs in the
# environment (eval "$(azd env get-values)"); --dry-run prints every command and runs none.
#   1. The primary app: started (its batch ingest and maintenance stay off until step 5).
#   2. Event Hubs geo-DR fails forward only: delete the stale primary namespace, deploy with activeRegion=secondary
#      (a new, empty namespace in the primary region, paired behind the alias), wait for the pairing, fail the alias
#      over to it.
#   3. Cosmos DB: the primary region becomes the write region again.
#   4. The standby app: batch ingest and maintenance off.
#   5. The primary app: batch ingest and maintenance on; Event Grid subscription with its current key.
#   6. Event Hubs: delete the now stale secondary namespace, deploy with activeRegion=primary (pairs a new one).
# Needs --parameters <file> (the parameter file the environment was deployed with) and AZURE_ENV_NAME.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=dr-common.sh
. "$(dirname "$0")/dr-common.sh"

parameters=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=true ;;
    --parameters) parameters="${2:-}"; shift ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: failback.sh --parameters <parameter file> [--dry-run]" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$parameters" ] || { echo "usage: failback.sh --parameters <parameter file> [--dry-run]" >&2; exit 2; }

need AZURE_ENV_NAME AZURE_RESOURCE_GROUP AZURE_LOCATION AZURE_SECONDARY_LOCATION COSMOS_ACCOUNT_NAME EVENTHUB_NAMESPACE \
  EVENTHUB_SECONDARY_NAMESPACE EVENTHUB_ALIAS AZURE_FUNCTION_APP_NAME AZURE_STORAGE_ACCOUNT_NAME BLOB_SYSTEM_TOPIC_NAME \
  AZURE_STANDBY_FUNCTION_APP_NAME SERVICE_API_BASE_URL
$dry_run || command -v az >/dev/null || { echo "error: the Azure CLI (az) is required" >&2; exit 1; }

template="$(cd "$scripts/../bicep" && pwd)/main.bicep"
deploy() {
  run az deployment sub create --name "image-pipeline-$1" --location "$AZURE_LOCATION" \
    --template-file "$template" --parameters "$parameters" \
    --parameters environmentName="$AZURE_ENV_NAME" location="$AZURE_LOCATION" activeRegion="$1" --output none
}

say "1. The primary app $AZURE_FUNCTION_APP_NAME: started (batch ingest and maintenance still off)"
run az functionapp start --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME"

say "2. Event Hubs: a new primary namespace behind the alias. Events still unread in the old $EVENTHUB_NAMESPACE are deleted with it"
run az eventhubs namespace delete --resource-group "$AZURE_RESOURCE_GROUP" --name "$EVENTHUB_NAMESPACE"
deploy secondary
say "wait until the alias has replicated the hub to the new $EVENTHUB_NAMESPACE (pendingReplicationOperationsCount 0)"
if $dry_run; then
  run az eventhubs georecovery-alias show --resource-group "$AZURE_RESOURCE_GROUP" --namespace-name "$EVENTHUB_SECONDARY_NAMESPACE" \
    --alias "$EVENTHUB_ALIAS" --query pendingReplicationOperationsCount --output tsv
else
  until [ "$(az eventhubs georecovery-alias show --resource-group "$AZURE_RESOURCE_GROUP" --namespace-name "$EVENTHUB_SECONDARY_NAMESPACE" \
    --alias "$EVENTHUB_ALIAS" --query pendingReplicationOperationsCount --output tsv)" = "0" ]; do sleep "${DR_POLL_SECONDS:-15}"; done
fi
run az eventhubs georecovery-alias fail-over --resource-group "$AZURE_RESOURCE_GROUP" \
  --namespace-name "$EVENTHUB_NAMESPACE" --alias "$EVENTHUB_ALIAS"

say "3. Cosmos DB: $AZURE_LOCATION becomes the write region"
cosmos_write_region "$AZURE_LOCATION" "$AZURE_SECONDARY_LOCATION"

say "4. The standby app $AZURE_STANDBY_FUNCTION_APP_NAME: batch ingest and maintenance off"
set_standby "$AZURE_STANDBY_FUNCTION_APP_NAME" true

say "5. The primary app: batch ingest and maintenance on, and its Event Grid subscription"
set_standby "$AZURE_FUNCTION_APP_NAME" false
subscribe_blob_events "$AZURE_FUNCTION_APP_NAME" "$AZURE_STORAGE_ACCOUNT_NAME" "$BLOB_SYSTEM_TOPIC_NAME"

say "6. Event Hubs: a new, empty secondary namespace paired behind the alias, for the next failover"
run az eventhubs namespace delete --resource-group "$AZURE_RESOURCE_GROUP" --name "$EVENTHUB_SECONDARY_NAMESPACE"
deploy primary

cat <<NEXT
# 7. Outside Azure:
#    - clients and the web app: API base ${SERVICE_API_BASE_URL}/api; producers' large files: --storage-account ${AZURE_STORAGE_ACCOUNT_NAME}
#    - uploads Event Grid could not deliver to the primary app while it was down:
#      npx image-pipeline replay-deadletter --storage-account ${AZURE_STORAGE_ACCOUNT_NAME} --app ${SERVICE_API_BASE_URL} \\
#        --code "\$(az functionapp keys list -g ${AZURE_RESOURCE_GROUP} -n ${AZURE_FUNCTION_APP_NAME} --query systemKeys.blobs_extension -o tsv)"
#    - activeRegion is primary again (the last deployment above set it)
NEXT
