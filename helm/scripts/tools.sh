# Sourced by the helm and manifests scripts: finds helm and kubeconform in $HOME/.cache/raftstore-kube/*/bin
# (built by `npm run kube:build`) or on PATH, and fails with a clear message when one is missing.

find_tool() {
  local name="$1" found
  found="$(ls -1 "$HOME"/.cache/raftstore-kube/*/bin/"$name" 2>/dev/null | sort | tail -n 1 || true)"
  if [[ -n "$found" && -x "$found" ]]; then echo "$found"; return 0; fi
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  echo "error: $name not found in \$HOME/.cache/raftstore-kube/*/bin or on PATH." >&2
  echo "       Build it with \`npm run kube:build\`, or e.g. \`go install helm.sh/helm/v3/cmd/helm@v3.17.3\` /" >&2
  echo "       \`go install github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0\` and put it on PATH." >&2
  return 1
}

# Kubernetes version the chart is rendered and validated for: the one `npm run kube:build` builds.
kube_version() {
  local f
  f="$(ls -1 "$HOME"/.cache/raftstore-kube/*/bin/.kubernetes.version 2>/dev/null | sort | tail -n 1 || true)"
  if [[ -n "$f" ]]; then cat "$f"; else echo v1.33.13; fi
}
