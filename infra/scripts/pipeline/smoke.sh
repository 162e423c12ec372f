#!/bin/sh
# smoke stage: runs `image-pipeline smoke` from the deployed package against the app deploy.sh reported (deploy.env),
# with an Entra ID token for the app's API, for the CI identity the job signed in as (azure-login.sh). That identity
# needs the app role uploader on the app registration (infra/README.md "Sign-in with Entra ID").
# Usage: infra/scripts/pipeline/smoke.sh <package.zip>
set -eu
package="${1:?usage: smoke.sh <package.zip>}"
: "${SERVICE_API_BASE_URL:?SERVICE_API_BASE_URL is not set (deploy.env from the deploy job)}"
: "${IMAGE_PIPELINE_API_SCOPE:?IMAGE_PIPELINE_API_SCOPE is not set (deploy.env from the deploy job; the deployment had no authClientId)}"
app="$(mktemp -d)"
unzip -q "$package" -d "$app"
node "$app/dist/src/cli/main.js" smoke --api "$SERVICE_API_BASE_URL/api" --api-scope "$IMAGE_PIPELINE_API_SCOPE" --timeout 300
