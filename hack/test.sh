#!/usr/bin/env bash
# Every test layer: unit, adapter <-> emulator, end-to-end on a real kube-apiserver, and the
# emulator checked by boto3. Builds what it needs (control plane binaries, Rust, a virtualenv).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clientvpn-operator/target}"

echo "==> control plane binaries and helm (hack/build-k8s.sh)"
# helm is needed by tests/packaging/ and tests/e2e_install (the chart); the last stdout line
# is the bin dir, which those tests read from CLIENTVPN_K8S_BIN_DIR.
CLIENTVPN_K8S_BIN_DIR="$(CLIENTVPN_BUILD_HELM=1 hack/build-k8s.sh | tail -n 1)"
export CLIENTVPN_K8S_BIN_DIR

echo "==> cert-manager controller and CRDs (hack/build-cert-manager.sh)"
# tests/cert_manager runs the real controller; the last stdout line is the bin dir.
CLIENTVPN_CERT_MANAGER_BIN="$(hack/build-cert-manager.sh | tail -n 1)/cert-manager-controller"
export CLIENTVPN_CERT_MANAGER_BIN

echo "==> cargo build"
cargo build --workspace --bins
export CLIENTVPN_EMULATOR_BIN="$CARGO_TARGET_DIR/debug/clientvpn-emulator"

echo "==> cargo test (unit, adapter <-> emulator, end to end)"
cargo test --workspace

echo "==> boto3 against the emulator"
emulator/tests/python/run.sh
