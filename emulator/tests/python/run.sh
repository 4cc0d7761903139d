#!/usr/bin/env bash
# Runs the boto3/pytest suite against a freshly started clientvpn-emulator.
#
#   emulator/tests/python/run.sh [pytest args...]
#
# Environment:
#   CLIENTVPN_EMULATOR_BIN  emulator binary to use (default: cargo build -p clientvpn-emulator)
#   CARGO_TARGET_DIR        where cargo builds (default: $HOME/.cache/clientvpn-operator/target)
#   CLIENTVPN_CACHE         cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/clientvpn-operator);
#                           the virtualenv lives in $CLIENTVPN_CACHE/venv and is reused
#   PYTHON                  interpreter used to create the virtualenv (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
cache="${CLIENTVPN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clientvpn-operator}"
venv="$cache/venv"

# 1. Virtualenv with the pinned requirements (reinstalled only when requirements.txt changes).
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$cache"
    "${PYTHON:-python3}" -m venv "$venv"
fi
stamp="$venv/.clientvpn-emulator-requirements.txt"
if ! cmp -s "$here/requirements.txt" "$stamp"; then
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

# 2. The emulator binary.
bin="${CLIENTVPN_EMULATOR_BIN:-}"
if [ -z "$bin" ]; then
    target="${CARGO_TARGET_DIR:-$HOME/.cache/clientvpn-operator/target}"
    (cd "$repo" && CARGO_TARGET_DIR="$target" cargo build --quiet -p clientvpn-emulator --bin clientvpn-emulator)
    bin="$target/debug/clientvpn-emulator"
fi

# 3. Start it on a free port with short lifecycle delays; the first stdout line is the address.
work="$(mktemp -d)"
"$bin" --listen 127.0.0.1:0 \
    --association-delay-ms 60 --rule-delay-ms 30 --route-delay-ms 30 \
    --delete-delay-ms 60 --deleted-visible-ms 300 \
    --crl-delay-ms 30 --terminate-delay-ms 30 \
    >"$work/stdout" 2>"$work/stderr" &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

addr=""
for _ in $(seq 1 200); do
    addr="$(head -n 1 "$work/stdout" 2>/dev/null || true)"
    [ -n "$addr" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "clientvpn-emulator exited before printing its address:" >&2
        cat "$work/stderr" >&2
        exit 1
    fi
    sleep 0.05
done
if [ -z "$addr" ]; then
    echo "clientvpn-emulator did not print its address within 10s" >&2
    exit 1
fi
echo "clientvpn-emulator ($bin) listening on $addr" >&2

# 4. The suite.
export CLIENTVPN_EMULATOR_URL="http://$addr"
export AWS_EC2_METADATA_DISABLED=true
cd "$here"
status=0
"$venv/bin/python" -m pytest -p no:cacheprovider "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- emulator stderr ---" >&2
    tail -n 50 "$work/stderr" >&2
fi
exit "$status"
