#!/usr/bin/env bash
# Builds the end-to-end Kubernetes control plane from the Go module proxy into a cache outside the repository:
#   ${RAFTSTORE_KUBE_CACHE:-$HOME/.cache/raftstore-kube}/<K8S_VERSION>/bin/
#     kube-apiserver kube-controller-manager kube-scheduler etcd coredns helm kubeconform
# Idempotent: when bin/.stamp matches versions.env and every binary is there, it exits at once (warm build).
#
# Each tool is built in its own throwaway Go module because their dependency graphs pin different versions of
# k8s.io/*, grpc, otel and etcd's client; a single module would force one resolution on all of them.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${RAFTSTORE_KUBE_CACHE:-$HOME/.cache/raftstore-kube}"
out="$cache_root/$K8S_VERSION"
bin="$out/bin"
src="$out/src"
stamp="$bin/.stamp"
binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd coredns helm kubeconform)

want_stamp="$(grep -v '^#' "$here/versions.env" | grep -v '^$'; go env GOVERSION)"
if [[ -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$want_stamp" ]]; then
  missing=0
  for b in "${binaries[@]}"; do [[ -x "$bin/$b" ]] || missing=1; done
  if [[ $missing == 0 ]]; then
    echo "kube build: warm, $bin is up to date"
    exit 0
  fi
fi

command -v go >/dev/null || { echo "kube build: go is not on PATH" >&2; exit 1; }
mkdir -p "$bin" "$src"
# One build per cache directory at a time: a second kube:up waits for the first one's build (bounded) instead of
# racing it in the same module directories.
exec 9>"$out/.build.lock"
flock -w 3600 9 || { echo "kube build: another build of $out held the lock for an hour" >&2; exit 1; }
rm -f "$stamp"

# Static binaries, no VCS stamping (the module cache has none), paths trimmed, symbols stripped.
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

log() { echo "kube build: $(date -u +%H:%M:%S) $*"; }

# new_module DIR MODULE: an empty module directory to `go get` tools into.
new_module() {
  rm -rf "$1" && mkdir -p "$1"
  (cd "$1" && go mod init "$2" >/dev/null 2>&1)
}

# module_commit MODULE@VERSION: the git commit the proxy recorded for a release (empty when it recorded none).
module_commit() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)",\{0,1\}$/\1/p'
}

build_etcd() {
  local dir="$src/etcd" commit
  log "etcd $ETCD_VERSION"
  commit="$(module_commit "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
  # The proxy records no commit for etcd's nested-module tags; then etcd keeps its own "Not provided" text.
  local ldflags="-s -w"
  [[ -z "$commit" ]] || ldflags+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=${commit:0:9}"
  new_module "$dir" raftstore.local/kube/etcd
  (cd "$dir" &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
    go build -trimpath -o "$bin/etcd" -ldflags="$ldflags" go.etcd.io/etcd/server/v3)
}

build_kubernetes() {
  local dir="$src/kubernetes" gomod commit minor
  log "kubernetes $K8S_VERSION"
  rm -rf "$dir" && mkdir -p "$dir"
  gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  commit="$(module_commit "k8s.io/kubernetes@$K8S_VERSION")"
  [[ -f "$gomod" ]] || { echo "kube build: no go.mod for k8s.io/kubernetes@$K8S_VERSION" >&2; return 1; }
  # kubectl version must be truthful: refuse to build a server that cannot name its commit.
  [[ -n "$commit" ]] || { echo "kube build: the proxy recorded no git commit for k8s.io/kubernetes@$K8S_VERSION" >&2; return 1; }
  (cd "$repo" && node_modules/.bin/tsx "$here/gen-gomod.ts" "$gomod" "$K8S_VERSION" raftstore.local/kube/kubernetes) >"$dir/go.mod"
  minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  # What `kubectl version` and /version report; the same variables exist in component-base and client-go.
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
  done
  (cd "$dir" &&
    go get "k8s.io/kubernetes@$K8S_VERSION" &&
    go build -trimpath -o "$bin/" -ldflags="$ldflags" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler)
}

build_coredns() {
  local dir="$src/coredns" ldflags="-s -w" commit
  log "coredns $COREDNS_VERSION"
  commit="$(module_commit "github.com/coredns/coredns@$COREDNS_VERSION")"
  [[ -z "$commit" ]] || ldflags+=" -X github.com/coredns/coredns/coremain.GitCommit=${commit:0:7}"
  new_module "$dir" raftstore.local/kube/coredns
  (cd "$dir" &&
    go get "github.com/coredns/coredns@$COREDNS_VERSION" &&
    go build -trimpath -o "$bin/coredns" -ldflags="$ldflags" github.com/coredns/coredns)
}

build_helm() {
  local dir="$src/helm" commit
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  log "helm $HELM_VERSION"
  commit="$(module_commit "helm.sh/helm/v3@$HELM_VERSION")"
  [[ -z "$commit" ]] || ldflags+=" -X helm.sh/helm/v3/internal/version.gitCommit=$commit"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  new_module "$dir" raftstore.local/kube/helm
  (cd "$dir" &&
    go get "helm.sh/helm/v3@$HELM_VERSION" &&
    go build -trimpath -o "$bin/helm" -ldflags="$ldflags" helm.sh/helm/v3/cmd/helm)
}

build_kubeconform() {
  local dir="$src/kubeconform"
  log "kubeconform $KUBECONFORM_VERSION"
  new_module "$dir" raftstore.local/kube/kubeconform
  (cd "$dir" &&
    go get "github.com/yannh/kubeconform@$KUBECONFORM_VERSION" &&
    go build -trimpath -o "$bin/kubeconform" \
      -ldflags="-s -w -X main.version=$KUBECONFORM_VERSION" \
      github.com/yannh/kubeconform/cmd/kubeconform)
}

# step NAME VERSION: runs build_NAME unless bin/.NAME.version already records VERSION, so an interrupted build
# resumes where it stopped and a changed pin rebuilds only that tool.
step() {
  local marker="$bin/.$1.version"
  if [[ -f "$marker" && "$(cat "$marker")" == "$2" ]]; then return 0; fi
  rm -f "$marker"
  local t=$SECONDS
  "build_$1"
  echo "$2" >"$marker"
  log "$1 built in $((SECONDS - t)) s"
}

start=$SECONDS
step etcd "$ETCD_VERSION"
step kubernetes "$K8S_VERSION"
step coredns "$COREDNS_VERSION"
step helm "$HELM_VERSION"
step kubeconform "$KUBECONFORM_VERSION"

for b in "${binaries[@]}"; do
  [[ -x "$bin/$b" ]] || { echo "kube build: $bin/$b was not produced" >&2; exit 1; }
done
printf '%s\n' "$want_stamp" >"$stamp"
log "done in $((SECONDS - start)) s: $bin"
