#!/bin/sh
# Keeps prod's packages in the project's generic package registry (the job token may publish and download there), so
# that the rollback job can redeploy the package that ran before:
#   release.sh record <package.zip>   before a prod deployment: the package in prod so far becomes "previous",
#                                     this one "current"
#   release.sh rollback               deploys "previous" to prod and makes it "current" again
set -eu
cd "$(dirname "$0")/../../.."
: "${CI_API_V4_URL:?not in a GitLab job}" "${CI_PROJECT_ID:?}" "${CI_JOB_TOKEN:?}"
registry="$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/image-pipeline-prod"

fetch() { # fetch <version> <file>: 0 when the registry has it
  curl --silent --show-error --fail --location --header "JOB-TOKEN: $CI_JOB_TOKEN" --output "$2" "$registry/$1/image-pipeline.zip"
}
publish() { # publish <version> <file>
  curl --silent --show-error --fail --header "JOB-TOKEN: $CI_JOB_TOKEN" --upload-file "$2" "$registry/$1/image-pipeline.zip" >/dev/null
}

case "${1:-}" in
  record)
    package="${2:?usage: release.sh record <package.zip>}"
    if fetch current current.zip; then
      publish previous current.zip
    else
      echo "no package in prod yet: nothing to keep for a rollback"
    fi
    publish current "$package"
    ;;
  rollback)
    fetch previous previous.zip || { echo "error: no previous prod package in the registry; nothing to roll back to" >&2; exit 1; }
    sh infra/scripts/pipeline/deploy.sh prod previous.zip
    publish current previous.zip
    ;;
  *)
    echo "usage: release.sh record <package.zip> | rollback" >&2
    exit 2
    ;;
esac
