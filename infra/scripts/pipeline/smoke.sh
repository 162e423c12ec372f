#!/bin/sh
# smoke stage: runs `image-pipeline smoke` from the deployed package against the app deploy.sh reported (deploy.env),
# with the app's default function key, read with the CI identity and never stored.
# Usage: infra/scripts/pipeline/smoke.sh <package.zip>
set -eu
package="${1:?usage: smoke.sh <package.zip>}"
: "${AZURE_FUNCTION_APP_NAME:?AZURE_FUNCTION_APP_NAME is not set (deploy.env from the deploy job)}"
: "${AZURE_RESOURCE_GROUP:?AZURE_RESOURCE_GROUP is not set (deploy.env from the deploy job)}"
: "${SERVICE_API_BASE_URL:?SERVICE_API_BASE_URL is not set (deploy.env from the deploy job)}"
app="$(mktemp -d)"
unzip -q "$package" -d "$app"
key=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" --query functionKeys.default -o tsv)
node "$app/dist/src/cli/main.js" smoke --api "$SERVICE_API_BASE_URL/api" --code "$key" --timeout 300
