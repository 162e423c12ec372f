#!/bin/sh
# npm run infra:build: the pinned Bicep CLI (infra/tools/bicep-cli.csproj) lints every template, compiles main.bicep to
# build/infra/main.json (and the pipeline's identity template) and type-checks both parameter files against main.bicep (each JSON file is turned into a .bicepparam
# with `decompile-params`, then compiled with `build-params`). Any diagnostic fails the build: bicepconfig.json raises
# the linter's rules to errors, and compiler warnings (BCPxxx), which no configuration can raise, are caught here.
set -eu
cd "$(dirname "$0")/../.."
bicep=infra/scripts/bicep.sh
out=build/infra
rm -rf "$out"
mkdir -p "$out"
diagnostics="$out/diagnostics.txt"
: >"$diagnostics"

# Runs the CLI, keeps its diagnostics (stderr) and fails on a non-zero exit.
run() {
  if ! "$bicep" "$@" 2>>"$diagnostics"; then
    cat "$diagnostics" >&2
    echo "infra:build: bicep $1 failed" >&2
    exit 1
  fi
}

"$bicep" --version
run lint --pattern 'infra/**/*.bicep'
run build infra/bicep/main.bicep --outfile "$out/main.json"
run build infra/pipeline/ci-identity.bicep --outfile "$out/ci-identity.json"
for params in infra/bicep/main.parameters*.json; do
  name=$(basename "$params" .json)
  run decompile-params "$params" --bicep-file infra/bicep/main.bicep --outfile "$out/$name.bicepparam" --force
  run build-params "$out/$name.bicepparam" --outfile "$out/$name.json"
done

# decompile-params always prints a notice that decompiling is best effort; every other line is a diagnostic.
problems=$(grep -E '\) : (Warning|Error|Info) ' "$diagnostics" || true)
if [ -n "$problems" ]; then
  echo "$problems" >&2
  echo "infra:build: the Bicep CLI reported the diagnostics above; fix them (or suppress one deliberately, with a comment)" >&2
  exit 1
fi
echo "infra:build: main.bicep, $(ls infra/bicep/main.parameters*.json | wc -l) parameter files: no diagnostics ($out/)"
