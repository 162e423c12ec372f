#!/bin/sh
# Signs the Azure CLI in with OIDC workload identity federation: GitLab issues the job an ID token
# (id_tokens: AZURE_ID_TOKEN, audience api://AzureADTokenExchange) and Entra ID exchanges it for an access token of the
# CI identity, whose federated credential (infra/pipeline/ci-identity.bicep) trusts this project's main branch.
# No secret is stored anywhere: AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_SUBSCRIPTION_ID are plain ids.
set -eu
: "${AZURE_ID_TOKEN:?AZURE_ID_TOKEN is not set: the job needs id_tokens: AZURE_ID_TOKEN (aud api://AzureADTokenExchange)}"
: "${AZURE_CLIENT_ID:?AZURE_CLIENT_ID is not set (CI/CD variable: client id of the CI identity)}"
: "${AZURE_TENANT_ID:?AZURE_TENANT_ID is not set (CI/CD variable)}"
: "${AZURE_SUBSCRIPTION_ID:?AZURE_SUBSCRIPTION_ID is not set (CI/CD variable)}"
az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" \
  --federated-token "$AZURE_ID_TOKEN" --allow-no-subscriptions --output none
az account set --subscription "$AZURE_SUBSCRIPTION_ID"
