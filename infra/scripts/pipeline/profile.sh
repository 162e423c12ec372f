# Sourced by the pipeline scripts: the parameter file and overrides of one profile (dev or prod) for az deployment.
# dev: main.parameters.json, whose azd placeholders are replaced by DEV_ENV_NAME and AZURE_LOCATION;
# prod: main.parameters.prod.json as it is (its own environment name and region).
case "${1:-}" in
  dev)
    : "${DEV_ENV_NAME:?DEV_ENV_NAME is not set (CI/CD variable: azd environment name of dev)}"
    : "${AZURE_LOCATION:?AZURE_LOCATION is not set (CI/CD variable)}"
    deployment_location="$AZURE_LOCATION"
    set -- --parameters infra/bicep/main.parameters.json --parameters "environmentName=$DEV_ENV_NAME" "location=$AZURE_LOCATION"
    ;;
  prod)
    deployment_location=$(sed -n '/"location"/,/}/s/.*"value": *"\([^"]*\)".*/\1/p' infra/bicep/main.parameters.prod.json)
    set -- --parameters infra/bicep/main.parameters.prod.json
    ;;
  *)
    echo "usage: $0 dev|prod ..." >&2
    exit 2
    ;;
esac
# the deployment name is per profile, so that deploy.sh can read the outputs back
deployment_name="image-pipeline-$profile_name"
