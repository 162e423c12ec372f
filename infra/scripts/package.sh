#!/bin/sh
# The deployment package, as CI and the delivery pipeline build it: one zip with the compiled functions (dist/src,
# without the local host), host.json, web/, package.json and the production dependencies installed for Linux x64
# (glibc), sharp's native binary included. Flex Consumption runs it as it is: no remote build on the Azure side.
# Usage: infra/scripts/package.sh [zip path]   (default: build/package/image-pipeline.zip)
set -eu
cd "$(dirname "$0")/../.."
zip_path="${1:-build/package/image-pipeline.zip}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

npm run build --silent
mkdir -p "$stage/dist"
cp -R dist/src "$stage/dist/src"
# The local host (npm start) needs the dev-only emulators and never runs in Azure. Only local-host-file stays (node:
# modules only): the operator commands (backup, restore, replay-deadletter) look there for a running local host.
find "$stage/dist/src/local" -type f ! -name 'local-host-file.js' -delete
cp -R host.json web package.json package-lock.json "$stage/"

# Production dependencies only, for the platform the app runs on whatever machine builds the package. Install
# scripts are not needed: sharp's binary and libvips come as the @img/sharp-linux-x64 optional packages.
# --prefer-offline: the tarballs are usually in npm's cache already (the lock's integrity hashes still apply).
(cd "$stage" && npm ci --omit=dev --os=linux --cpu=x64 --libc=glibc --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)
rm "$stage/package-lock.json"

mkdir -p "$(dirname "$zip_path")"
zip_path="$(cd "$(dirname "$zip_path")" && pwd)/$(basename "$zip_path")"
rm -f "$zip_path"
(cd "$stage" && zip -qr -X "$zip_path" .)
echo "package: $zip_path ($(du -h "$zip_path" | cut -f1))"
