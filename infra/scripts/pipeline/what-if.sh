#!/bin/sh
# validate stage: compiles the templates and asks Azure what a deployment of the profile would change.
# Usage: infra/scripts/pipeline/what-if.sh dev|prod
set -eu
cd "$(dirname "$0")/../../.."
profile_name="${1:-}"
. infra/scripts/pipeline/profile.sh
az bicep build --file infra/bicep/main.bicep --stdout >/dev/null
az deployment sub what-if --name "$deployment_name" --location "$deployment_location" \
  --template-file infra/bicep/main.bicep "$@" --result-format FullResourcePayloads
