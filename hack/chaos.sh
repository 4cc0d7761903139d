#!/usr/bin/env bash
# The chaos suite's full profile (`make chaos`): every scenario of tests/e2e/chaos/ with the
# full sizes, on the local control plane and the emulator; writes docs/reliability.md from the
# scenarios' reports, passed or not, and exits non-zero if one failed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clientvpn-operator/target}"
CLIENTVPN_K8S_BIN_DIR="$(hack/build-k8s.sh | tail -n 1)"
export CLIENTVPN_K8S_BIN_DIR
cargo build --workspace --bins
export CLIENTVPN_EMULATOR_BIN="$CARGO_TARGET_DIR/debug/clientvpn-emulator"

REPORT="$(mktemp -d)"
trap 'rm -rf "$REPORT"' EXIT
status=0
CLIENTVPN_CHAOS=full CLIENTVPN_CHAOS_REPORT="$REPORT" \
  cargo test --test e2e chaos_ -- --nocapture || status=$?

# Whether the tree differs from HEAD, told before this script rewrites its own report.
dirty="$(git diff --quiet -- . ':!docs/reliability.md' || echo ' (with uncommitted changes)')"
{
  echo "# Reliability: the chaos suite"
  echo
  echo "Written by \`make chaos\` (hack/chaos.sh: the full profile of \`tests/e2e/chaos/\`) on"
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$dirty;"
  echo "machine: nproc $(nproc), $(uname -sr). The short profile of the same scenarios runs in"
  echo "\`make test\`. Each scenario: what was done, the invariant, the figures, pass or fail."
  echo "Operator flags as in the e2e harness: \`--resync-interval 30s --poll-interval 500ms"
  echo "--retry-base 500ms\`; the emulator with AWS's default limits (10 operations in progress per"
  echo "endpoint, request-rate buckets per action) except 10,000 endpoints per region."
  echo
  for f in "$REPORT"/*.md; do
    [ -e "$f" ] || continue
    cat "$f"
    echo
  done
} > docs/reliability.md
echo "wrote docs/reliability.md"
exit "$status"
