#!/usr/bin/env bash
# One-command demo: a local control plane, the emulator, the operator, and examples/managed.yaml
# (an endpoint whose CA and server certificate the operator makes and imports into the emulator's
# ACM; like AWS, the emulator accepts only certificate ARNs imported into its ACM).
#
# Usage:
#   hack/demo.sh start [DIR]   build what is missing, start everything, apply the example, show
#                              status and certificates
#   hack/demo.sh stop [DIR]    stop the operator, the emulator and the control plane
# DIR defaults to .work/demo in the checkout. Logs: DIR/logs/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CMD="${1:-start}"
DIR="${2:-$REPO/.work/demo}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clientvpn-operator/target}"

say() { printf '\n==> %s\n' "$*"; }

stop_pid() {
  local f="$DIR/$1.pid"
  if [ -f "$f" ]; then
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  fi
}

stop() {
  stop_pid operator
  stop_pid emulator
  "$REPO/hack/control-plane.sh" stop "$DIR" || true
  echo "demo stopped (state kept in $DIR; remove it to start from scratch)"
}

start() {
  mkdir -p "$DIR/logs"
  say "Building kube-apiserver, etcd and kubectl from Go modules (cached; the first build takes 15-25 min)"
  BIN="$("$REPO/hack/build-k8s.sh" | tail -n 1)"
  say "Building the operator and the emulator"
  (cd "$REPO" && cargo build --quiet --bins)
  say "Starting the control plane in $DIR"
  "$REPO/hack/control-plane.sh" start "$DIR"
  export KUBECONFIG="$DIR/kubeconfig"
  local kubectl="$BIN/kubectl"

  stop_pid emulator
  # No --permissive-certificates: endpoints accept only certificates imported into its ACM.
  say "Starting clientvpn-emulator (the AWS EC2 Client VPN and ACM APIs, offline)"
  "$CARGO_TARGET_DIR/debug/clientvpn-emulator" --listen 127.0.0.1:0 \
    > "$DIR/emulator.addr" 2> "$DIR/logs/emulator.log" &
  echo $! > "$DIR/emulator.pid"
  for _ in $(seq 50); do [ -s "$DIR/emulator.addr" ] && break; sleep 0.1; done
  local addr
  addr="$(head -n 1 "$DIR/emulator.addr")"
  [ -n "$addr" ] || { echo "the emulator did not start; see $DIR/logs/emulator.log" >&2; exit 1; }
  echo "emulator at http://$addr"

  say "Installing the CRD"
  "$kubectl" apply --server-side -f "$REPO/crds/"
  "$kubectl" wait --for=condition=Established crd/clientvpnendpoints.clientvpn.io --timeout=60s

  stop_pid operator
  say "Starting clientvpn-operator (logs: $DIR/logs/operator.log)"
  AWS_ENDPOINT_URL_EC2="http://$addr" AWS_ENDPOINT_URL_ACM="http://$addr" AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=AKIDDEMO AWS_SECRET_ACCESS_KEY=demo-secret AWS_EC2_METADATA_DISABLED=true \
    "$CARGO_TARGET_DIR/debug/clientvpn-operator" run --cluster-name demo --poll-interval 2s \
    2> "$DIR/logs/operator.log" &
  echo $! > "$DIR/operator.pid"

  say "kubectl apply -f examples/managed.yaml"
  "$kubectl" apply -f "$REPO/examples/managed.yaml"
  # CA and server certificate, ACM import, endpoint, subnet association, rule: seconds here.
  "$kubectl" wait cvpn/office-vpn --for=condition=Ready --timeout=120s || {
    "$kubectl" describe cvpn office-vpn
    echo "not Ready after 120 s; see $DIR/logs/operator.log" >&2
    exit 1
  }

  say "kubectl get clientvpnendpoint -o wide"
  "$kubectl" get clientvpnendpoint -o wide
  say "kubectl get cvpn office-vpn -o jsonpath='{.status.certificates}'"
  "$kubectl" get cvpn office-vpn -o jsonpath='{.status.certificates}' | python3 -m json.tool
  say "kubectl get secrets office-vpn-ca office-vpn-server   (the managed CA, owned by the object)"
  "$kubectl" get secrets office-vpn-ca office-vpn-server
  say "kubectl get cvpn office-vpn -o jsonpath='{.status}'"
  "$kubectl" get cvpn office-vpn -o jsonpath='{.status}' | python3 -m json.tool

  cat <<MSG

The endpoint is available in the emulator, its subnet associated and its rule active. Its server
certificate was issued by the operator's CA (Secret office-vpn-ca) and imported into the
emulator's ACM; clients with certificates from the same CA are accepted.
Continue with:
  export KUBECONFIG=$DIR/kubeconfig PATH=$BIN:\$PATH
  kubectl describe cvpn office-vpn          # conditions and events
  kubectl delete cvpn office-vpn            # the finalizer deletes the AWS endpoint, then the imports
  curl -s http://$addr/_emulator/state      # what "AWS" holds
  curl -s http://$addr/_emulator/calls      # EC2 and ACM calls so far
Stop everything with: make demo-stop
MSG
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
