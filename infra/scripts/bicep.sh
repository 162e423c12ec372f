#!/bin/sh
# Runs the pinned Bicep CLI (infra/tools/bicep-cli.csproj), restoring it from NuGet first if it is not there yet.
# Usage: infra/scripts/bicep.sh <bicep arguments>   e.g. infra/scripts/bicep.sh build infra/bicep/main.bicep --stdout
#        infra/scripts/bicep.sh --path              prints the executable's path (restoring it if needed)
set -eu
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
version=$(sed -n 's:.*<BicepCliVersion>\(.*\)</BicepCliVersion>.*:\1:p' "$tools/bicep-cli.csproj")
bicep="$tools/packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"
if [ ! -f "$bicep" ]; then
  command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET SDK (dotnet) is needed to restore the Bicep CLI" >&2; exit 1; }
  dotnet restore "$tools/bicep-cli.csproj" --verbosity quiet >&2
fi
# NuGet does not keep the execute bit of files in a package.
[ -x "$bicep" ] || chmod +x "$bicep"
if [ "${1:-}" = "--path" ]; then
  echo "$bicep"
  exit 0
fi
exec "$bicep" "$@"
