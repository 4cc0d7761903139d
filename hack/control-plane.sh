#!/usr/bin/env bash
# Runs a real Kubernetes control plane (etcd + kube-apiserver, and
# kube-controller-manager for namespace deletion / garbage collection) as local
# background processes, everything on 127.0.0.1, state in DIR.
#
# Usage:
#   hack/control-plane.sh start DIR [--owner-pid PID]
#       builds the binaries if needed (hack/build-k8s.sh), starts the processes on
#       free loopback ports, waits for /readyz, writes DIR/kubeconfig.
#       --owner-pid PID: also stop this control plane when process PID exits
#       (for test harnesses that may die without cleaning up).
#       Starting an already running DIR is a no-op.
#   hack/control-plane.sh stop DIR      stop the processes (safe to call twice)
#   hack/control-plane.sh env DIR       print `export KUBECONFIG=...` and PATH lines
#   hack/control-plane.sh status DIR    exit 0 if running and ready
#
# Files in DIR: kubeconfig, env (KEY=VALUE lines), certs/, etcd-data/, logs/*.log,
# *.pid, tokens.csv (admin-token,admin,1,"system:masters"), sa.key.
#
# Environment:
#   CLIENTVPN_CP_TIMEOUT=120   seconds to wait for readiness
#   CLIENTVPN_CP_KCM=0         do not start kube-controller-manager
#   CLIENTVPN_KCM_CONTROLLERS  default: namespace,garbagecollector,clusterrole-aggregation
#   CLIENTVPN_CACHE            see hack/build-k8s.sh
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HACK_DIR/control-plane.sh"
ADMIN_TOKEN="admin-token"
TIMEOUT="${CLIENTVPN_CP_TIMEOUT:-120}"
KCM_CONTROLLERS="${CLIENTVPN_KCM_CONTROLLERS:-namespace,garbagecollector,clusterrole-aggregation}"

log() { printf 'control-plane: %s\n' "$*" >&2; }
die() { printf 'control-plane: error: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# ---- ports -------------------------------------------------------------------

# Local ports in use (any TCP state), from /proc (no ss/netstat/python needed).
used_ports() {
  local h
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk '$2 ~ /:[0-9A-Fa-f]+$/ { n = split($2, a, ":"); print a[n] }' |
    while read -r h; do echo $((16#$h)); done
}

# Picks N distinct free ports below the kernel's ephemeral range (so that
# outgoing connections can't be holding them) and prints them.
free_ports() {
  local n="$1" lo=10000 hi used picked="" p count=0 tries=0
  hi="$(awk '{print $1 - 1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32767)"
  [ "$hi" -gt $((lo + 1000)) ] || { lo=40000; hi=60000; }
  used=" $(used_ports | tr '\n' ' ') "
  while [ "$count" -lt "$n" ]; do
    tries=$((tries + 1)); [ "$tries" -lt 1000 ] || die "could not find $n free ports"
    p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo) ))
    case "$used $picked " in *" $p "*) continue ;; esac
    picked="$picked $p"; count=$((count + 1))
  done
  echo $picked
}

port_listening() {
  local hex
  hex="$(printf ':%04X' "$1")"
  awk -v h="$hex" '$4 == "0A" && substr($2, length($2) - 4) == h { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# ---- processes ---------------------------------------------------------------

# pid_alive NAME: the pid in DIR/NAME.pid is alive and still runs our binary.
pid_alive() {
  local f="$DIR/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f" 2>/dev/null)"; [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: the command line must mention DIR.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR" || return 1
}

# spawn NAME CMD...: starts CMD detached (own session, no stdin, output to
# DIR/logs/NAME.log, the previous one kept as NAME.log.prev) and records its
# pid in DIR/NAME.pid.
spawn() {
  local name="$1"; shift
  rm -f "$DIR/$name.pid"
  if [ -f "$DIR/logs/$name.log" ]; then mv -f "$DIR/logs/$name.log" "$DIR/logs/$name.log.prev"; fi
  setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' _ "$DIR/$name.pid" "$@" \
    </dev/null >"$DIR/logs/$name.log" 2>&1 &
  local i
  for i in $(seq 50); do [ -s "$DIR/$name.pid" ] && return 0; sleep 0.02; done
  die "could not start $name"
}

# stop_procs NAME...: SIGTERM all of them at once (shutdown takes 1-3 s each),
# wait up to 10 s, then SIGKILL what is left. Safe when nothing runs.
stop_procs() {
  local name pid pids="" i
  for name in "$@"; do
    [ -f "$DIR/$name.pid" ] || continue
    pid="$(cat "$DIR/$name.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ "$pid" != "$$" ] && pid_alive "$name"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids="$pids $pid"
    fi
  done
  for i in $(seq 100); do
    local left=""
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
    pids="$left"
    [ -n "$pids" ] || break
    sleep 0.1
  done
  for pid in $pids; do
    log "pid $pid did not exit 10 s after SIGTERM, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  done
  for name in "$@"; do rm -f "$DIR/$name.pid"; done
}

# exited NAME: the process is gone, asked twice half a second apart (while execve
# replaces the spawning shell its cmdline is briefly empty, which reads as gone).
exited() {
  pid_alive "$1" && return 1
  sleep 0.5
  ! pid_alive "$1"
}

tail_logs() {
  local f
  for f in "$@"; do
    [ -f "$DIR/logs/$f.log" ] || continue
    printf '\n----- last 40 lines of %s -----\n' "$DIR/logs/$f.log" >&2
    tail -n 40 "$DIR/logs/$f.log" >&2
  done
}

# ---- commands ----------------------------------------------------------------

write_kubeconfig() {
  local port="$1" ca
  ca="$(base64 -w0 < "$DIR/certs/apiserver.crt")"
  umask 077
  cat > "$DIR/kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $ca
users:
- name: admin
  user:
    token: $ADMIN_TOKEN
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
EOF
  mv -f "$DIR/kubeconfig.tmp" "$DIR/kubeconfig"
}

ready() {
  [ -f "$DIR/kubeconfig" ] &&
    [ "$("$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" --request-timeout=5s get --raw=/readyz 2>/dev/null)" = ok ]
}

# start_attempt: one try with fresh ports. Returns 0 when ready, 2 when a port
# was taken (caller retries), dies otherwise.
start_attempt() {
  local etcd_port peer_port api_port
  read -r etcd_port peer_port api_port <<<"$(free_ports 3)"
  [ -n "$api_port" ] || die "could not pick free ports"
  local deadline=$((SECONDS + TIMEOUT))

  spawn etcd "$BIN/etcd" --name=cp --data-dir="$DIR/etcd-data" \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-cluster="cp=http://127.0.0.1:$peer_port" --initial-cluster-state=new \
    --listen-metrics-urls= --unsafe-no-fsync --log-level=warn
  until port_listening "$etcd_port"; do
    if exited etcd; then
      if grep -q 'address already in use' "$DIR/logs/etcd.log"; then return 2; fi
      tail_logs etcd; die "etcd exited during startup"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { tail_logs etcd; stop_all; die "etcd not listening after ${TIMEOUT}s"; }
    sleep 0.1
  done

  # The API server self-signs DIR/certs/apiserver.crt (SANs include 127.0.0.1).
  spawn kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --cert-dir="$DIR/certs" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --service-account-issuer="https://127.0.0.1:$api_port" \
    --service-account-key-file="$DIR/sa.key" --service-account-signing-key-file="$DIR/sa.key" \
    --authorization-mode=RBAC --token-auth-file="$DIR/tokens.csv" \
    --disable-admission-plugins=ServiceAccount --allow-privileged=true \
    --endpoint-reconciler-type=none --profiling=false
  until ready; do
    if exited kube-apiserver; then
      if grep -q 'address already in use' "$DIR/logs/kube-apiserver.log"; then stop_procs etcd; return 2; fi
      tail_logs etcd kube-apiserver; stop_all; die "kube-apiserver exited during startup (logs above)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail_logs etcd kube-apiserver; stop_all
      die "kube-apiserver not ready after ${TIMEOUT}s (CLIENTVPN_CP_TIMEOUT; logs above)"
    fi
    if [ ! -f "$DIR/kubeconfig" ] && [ -s "$DIR/certs/apiserver.crt" ]; then write_kubeconfig "$api_port"; fi
    sleep 0.25
  done
  API_PORT="$api_port"; ETCD_PORT="$etcd_port"
}

cmd_start() {
  local owner_pid=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --owner-pid) owner_pid="${2:?--owner-pid needs a pid}"; shift 2 ;;
      *) die "unknown argument to start: $1" ;;
    esac
  done
  local t0=$SECONDS
  BIN="$("$HACK_DIR/build-k8s.sh" | tail -n 1)"
  [ -x "$BIN/kube-apiserver" ] || die "build-k8s.sh did not produce binaries in '$BIN'"

  mkdir -p "$DIR/logs" "$DIR/certs" "$DIR/etcd-data"
  chmod 700 "$DIR/etcd-data"
  if pid_alive kube-apiserver && ready; then
    log "already running in $DIR"
    return 0
  fi
  stop_all  # leftovers of a half-started or crashed run

  command -v openssl >/dev/null || die "openssl is needed to create the service-account key"
  [ -s "$DIR/sa.key" ] || openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
  printf '%s,admin,1,"system:masters"\n' "$ADMIN_TOKEN" > "$DIR/tokens.csv"
  chmod 600 "$DIR/sa.key" "$DIR/tokens.csv"
  rm -f "$DIR/kubeconfig" "$DIR/env"

  local attempt rc
  for attempt in 1 2 3 4 5; do
    rc=0; start_attempt || rc=$?
    [ "$rc" = 2 ] || break
    log "a port was taken, retrying with other ports"
  done
  [ "$rc" = 0 ] || die "could not start after $attempt attempts (ports kept clashing)"

  if [ "${CLIENTVPN_CP_KCM:-1}" != 0 ] && [ -x "$BIN/kube-controller-manager" ]; then
    # --secure-port=0: no serving port needed for namespace deletion / GC.
    spawn kube-controller-manager "$BIN/kube-controller-manager" \
      --kubeconfig="$DIR/kubeconfig" --controllers="$KCM_CONTROLLERS" \
      --leader-elect=false --secure-port=0 --use-service-account-credentials=false
  fi

  if [ -n "$owner_pid" ]; then
    spawn watch bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" stop "$3"' \
      _ "$owner_pid" "$SELF" "$DIR"
  fi

  cat > "$DIR/env" <<EOF
KUBECONFIG=$DIR/kubeconfig
CLIENTVPN_K8S_BIN_DIR=$BIN
CLIENTVPN_APISERVER_URL=https://127.0.0.1:$API_PORT
CLIENTVPN_ETCD_URL=http://127.0.0.1:$ETCD_PORT
CLIENTVPN_ADMIN_TOKEN=$ADMIN_TOKEN
EOF
  log "ready in $((SECONDS - t0))s: https://127.0.0.1:$API_PORT (KUBECONFIG=$DIR/kubeconfig)"
}

stop_all() {
  # The watcher too, unless it is the one calling us (then its pid is $$).
  stop_procs kube-controller-manager kube-apiserver etcd watch
}

cmd_stop() {
  stop_all
  rm -f "$DIR/env"
  log "stopped $DIR"
}

cmd_env() {
  local bin
  if [ -f "$DIR/env" ]; then
    bin="$(sed -n 's/^CLIENTVPN_K8S_BIN_DIR=//p' "$DIR/env")"
  else
    bin="$("$HACK_DIR/build-k8s.sh" --print-bin-dir)"
  fi
  printf 'export KUBECONFIG=%q\n' "$DIR/kubeconfig"
  printf 'export PATH=%q:"$PATH"\n' "$bin"
}

cmd_status() {
  BIN="$("$HACK_DIR/build-k8s.sh" --print-bin-dir)"
  local n
  for n in etcd kube-apiserver kube-controller-manager watch; do
    [ -f "$DIR/$n.pid" ] || continue
    if pid_alive "$n"; then log "$n running (pid $(cat "$DIR/$n.pid"))"; else log "$n NOT running"; fi
  done
  if pid_alive kube-apiserver && ready; then log "ready"; return 0; fi
  log "not ready"; return 1
}

main() {
  [ $# -ge 2 ] || usage
  local cmd="$1"
  DIR="$2"; shift 2
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
