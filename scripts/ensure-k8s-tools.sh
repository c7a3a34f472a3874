#!/usr/bin/env bash
# Builds the Kubernetes tools the deploy tests use, from Go modules only, when they are missing or
# out of date; a fast no-op (no `go` call) when everything is built. Into
#   ${LWM2M_K8S_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/lwm2m-bridge/k8s-tools}/
#     bin/helm            `go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION` (kept in helm/<version>/)
#     bin/kube-apiserver  k8s.io/kubernetes/cmd/kube-apiserver, built from test/infra/k8s/go.mod
#     bin/etcd            go.etcd.io/etcd/server/v3 (etcd's main package), from test/infra/k8s/etcd/go.mod
#     crds/*.yaml         the Prometheus Operator CRDs (monitoring.coreos.com/v1: ServiceMonitor,
#                         PodMonitor, PrometheusRule, ...), GENERATED with controller-gen
#                         (sigs.k8s.io/controller-tools) from the Go API types module
#                         github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring,
#                         both pinned by test/infra/k8s/crds/go.mod; nothing is committed
# A stamp file next to each result holds the sha256 of the go.mod/go.sum (and flags) it was built
# from; a missing result or a changed stamp rebuilds it. The Go module and build caches
# (~/go/pkg/mod, ~/.cache/go-build) make rebuilds fast; the first build takes about 10 minutes.
# Build logs: <tools dir>/logs/. Exits non-zero, naming what is missing, when a build fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HELM_VERSION=v3.21.4
K8S_MODULE=test/infra/k8s
ETCD_MODULE=test/infra/k8s/etcd
CRDS_MODULE=test/infra/k8s/crds
MONITORING_API=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1
CONTROLLER_GEN_ARGS=(crd:crdVersions=v1,maxDescLen=0 "paths=$MONITORING_API")
TOOLS_DIR=${LWM2M_K8S_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lwm2m-bridge/k8s-tools}
BIN=$TOOLS_DIR/bin
LOGS=$TOOLS_DIR/logs

log() { echo "ensure-k8s-tools: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# sha256 of the given files plus any extra words, as one hex string.
fingerprint() {
  local extra=$1
  shift
  { cat "$@"; echo "$extra"; } | sha256sum | cut -d' ' -f1
}

is_fresh() { # <result path> <stamp file> <fingerprint>
  [ -e "$1" ] && [ -f "$2" ] && [ "$(cat "$2")" = "$3" ]
}

# Runs a build step with its output in a log file; on failure shows the log's tail and dies.
run_logged() { # <what> <log name> <command...>
  local what=$1 logfile=$LOGS/$2.log start=$SECONDS
  shift 2
  mkdir -p "$LOGS"
  log "building $what (log: $logfile)..."
  if ! "$@" >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    die "building $what failed (log above and in $logfile); missing: $what"
  fi
  log "built $what in $((SECONDS - start)) s"
}

require_go() {
  command -v go >/dev/null 2>&1 || die "missing the Go toolchain (go on PATH; Go 1.26+), needed to build helm, kube-apiserver and etcd into $BIN"
}

ensure_helm() {
  local dir=$TOOLS_DIR/helm/$HELM_VERSION
  if [ -x "$dir/helm" ] && [ "$(readlink "$BIN/helm" 2>/dev/null)" = "$dir/helm" ]; then
    log "helm $HELM_VERSION is up to date"
    return 0
  fi
  if [ ! -x "$dir/helm" ]; then
    require_go
    mkdir -p "$dir"
    run_logged "helm $HELM_VERSION" helm env GOBIN="$dir" go install -buildvcs=false "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    [ -x "$dir/helm" ] || die "go install finished but $dir/helm is missing"
  fi
  ln -sfn "$dir/helm" "$BIN/helm"
}

# The Kubernetes version k8s.io/kubernetes is pinned at in test/infra/k8s/go.mod, e.g. v1.35.4.
kubernetes_version() {
  local version
  version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 } $1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2 }' "$K8S_MODULE/go.mod" | head -n 1)
  [ -n "$version" ] || die "$K8S_MODULE/go.mod does not require k8s.io/kubernetes"
  echo "$version"
}

ensure_kube_apiserver() {
  local version stamp=$BIN/.kube-apiserver.sha256 want
  version=$(kubernetes_version)
  want=$(fingerprint "$version" "$K8S_MODULE/go.mod" "$K8S_MODULE/go.sum")
  if is_fresh "$BIN/kube-apiserver" "$stamp" "$want"; then
    log "kube-apiserver $version is up to date"
    return 0
  fi
  require_go
  local major minor ldflags="" pkg
  IFS=. read -r major minor _ <<<"${version#v}"
  # What `kube-apiserver --version` and GET /version report (as Kubernetes' own build sets them).
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  rm -f "$stamp"
  log "kube-apiserver takes about 10 minutes to build the first time (then the Go build cache helps)"
  run_logged "kube-apiserver $version" kube-apiserver \
    bash -c 'cd "$1" && go build -buildvcs=false -ldflags "$2" -o "$3" k8s.io/kubernetes/cmd/kube-apiserver' \
    _ "$K8S_MODULE" "$ldflags" "$BIN/kube-apiserver.tmp"
  mv -f "$BIN/kube-apiserver.tmp" "$BIN/kube-apiserver"
  echo "$want" >"$stamp"
}

ensure_etcd() {
  local stamp=$BIN/.etcd.sha256 want
  want=$(fingerprint etcd "$ETCD_MODULE/go.mod" "$ETCD_MODULE/go.sum")
  if is_fresh "$BIN/etcd" "$stamp" "$want"; then
    log "etcd is up to date"
    return 0
  fi
  require_go
  rm -f "$stamp"
  run_logged etcd etcd \
    bash -c 'cd "$1" && go build -buildvcs=false -o "$2" go.etcd.io/etcd/server/v3' _ "$ETCD_MODULE" "$BIN/etcd.tmp"
  mv -f "$BIN/etcd.tmp" "$BIN/etcd"
  echo "$want" >"$stamp"
}

ensure_monitoring_crds() {
  local dir=$TOOLS_DIR/crds stamp=$TOOLS_DIR/crds.sha256 want
  want=$(fingerprint "${CONTROLLER_GEN_ARGS[*]}" "$CRDS_MODULE/go.mod" "$CRDS_MODULE/go.sum")
  if is_fresh "$dir" "$stamp" "$want" && [ -n "$(find "$dir" -name '*.yaml' -print -quit)" ]; then
    log "Prometheus Operator CRDs are up to date ($dir)"
    return 0
  fi
  require_go
  rm -f "$stamp"
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$dir.tmp"
  run_logged controller-gen controller-gen \
    bash -c 'cd "$1" && go build -buildvcs=false -o "$2" sigs.k8s.io/controller-tools/cmd/controller-gen' \
    _ "$CRDS_MODULE" "$TOOLS_DIR/controller-gen"
  run_logged "the Prometheus Operator CRDs" crds \
    bash -c 'cd "$1" && "$2" "${@:4}" "output:crd:dir=$3"' _ "$CRDS_MODULE" "$TOOLS_DIR/controller-gen" "$dir.tmp" "${CONTROLLER_GEN_ARGS[@]}"
  [ -n "$(find "$dir.tmp" -name '*servicemonitors.yaml' -print -quit)" ] ||
    die "controller-gen wrote no ServiceMonitor CRD into $dir.tmp; missing: the Prometheus Operator CRDs"
  mv "$dir.tmp" "$dir"
  echo "$want" >"$stamp"
}

mkdir -p "$BIN"
# One build at a time per tools directory (several test runs may start together).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS_DIR/.lock"
  flock 9
fi
ensure_helm
ensure_kube_apiserver
ensure_etcd
ensure_monitoring_crds
for tool in helm kube-apiserver etcd; do
  [ -x "$BIN/$tool" ] || die "missing $BIN/$tool after the build"
done
