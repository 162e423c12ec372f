# Sourced by the pipeline scripts: the parameter file and overrides of one profile (dev or prod) for az deployment.
# dev: main.parameters.json, whose azd placeholders are replaced by DEV_ENV_NAME and AZURE_LOCATION;
# prod: main.parameters.prod.json (its own environment name and region).
# Both: the profile's Entra ID app registration (<PROFILE>_AUTH_CLIENT_ID, not secret) and its owner-hash salt
# (<PROFILE>_OWNER_HASH_SALT, a masked and protected CI/CD variable), kept the same from one deployment to the next.
case "${1:-}" in
  dev)
    : "${DEV_ENV_NAME:?DEV_ENV_NAME is not set (CI/CD variable: azd environment name of dev)}"
    : "${AZURE_LOCATION:?AZURE_LOCATION is not set (CI/CD variable)}"
    : "${DEV_AUTH_CLIENT_ID:?DEV_AUTH_CLIENT_ID is not set (CI/CD variable: client id of dev's app registration)}"
    : "${DEV_OWNER_HASH_SALT:?DEV_OWNER_HASH_SALT is not set (masked CI/CD variable, at least 32 characters)}"
    deployment_location="$AZURE_LOCATION"
    set -- --parameters infra/bicep/main.parameters.json --parameters "environmentName=$DEV_ENV_NAME" "location=$AZURE_LOCATION" \
      "authClientId=$DEV_AUTH_CLIENT_ID" "ownerHashSalt=$DEV_OWNER_HASH_SALT"
    ;;
  prod)
    : "${PROD_AUTH_CLIENT_ID:?PROD_AUTH_CLIENT_ID is not set (CI/CD variable: client id of prod's app registration)}"
    : "${PROD_OWNER_HASH_SALT:?PROD_OWNER_HASH_SALT is not set (masked CI/CD variable, at least 32 characters)}"
    deployment_location=$(sed -n '/"location"/,/}/s/.*"value": *"\([^"]*\)".*/\1/p' infra/bicep/main.parameters.prod.json)
    set -- --parameters infra/bicep/main.parameters.prod.json --parameters "authClientId=$PROD_AUTH_CLIENT_ID" "ownerHashSalt=$PROD_OWNER_HASH_SALT"
    ;;
  *)
    echo "usage: $0 dev|prod ..." >&2
    exit 2
    ;;
esac
# the deployment name is per profile, so that deploy.sh can read the outputs back
deployment_name="image-pipeline-$profile_name"
