#!/usr/bin/env bash
# Builds the end-to-end Kubernetes control plane from the Go module proxy into a cache outside the repository:
#   ${RAFTSTORE_KUBE_CACHE:-$HOME/.cache/raftstore-kube}/<K8S_VERSION>/bin/
#     kube-apiserver kube-controller-manager kube-scheduler etcd coredns helm kubeconform
# Idempotent: when bin/.stamp matches versions.env and every binary is there, it exits at once (warm build).
#
# Each tool is built in its own throwaway Go module because their dependency graphs pin different versions of
# k8s.io/*, grpc, otel and etcd's client; a single module would force one resolution on all of them.
set -euo pipefail
# The whole script is one `{ ...; exit; }` block: bash reads it completely before running any of it, so an edit of
# this file while a build runs (the working tree is shared) cannot change what that build does next.
{

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

want_stamp="$(grep -v '^#' "$here/versions.env" | grep -v '^$'; sed -e 's/#.*//' -e '/^$/d' "$here/coredns.plugins"; go env GOVERSION)"
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

# Static binaries, no VCS stamping (the module cache has none), paths trimmed, symbols stripped (-s -w in each
# tool's ldflags). As the linker drops DWARF anyway, the compiler does not generate it: -dwarf=false cut CoreDNS's
# compile CPU by 16% and its peak memory by 22%. Stack traces are unaffected (they come from the pc tables).
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local
go_build_flags=(-trimpath -gcflags=all=-dwarf=false)
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

# Each tool is built in two phases. fetch_NAME makes its module directory, resolves it (`go get`) and downloads
# every module its packages import (`go list -deps`): network-bound, so all fetches run at once in the background.
# compile_NAME runs `go build`: CPU-bound, so compiles run one after another (each with Go's own -p = cores), and a
# compile starts as soon as its fetch is done. Measured on 2 cores: see README.md.

# fetch_module DIR MODULE@VERSION PACKAGE...: go get MODULE@VERSION in DIR, then download what PACKAGE... import.
fetch_module() {
  local dir="$1" mv="$2"
  shift 2
  (cd "$dir" && go get "$mv" && go list -deps "$@" >/dev/null)
}

fetch_etcd() {
  new_module "$src/etcd" raftstore.local/kube/etcd
  fetch_module "$src/etcd" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" go.etcd.io/etcd/server/v3
}

compile_etcd() {
  local commit ldflags="-s -w"
  commit="$(module_commit "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
  # The proxy records no commit for etcd's nested-module tags; then etcd keeps its own "Not provided" text.
  [[ -z "$commit" ]] || ldflags+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=${commit:0:9}"
  (cd "$src/etcd" && go build "${go_build_flags[@]}" -o "$bin/etcd" -ldflags="$ldflags" go.etcd.io/etcd/server/v3)
}

kubernetes_cmds=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler)

fetch_kubernetes() {
  local dir="$src/kubernetes" gomod
  rm -rf "$dir" && mkdir -p "$dir"
  gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$gomod" ]] || { echo "kube build: no go.mod for k8s.io/kubernetes@$K8S_VERSION" >&2; return 1; }
  (cd "$repo" && node_modules/.bin/tsx "$here/gen-gomod.ts" "$gomod" "$K8S_VERSION" raftstore.local/kube/kubernetes) >"$dir/go.mod" || return 1
  fetch_module "$dir" "k8s.io/kubernetes@$K8S_VERSION" "${kubernetes_cmds[@]}"
}

compile_kubernetes() {
  local commit minor pkg ldflags="-s -w"
  local tree_state=clean
  commit="$(module_commit "k8s.io/kubernetes@$K8S_VERSION")"
  # The commit is optional metadata: many module proxies serve .info without an Origin record. kubectl version must
  # stay truthful, so then the commit is left empty and the tree state says "archive" — what Kubernetes' own
  # hack/lib/version.sh reports for a build from a source archive with no git information.
  if [[ -z "$commit" ]]; then
    tree_state=archive
    log "the module proxy recorded no git commit for k8s.io/kubernetes@$K8S_VERSION: building with gitCommit \"\"" \
      "and gitTreeState \"archive\" (kubectl version -o json shows both)"
  fi
  minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  # What `kubectl version` and /version report; the same variables exist in component-base and client-go.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=$tree_state -X $pkg.buildDate=$build_date"
  done
  # One `go build` for the three: the packages they share compile once.
  (cd "$src/kubernetes" && go build "${go_build_flags[@]}" -o "$bin/" -ldflags="$ldflags" "${kubernetes_cmds[@]}")
}

# coredns_plugins: the directive names in coredns.plugins, comments and blank lines dropped.
coredns_plugins() { sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$here/coredns.plugins"; }

# coredns_main PLUGIN_CFG: the main package of a CoreDNS with only the plugins coredns.plugins names, the way
# CoreDNS documents custom builds (import core/dnsserver + coremain and the plugins, set dnsserver.Directives).
# Directives keep plugin.cfg's order: it is the order a query passes the plugins in.
coredns_main() {
  local wanted name path imports="" directives="" found=()
  wanted=" $(coredns_plugins | tr '\n' ' ') "
  while IFS=: read -r name path; do
    [[ -z "$name" || "$name" == \#* || "$wanted" != *" $name "* ]] && continue
    [[ "$path" == */* ]] || path="github.com/coredns/coredns/plugin/$path"
    imports+=$'\t_ "'"$path"$'"\n'
    directives+=$'\t\t"'"$name"$'",\n'
    found+=("$name")
  done <"$1"
  for name in $wanted; do
    [[ " ${found[*]} " == *" $name "* ]] || { echo "kube build: CoreDNS has no plugin \"$name\" (coredns.plugins)" >&2; return 1; }
  done
  printf '%s\n' \
    '// Generated by e2e/kube/controlplane/build.sh from coredns.plugins.' 'package main' '' 'import (' \
    $'\t"github.com/coredns/coredns/core/dnsserver"' $'\t"github.com/coredns/coredns/coremain"' ''
  printf '%s' "$imports"
  printf '%s\n' ')' '' 'func init() {' $'\tdnsserver.Directives = []string{'
  printf '%s' "$directives"
  printf '%s\n' $'\t}' '}' '' 'func main() {' $'\tcoremain.Run()' '}'
}

fetch_coredns() {
  local dir="$src/coredns" moddir
  new_module "$dir" raftstore.local/kube/coredns
  moddir="$(go mod download -json "github.com/coredns/coredns@$COREDNS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -f "$moddir/plugin.cfg" ]] || { echo "kube build: no plugin.cfg in github.com/coredns/coredns@$COREDNS_VERSION" >&2; return 1; }
  coredns_main "$moddir/plugin.cfg" >"$dir/main.go" || return 1
  # Not `go get github.com/coredns/coredns@...`: that path is also the stock main package, and getting it would
  # download every plugin's dependencies. Require the module; `go list` then fetches what our main.go imports.
  (cd "$dir" && go mod edit -require="github.com/coredns/coredns@$COREDNS_VERSION" && go list -deps . >/dev/null)
}

compile_coredns() {
  local commit ldflags="-s -w"
  commit="$(module_commit "github.com/coredns/coredns@$COREDNS_VERSION")"
  # coremain.CoreVersion (what `coredns -version` prints) is a constant of the release itself.
  [[ -z "$commit" ]] || ldflags+=" -X github.com/coredns/coredns/coremain.GitCommit=${commit:0:7}"
  (cd "$src/coredns" && go build "${go_build_flags[@]}" -o "$bin/coredns" -ldflags="$ldflags" .)
}

fetch_helm() {
  new_module "$src/helm" raftstore.local/kube/helm
  fetch_module "$src/helm" "helm.sh/helm/v3@$HELM_VERSION" helm.sh/helm/v3/cmd/helm
}

compile_helm() {
  local commit ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  commit="$(module_commit "helm.sh/helm/v3@$HELM_VERSION")"
  [[ -z "$commit" ]] || ldflags+=" -X helm.sh/helm/v3/internal/version.gitCommit=$commit"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  (cd "$src/helm" && go build "${go_build_flags[@]}" -o "$bin/helm" -ldflags="$ldflags" helm.sh/helm/v3/cmd/helm)
}

fetch_kubeconform() {
  new_module "$src/kubeconform" raftstore.local/kube/kubeconform
  fetch_module "$src/kubeconform" "github.com/yannh/kubeconform@$KUBECONFORM_VERSION" \
    github.com/yannh/kubeconform/cmd/kubeconform
}

compile_kubeconform() {
  (cd "$src/kubeconform" && go build "${go_build_flags[@]}" -o "$bin/kubeconform" \
    -ldflags="-s -w -X main.version=$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform)
}

# What each tool's bin/.NAME.version marker records: a changed pin (or CoreDNS plugin list) rebuilds that tool only,
# and an interrupted build resumes with the tools it had not finished.
declare -A want=(
  [etcd]="$ETCD_VERSION"
  [kubernetes]="$K8S_VERSION"
  [coredns]="$COREDNS_VERSION $(coredns_plugins | tr '\n' ' ')"
  [helm]="$HELM_VERSION"
  [kubeconform]="$KUBECONFORM_VERSION"
)
# Compile order: etcd's download is small, so its compile starts at once while the others still download.
order=(etcd kubernetes coredns helm kubeconform)
todo=()
for t in "${order[@]}"; do
  marker="$bin/.$t.version"
  if [[ -f "$marker" && "$(cat "$marker")" == "${want[$t]}" ]]; then continue; fi
  rm -f "$marker"
  todo+=("$t")
done

start=$SECONDS
# A failed compile must not leave the other fetches running.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
declare -A fetch_pid=()
for t in "${todo[@]}"; do
  (
    t0=$SECONDS rc=0
    "fetch_$t" >"$src/$t.fetch.log" 2>&1 || rc=$?
    echo "$((SECONDS - t0))" >"$src/$t.fetch.seconds"
    exit $rc
  ) &
  fetch_pid[$t]=$!
done
log "fetching ${todo[*]:-nothing} (in parallel; logs in $src/<tool>.fetch.log)"

for t in "${todo[@]}"; do
  if ! wait "${fetch_pid[$t]}"; then
    echo "kube build: fetching $t failed:" >&2
    tail -n 30 "$src/$t.fetch.log" >&2
    exit 1
  fi
  waited=$SECONDS
  log "compiling $t (fetched in $(cat "$src/$t.fetch.seconds") s)"
  "compile_$t"
  echo "${want[$t]}" >"$bin/.$t.version"
  log "$t compiled in $((SECONDS - waited)) s"
done

for b in "${binaries[@]}"; do
  [[ -x "$bin/$b" ]] || { echo "kube build: $bin/$b was not produced" >&2; exit 1; }
done
printf '%s\n' "$want_stamp" >"$stamp"
log "done in $((SECONDS - start)) s: $bin"
exit
}
