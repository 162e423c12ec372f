#!/usr/bin/env bash
# Region loss: makes the secondary region (secondaryLocation) the active one. Run it with the deployment outputs in
# the environment (eval "$(azd env get-values)"); --dry-run prints every command and runs none. infra/README.md
# "Disaster recovery" says when to run it and what each step does to recovery point and time.
#   1. Event Hubs: fail the geo-DR alias over to the secondary namespace (app and producers use the alias).
#   2. Cosmos DB: make the secondary region the write region (unless service-managed failover did already).
#   3. The primary app, if it still answers: batch ingest and maintenance off, stopped.
#   4. The standby app: batch ingest and maintenance on, started.
#   5. Event Grid: the standby storage's subscription to the standby app's webhook, with its current key.
#   6. What to change outside Azure: producers, clients, activeRegion.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=dr-common.sh
. "$(dirname "$0")/dr-common.sh"

for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: failover.sh [--dry-run]" >&2; exit 2 ;;
  esac
done

need AZURE_RESOURCE_GROUP AZURE_LOCATION AZURE_SECONDARY_LOCATION COSMOS_ACCOUNT_NAME EVENTHUB_SECONDARY_NAMESPACE EVENTHUB_ALIAS \
  AZURE_FUNCTION_APP_NAME AZURE_STANDBY_FUNCTION_APP_NAME AZURE_STANDBY_STORAGE_ACCOUNT_NAME STANDBY_BLOB_SYSTEM_TOPIC_NAME STANDBY_API_BASE_URL
$dry_run || command -v az >/dev/null || { echo "error: the Azure CLI (az) is required" >&2; exit 1; }

say "1. Event Hubs: the alias $EVENTHUB_ALIAS now points at $EVENTHUB_SECONDARY_NAMESPACE (events not yet read in the old primary stay there)"
run az eventhubs georecovery-alias fail-over --resource-group "$AZURE_RESOURCE_GROUP" \
  --namespace-name "$EVENTHUB_SECONDARY_NAMESPACE" --alias "$EVENTHUB_ALIAS"

say "2. Cosmos DB: $AZURE_SECONDARY_LOCATION becomes the write region"
cosmos_write_region "$AZURE_SECONDARY_LOCATION" "$AZURE_LOCATION"

say "3. The primary app $AZURE_FUNCTION_APP_NAME: off, if it still answers"
best_effort set_standby "$AZURE_FUNCTION_APP_NAME" true
best_effort run az functionapp stop --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME"

say "4. The standby app $AZURE_STANDBY_FUNCTION_APP_NAME: batch ingest and maintenance on"
set_standby "$AZURE_STANDBY_FUNCTION_APP_NAME" false
run az functionapp start --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_STANDBY_FUNCTION_APP_NAME"

say "5. Event Grid: uploads in $AZURE_STANDBY_STORAGE_ACCOUNT_NAME to the standby app's blob webhook"
subscribe_blob_events "$AZURE_STANDBY_FUNCTION_APP_NAME" "$AZURE_STANDBY_STORAGE_ACCOUNT_NAME" "$STANDBY_BLOB_SYSTEM_TOPIC_NAME"

cat <<NEXT
# 6. Outside Azure:
#    - clients and the web app: API base ${STANDBY_API_BASE_URL}/api
#    - producers: Kafka bootstrap ${EVENTHUB_ALIAS}.servicebus.windows.net:9093 is unchanged; large files go to
#      --storage-account ${AZURE_STANDBY_STORAGE_ACCOUNT_NAME} (their roles there are already granted)
#    - before the next provision: activeRegion=secondary (in the parameter file, or -p activeRegion=secondary), so
#      the deployment states the failed-over account and alias instead of fighting them
#    - batches that were processing in the old region: GET ${STANDBY_API_BASE_URL}/api/batches?status=processing, then
#      POST .../api/batches/{id}/retry once they ended (infra/README.md, "In-flight batches")
NEXT
