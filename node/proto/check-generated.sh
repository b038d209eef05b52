#!/usr/bin/env sh
# CI guard (`npm run proto:check`): lint the .proto files, regenerate into a temporary directory and fail if the
# committed code under node/shared/api/generated/ differs, i.e. someone edited a .proto without `npm run proto:gen`
# (or edited generated code by hand). Run from the repository root.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
buf lint node/proto
buf generate node/proto --template node/proto/buf.gen.yaml --output "$tmp"
if ! diff -r node/shared/api/generated "$tmp/node/shared/api/generated"; then
  echo "proto:check: node/shared/api/generated is out of date with node/proto; run 'npm run proto:gen' and commit" >&2
  exit 1
fi
echo "proto:check: generated code is up to date"
