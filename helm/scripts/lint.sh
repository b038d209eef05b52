#!/usr/bin/env bash
# `npm run helm:lint`: the chart's CRD is the generated one, the chart lints, its rendered objects (default values
# and every optional feature on) are valid Kubernetes objects, manifests/install.yaml is the rendered chart, and the
# example RaftClusters in manifests/ are valid against the CRD's own schema.
# Built-in kinds are checked against schemas derived from the OpenAPI document of the Kubernetes release
# `npm run kube:build` uses (RAFTSTORE_KUBE_OPENAPI overrides its path); nothing is fetched from the network.
set -euo pipefail
cd "$(dirname "$0")/../.."
. helm/scripts/tools.sh

chart=helm/raftstore-operator
helm="$(find_tool helm)"
kubeconform="$(find_tool kubeconform)"
kv="$(kube_version)"

bash helm/scripts/sync-crds.sh --check

openapi="${RAFTSTORE_KUBE_OPENAPI:-}"
if [[ -z "$openapi" ]]; then
  openapi="$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")/k8s.io/kubernetes@$kv/api/openapi-spec/swagger.json"
fi
if [[ ! -f "$openapi" ]]; then
  echo "error: no Kubernetes OpenAPI document at $openapi." >&2
  echo "       Run \`npm run kube:build\` (downloads k8s.io/kubernetes), or set RAFTSTORE_KUBE_OPENAPI to a swagger.json." >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
node helm/scripts/kube-schemas.mjs "$work/schemas" "$openapi" "$chart/crds/raftstore.dev_raftclusters.yaml"
kc=("$kubeconform" -strict -summary -schema-location "$work/schemas/{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json")

echo "== helm lint"
"$helm" lint --strict --kube-version "$kv" "$chart"
"$helm" lint --strict --kube-version "$kv" "$chart" --set serviceMonitor.enabled=true --set watchNamespaces='{a,b}'

echo "== rendered chart (default values)"
"$helm" template raftstore-operator "$chart" --kube-version "$kv" --namespace raftstore-system --include-crds >"$work/default.yaml"
"${kc[@]}" "$work/default.yaml"

echo "== rendered chart (ServiceMonitor on, 1 replica, no PDB, existing service account)"
# ServiceMonitor's schema belongs to the Prometheus Operator, not Kubernetes: that one kind is skipped.
"$helm" template raftstore-operator "$chart" --kube-version "$kv" --namespace raftstore-system --api-versions monitoring.coreos.com/v1/ServiceMonitor \
  --set serviceMonitor.enabled=true --set replicaCount=1 --set serviceAccount.create=false --set serviceAccount.name=ops \
  >"$work/options.yaml"
grep -q '^kind: ServiceMonitor$' "$work/options.yaml" || { echo "error: ServiceMonitor not rendered" >&2; exit 1; }
"${kc[@]}" -skip ServiceMonitor "$work/options.yaml"

echo "== every pod meets the restricted Pod Security Standard"
"$helm" template raftstore-operator "$chart" --kube-version "$kv" --namespace raftstore-system >"$work/with-tests.yaml"
node helm/scripts/check-restricted.mjs "$work/with-tests.yaml"

echo "== values.schema.json rejects bad values"
if "$helm" template x "$chart" --kube-version "$kv" --set replicaCount=0 >/dev/null 2>&1 || "$helm" template x "$chart" --kube-version "$kv" --set nope=1 >/dev/null 2>&1; then
  echo "error: values.schema.json accepted replicaCount=0 or an unknown value" >&2
  exit 1
fi

echo "== manifests/install.yaml is up to date"
bash manifests/render.sh --check

echo "== manifests/ against Kubernetes and the RaftCluster CRD"
"${kc[@]}" manifests/*.yaml

echo "== the schemas reject invalid objects"
out="$("${kc[@]}" helm/scripts/testdata/invalid.yaml 2>&1 || true)"
for want in "at '/spec/replicas': maximum" "additional properties 'bogus'" "additional properties 'replicaz'"; do
  if [[ "$out" != *"$want"* ]]; then
    echo "error: kubeconform did not report $want for helm/scripts/testdata/invalid.yaml:" >&2
    echo "$out" >&2
    exit 1
  fi
done
echo "rejected as expected"

echo "helm:lint: ok"
