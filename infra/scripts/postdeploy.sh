#!/bin/sh
# azd postdeploy hook: subscribe the blob extension webhook of processUpload to BlobCreated events in uploads/.
# Runs after the code is deployed because (1) the blobs_extension system key exists only once the Functions host has
# started with the blob extension loaded and (2) Event Grid validates the webhook endpoint when the subscription is
# created. Same approach as Azure-Samples/functions-quickstart-javascript-azd-eventgrid-blob (scripts/post-up.sh).
# Manual use (az deployment sub create path): export the variables below from the deployment outputs and run it.
set -eu

: "${AZURE_FUNCTION_APP_NAME:?AZURE_FUNCTION_APP_NAME is not set (deployment output)}"
: "${AZURE_RESOURCE_GROUP:?AZURE_RESOURCE_GROUP is not set (deployment output)}"
: "${BLOB_SYSTEM_TOPIC_NAME:?BLOB_SYSTEM_TOPIC_NAME is not set (deployment output)}"
UPLOADS_CONTAINER_NAME="${UPLOADS_CONTAINER_NAME:-uploads}"
: "${AZURE_STORAGE_ACCOUNT_NAME:?AZURE_STORAGE_ACCOUNT_NAME is not set (deployment output)}"
DEAD_LETTER_CONTAINER_NAME="${DEAD_LETTER_CONTAINER_NAME:-eventgrid-dead-letters}"
FUNCTION_NAME="${FUNCTION_NAME:-processUpload}"
SUBSCRIPTION_NAME="${BLOB_EVENT_SUBSCRIPTION_NAME:-uploads-blob-created}"

if ! command -v az >/dev/null 2>&1; then
  echo "error: the Azure CLI (az) is required for the postdeploy hook" >&2
  exit 1
fi

# The host creates the key on its first start after deployment; wait for it.
key=""
attempt=0
while [ -z "$key" ] && [ "$attempt" -lt 20 ]; do
  attempt=$((attempt + 1))
  key=$(az functionapp keys list -n "$AZURE_FUNCTION_APP_NAME" -g "$AZURE_RESOURCE_GROUP" \
    --query "systemKeys.blobs_extension" -o tsv 2>/dev/null || true)
  if [ -z "$key" ]; then
    echo "waiting for the blobs_extension system key (attempt $attempt/20)..."
    curl -s -o /dev/null "https://${AZURE_FUNCTION_APP_NAME}.azurewebsites.net/" || true
    sleep 15
  fi
done
if [ -z "$key" ]; then
  echo "error: no blobs_extension system key on $AZURE_FUNCTION_APP_NAME; is processUpload deployed with source EventGrid?" >&2
  exit 1
fi

endpoint="https://${AZURE_FUNCTION_APP_NAME}.azurewebsites.net/runtime/webhooks/blobs?functionName=Host.Functions.${FUNCTION_NAME}&code=${key}"
# Events still undelivered after 30 attempts or 24 hours (the longest TTL Event Grid allows) go to this container,
# written by the system topic's identity (Storage Blob Data Contributor on that container only), for a replay.
storage_id=$(az storage account show -n "$AZURE_STORAGE_ACCOUNT_NAME" -g "$AZURE_RESOURCE_GROUP" --query id -o tsv)
dead_letters="${storage_id}/blobServices/default/containers/${DEAD_LETTER_CONTAINER_NAME}"

az eventgrid system-topic event-subscription create \
  --name "$SUBSCRIPTION_NAME" \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --system-topic-name "$BLOB_SYSTEM_TOPIC_NAME" \
  --endpoint-type webhook \
  --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/${UPLOADS_CONTAINER_NAME}/" \
  --max-delivery-attempts 30 \
  --event-ttl 1440 \
  --deadletter-identity systemassigned \
  --deadletter-identity-endpoint "$dead_letters" \
  --output none

echo "Event Grid subscription $SUBSCRIPTION_NAME: BlobCreated in ${UPLOADS_CONTAINER_NAME}/ -> ${FUNCTION_NAME}"

# The standby app in the secondary region (secondaryLocation), when there is one: the same package, and the same
# subscription on its own storage account's topic, so it takes uploads the moment it is active. The package is the one
# the pipeline deployed (STANDBY_PACKAGE), else built here (azd deploys the primary app only).
if [ -n "${AZURE_STANDBY_FUNCTION_APP_NAME:-}" ] && [ -z "${POSTDEPLOY_STANDBY:-}" ]; then
  : "${AZURE_STANDBY_STORAGE_ACCOUNT_NAME:?AZURE_STANDBY_STORAGE_ACCOUNT_NAME is not set (deployment output)}"
  : "${STANDBY_BLOB_SYSTEM_TOPIC_NAME:?STANDBY_BLOB_SYSTEM_TOPIC_NAME is not set (deployment output)}"
  package="${STANDBY_PACKAGE:-build/package/image-pipeline.zip}"
  [ -n "${STANDBY_PACKAGE:-}" ] || sh "$(dirname "$0")/package.sh" "$package"
  az functionapp deployment source config-zip --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_STANDBY_FUNCTION_APP_NAME" \
    --src "$package" --output none
  POSTDEPLOY_STANDBY=1 AZURE_FUNCTION_APP_NAME="$AZURE_STANDBY_FUNCTION_APP_NAME" \
    AZURE_STORAGE_ACCOUNT_NAME="$AZURE_STANDBY_STORAGE_ACCOUNT_NAME" BLOB_SYSTEM_TOPIC_NAME="$STANDBY_BLOB_SYSTEM_TOPIC_NAME" \
    sh "$0"
fi
