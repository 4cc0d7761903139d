# Shared by hack/build-k8s.sh and hack/build-cert-manager.sh (sourced, not run): logging, the Go
# environment both build with (one GOMODCACHE and GOCACHE under $CACHE/go), and the build lock.
#
# The sourcing script sets, before sourcing: SCRIPT (its name, for messages) and CACHE (the
# cache root).

log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

# go_env NEED MOD_FLAG: a local Go toolchain (NEED says which, in the error when there is none),
# static builds for this machine, the shared module and build caches. MOD_FLAG is -mod=readonly
# for a committed go.sum, -mod=mod for a generated one; -modcacherw lets `rm -rf $CACHE` work.
go_env() {
  local need="$1" mod_flag="$2"
  if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
  command -v go >/dev/null || die "go is not installed (need $need)"
  export GOTOOLCHAIN=local CGO_ENABLED=0
  export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
  export GOFLAGS="$mod_flag -modcacherw -buildvcs=false"
  unset GOOS GOARCH GOARM GOAMD64 2>/dev/null || true
  mkdir -p "$GOMODCACHE" "$GOCACHE"
}

# build_lock FILE: several test binaries / scripts may call the script at once, so builds are
# serialised on FILE (held on fd 9 until the script exits).
build_lock() {
  local lock="$1"
  exec 9>"$lock"
  if ! flock -n 9; then
    log "waiting for another $SCRIPT.sh to finish (lock $lock) ..."
    flock 9
  fi
}

# usage: the header comment of the sourcing script, up to `set -euo pipefail`.
usage() {
  sed -n '2,/^set -euo/p' "$1" | sed '$d; s/^# \{0,1\}//'
}
