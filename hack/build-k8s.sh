#!/usr/bin/env bash
# Builds kube-apiserver, kubectl, kube-controller-manager, etcd and helm from Go
# modules (no Docker, no release downloads) into a per-user cache keyed by the
# Kubernetes version, and prints that bin directory as the last line of stdout.
#
# Usage:
#   hack/build-k8s.sh                  build what is missing/stale, print bin dir
#   hack/build-k8s.sh --print-bin-dir  print the bin dir only (never builds)
#   hack/build-k8s.sh --check          exit 0 if everything is built and current
#   hack/build-k8s.sh --force          rebuild everything
#   hack/build-k8s.sh --versions       print the pinned versions
#
# Versions are pinned by the wrapper modules hack/k8s, hack/etcd, hack/helm
# (go.mod + go.sum). Layout (see docs/control-plane.md):
#   $CACHE/k8s/<k8s-version>/bin/{kube-apiserver,kubectl,kube-controller-manager,etcd,helm}
#   $CACHE/go/mod    GOMODCACHE
#   $CACHE/go/build  GOCACHE
# with CACHE=${CLIENTVPN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clientvpn-operator}.
#
# Environment:
#   CLIENTVPN_CACHE            cache root (see above)
#   CLIENTVPN_BUILD_KCM=0      do not build kube-controller-manager
#   CLIENTVPN_BUILD_HELM=0     do not build helm
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${CLIENTVPN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clientvpn-operator}"
# Bump when the way binaries are built changes (ldflags, flags, ...), to force a rebuild.
RECIPE=1

SCRIPT=build-k8s
# shellcheck source=hack/lib/go-build.sh
. "$HACK_DIR/lib/go-build.sh"

# Reads the version of module $2 required by the go.mod at $1.
required_version() {
  local v
  v="$(awk -v m="$2" '$1 == "require" && $2 == m { print $3; exit } $1 == m && $2 ~ /^v/ { print $2; exit }' "$1")"
  [ -n "$v" ] || die "cannot find $2 in $1"
  printf '%s\n' "$v"
}

K8S_VERSION="$(required_version "$HACK_DIR/k8s/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(required_version "$HACK_DIR/etcd/go.mod" go.etcd.io/etcd/server/v3)"
HELM_VERSION="$(required_version "$HACK_DIR/helm/go.mod" helm.sh/helm/v3)"
K8S_MAJOR="${K8S_VERSION#v}"; K8S_MAJOR="${K8S_MAJOR%%.*}"
K8S_MINOR="${K8S_VERSION#v*.}"; K8S_MINOR="${K8S_MINOR%%.*}"
BIN_DIR="$CACHE/k8s/$K8S_VERSION/bin"

BUILD_KCM="${CLIENTVPN_BUILD_KCM:-1}"
BUILD_HELM="${CLIENTVPN_BUILD_HELM:-1}"

# name -> wrapper module dir
module_of() {
  case "$1" in
    kube-apiserver|kubectl|kube-controller-manager) echo k8s ;;
    etcd) echo etcd ;;
    helm) echo helm ;;
  esac
}

# The stamp records how a binary was built; the fast path only compares stamps
# (running the binaries to ask their version takes too long for a < 1 s no-op).
stamp_of() {
  local name="$1" mod
  mod="$(module_of "$name")"
  # helm's ldflags carry the Kubernetes version, so its stamp does too.
  printf '%s recipe=%s version=%s k8s=%s modsum=%s\n' "$name" "$RECIPE" \
    "$(expected_version "$name")" "$K8S_VERSION" \
    "$(cat "$HACK_DIR/$mod/go.mod" "$HACK_DIR/$mod/go.sum" | cksum | cut -d' ' -f1)"
}

wanted_binaries() {
  echo kube-apiserver kubectl etcd
  [ "$BUILD_KCM" = 0 ] || echo kube-controller-manager
  [ "$BUILD_HELM" = 0 ] || echo helm
}

is_current() {
  local name="$1"
  [ -x "$BIN_DIR/$name" ] && [ -f "$BIN_DIR/.$name.stamp" ] &&
    [ "$(cat "$BIN_DIR/.$name.stamp")" = "$(stamp_of "$name")" ]
}

stale_binaries() {
  local n
  for n in $(wanted_binaries); do
    if [ "${FORCE:-0}" = 1 ] || ! is_current "$n"; then echo "$n"; fi
  done
}

# Prints the version the built binary at $2 reports, for binary name $1.
reported_version() {
  local name="$1" path="$2"
  case "$name" in
    kube-apiserver|kube-controller-manager) "$path" --version | awk '{print $2}' ;;
    kubectl) "$path" version --client -o json | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -n1 ;;
    etcd) "$path" --version | sed -n 's/^etcd Version: */v/p' ;;
    helm) "$path" version --template '{{.Version}}' ;;
  esac
}

expected_version() {
  case "$1" in
    kube-apiserver|kube-controller-manager|kubectl) echo "$K8S_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    helm) echo "$HELM_VERSION" ;;
  esac
}

k8s_ldflags() {
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$K8S_MAJOR -X $p.gitMinor=$K8S_MINOR"
    ld="$ld -X $p.gitTreeState=clean -X $p.gitCommit="
  done
  printf '%s\n' "$ld"
}

helm_ldflags() {
  local ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ld="$ld -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  # Helm's offline default for .Capabilities.KubeVersion (helm template / lint):
  # make it the version of the API server we run instead of v1.20.
  local p
  for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ld="$ld -X $p.k8sVersionMajor=$K8S_MAJOR -X $p.k8sVersionMinor=$K8S_MINOR"
  done
  printf '%s\n' "$ld"
}

build_one() {
  local name="$1" tmp="$2" mod pkg ld start
  mod="$(module_of "$name")"
  case "$name" in
    kube-apiserver|kubectl|kube-controller-manager) pkg="k8s.io/kubernetes/cmd/$name"; ld="$(k8s_ldflags)" ;;
    etcd) pkg="go.etcd.io/etcd/server/v3"; ld="-s -w" ;;
    helm) pkg="helm.sh/helm/v3/cmd/helm"; ld="$(helm_ldflags)" ;;
  esac
  log "building $name ($pkg, module hack/$mod) ..."
  start=$SECONDS
  (cd "$HACK_DIR/$mod" && go build -trimpath -ldflags "$ld" -o "$tmp/$name" "$pkg") ||
    die "building $name failed"
  local got want
  got="$(reported_version "$name" "$tmp/$name" 2>/dev/null || true)"
  want="$(expected_version "$name")"
  [ "$got" = "$want" ] || die "$name reports version '$got', expected '$want'"
  mv -f "$tmp/$name" "$BIN_DIR/$name"
  stamp_of "$name" > "$BIN_DIR/.$name.stamp"
  log "built $name $got in $((SECONDS - start))s"
}

main() {
  FORCE=0
  case "${1:-}" in
    --print-bin-dir) printf '%s\n' "$BIN_DIR"; return 0 ;;
    --versions)
      printf 'kubernetes %s\netcd %s\nhelm %s\n' "$K8S_VERSION" "$ETCD_VERSION" "$HELM_VERSION"
      return 0 ;;
    --check) [ -z "$(stale_binaries)" ]; return ;;
    --force) FORCE=1 ;;
    "") ;;
    -h|--help) usage "${BASH_SOURCE[0]}"; return 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac

  # Fast path: nothing to do, no lock, no go.
  if [ -z "$(stale_binaries)" ]; then printf '%s\n' "$BIN_DIR"; return 0; fi

  mkdir -p "$BIN_DIR"
  build_lock "$CACHE/k8s/.build.lock"
  local stale
  stale="$(stale_binaries)"
  if [ -n "$stale" ]; then
    # -mod=readonly: go.sum is committed.
    go_env "Go >= 1.26 to build the control-plane binaries" -mod=readonly
    log "go: $(go version); cache: $CACHE"
    local total=$SECONDS n
    BUILD_TMP="$(mktemp -d "$BIN_DIR/.tmp.XXXXXX")"
    trap 'rm -rf "$BUILD_TMP"' EXIT
    for n in $stale; do build_one "$n" "$BUILD_TMP"; done
    log "done in $((SECONDS - total))s: $BIN_DIR"
  fi
  printf '%s\n' "$BIN_DIR"
}

main "$@"
