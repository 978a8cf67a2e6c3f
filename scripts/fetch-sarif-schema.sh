#!/usr/bin/env bash
# Fetch the SARIF 2.1.0 JSON Schema (OASIS) for the tests, from the npm registry package
# @microsoft/jest-sarif (MIT), into .cache/sarif-2.1.0.json. Idempotent; needs npm.
set -euo pipefail
cd "$(dirname "$0")/.."
target=.cache/sarif-2.1.0.json
[ -s "$target" ] && exit 0
command -v npm >/dev/null || { echo "fetch-sarif-schema: npm not found; SARIF schema test will be skipped (fails under CI)"; exit 0; }
mkdir -p .cache
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null 2>&1 && tar xzf microsoft-jest-sarif-*.tgz)
cp "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$target"
echo "fetch-sarif-schema: $target"
