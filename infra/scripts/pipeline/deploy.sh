#!/bin/sh
# deploy stages: provisions the profile (az deployment sub create), deploys the package to the function app (one
# deploy to Flex Consumption), creates or updates the Event Grid subscription (postdeploy.sh), and writes deploy.env
# (a dotenv artifact: the app's name, resource group, API base and the Entra ID scope of its API) for the smoke job.
# Usage: infra/scripts/pipeline/deploy.sh dev|prod <package.zip>
set -eu
cd "$(dirname "$0")/../../.."
profile_name="${1:-}"
package="${2:?usage: deploy.sh dev|prod <package.zip>}"
. infra/scripts/pipeline/profile.sh

az deployment sub create --name "$deployment_name" --location "$deployment_location" \
  --template-file infra/bicep/main.bicep "$@" --output none
output() { az deployment sub show --name "$deployment_name" --query "properties.outputs.$1.value" -o tsv; }
AZURE_FUNCTION_APP_NAME=$(output AZURE_FUNCTION_APP_NAME)
AZURE_RESOURCE_GROUP=$(output AZURE_RESOURCE_GROUP)
AZURE_STORAGE_ACCOUNT_NAME=$(output AZURE_STORAGE_ACCOUNT_NAME)
BLOB_SYSTEM_TOPIC_NAME=$(output BLOB_SYSTEM_TOPIC_NAME)
UPLOADS_CONTAINER_NAME=$(output UPLOADS_CONTAINER_NAME)
DEAD_LETTER_CONTAINER_NAME=$(output DEAD_LETTER_CONTAINER_NAME)
SERVICE_API_BASE_URL=$(output SERVICE_API_BASE_URL)
# The standby app in the secondary region (empty without one): postdeploy.sh deploys the same package to it.
AZURE_STANDBY_FUNCTION_APP_NAME=$(output AZURE_STANDBY_FUNCTION_APP_NAME)
AZURE_STANDBY_STORAGE_ACCOUNT_NAME=$(output AZURE_STANDBY_STORAGE_ACCOUNT_NAME)
STANDBY_BLOB_SYSTEM_TOPIC_NAME=$(output STANDBY_BLOB_SYSTEM_TOPIC_NAME)
STANDBY_PACKAGE="$package"
IMAGE_PIPELINE_API_SCOPE=$(output IMAGE_PIPELINE_API_SCOPE)
export AZURE_FUNCTION_APP_NAME AZURE_RESOURCE_GROUP AZURE_STORAGE_ACCOUNT_NAME BLOB_SYSTEM_TOPIC_NAME UPLOADS_CONTAINER_NAME DEAD_LETTER_CONTAINER_NAME
export AZURE_STANDBY_FUNCTION_APP_NAME AZURE_STANDBY_STORAGE_ACCOUNT_NAME STANDBY_BLOB_SYSTEM_TOPIC_NAME STANDBY_PACKAGE

az functionapp deployment source config-zip --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
  --src "$package" --output none
sh infra/scripts/postdeploy.sh

printf 'AZURE_FUNCTION_APP_NAME=%s\nAZURE_RESOURCE_GROUP=%s\nSERVICE_API_BASE_URL=%s\nIMAGE_PIPELINE_API_SCOPE=%s\n' \
  "$AZURE_FUNCTION_APP_NAME" "$AZURE_RESOURCE_GROUP" "$SERVICE_API_BASE_URL" "$IMAGE_PIPELINE_API_SCOPE" >deploy.env
echo "deployed $package to $AZURE_FUNCTION_APP_NAME ($profile_name)"
