#!/usr/bin/env bash
# Benchmark (not a test): requests/s of DescribeClientVpnEndpoints against a release build of
# clientvpn-emulator on loopback, with ENDPOINTS endpoints in the region.
#
#   emulator/bench/describe.sh
#
# Environment: ENDPOINTS (1000), DURATION (10s), CONNECTIONS (32), THREADS (1),
#   CLIENTVPN_EMULATOR_BIN (default: cargo build --release), CARGO_TARGET_DIR
#   (default: $HOME/.cache/clientvpn-operator/target).
# Needs wrk (Debian/Ubuntu: apt-get install -y wrk) and curl.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
endpoints="${ENDPOINTS:-1000}"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-32}"
threads="${THREADS:-1}"

command -v wrk >/dev/null || { echo "wrk is required (apt-get install -y wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }

bin="${CLIENTVPN_EMULATOR_BIN:-}"
if [ -z "$bin" ]; then
    target="${CARGO_TARGET_DIR:-$HOME/.cache/clientvpn-operator/target}"
    (cd "$repo" && CARGO_TARGET_DIR="$target" cargo build --quiet --release -p clientvpn-emulator --bin clientvpn-emulator)
    bin="$target/release/clientvpn-emulator"
fi

work="$(mktemp -d)"
"$bin" --listen 127.0.0.1:0 --log warn --max-endpoints-per-region "$((endpoints + 1))" >"$work/stdout" 2>"$work/stderr" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do
    addr="$(head -n 1 "$work/stdout" 2>/dev/null || true)"
    [ -n "$addr" ] && break
    sleep 0.05
done
[ -n "${addr:-}" ] || { echo "emulator did not start" >&2; cat "$work/stderr" >&2; exit 1; }
url="http://$addr/"
auth="AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "emulator: $bin on $addr; wrk -t$threads -c$connections -d$duration"

# Seed the region (one curl process, sequential requests over one connection).
create="Action=CreateClientVpnEndpoint&Version=2016-11-15&ClientCidrBlock=172.16.0.0%2F22\
&ServerCertificateArn=arn%3Aaws%3Aacm%3Aus-east-1%3A123456789012%3Acertificate%2Fs\
&Authentication.1.Type=certificate-authentication\
&Authentication.1.MutualAuthentication.ClientRootCertificateChainArn=arn%3Aaws%3Aacm%3Aus-east-1%3A123456789012%3Acertificate%2Fc\
&ConnectionLogOptions.Enabled=false&DnsServers.1=10.0.0.2&Description=benchmark+endpoint\
&TagSpecification.1.ResourceType=client-vpn-endpoint&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=bench"
{
    for i in $(seq 1 "$endpoints"); do
        [ "$i" -gt 1 ] && echo "next"
        echo "url = \"$url\""
        echo "header = \"Authorization: $auth\""
        echo "data = \"$create\""
        echo "silent"
        echo "output = \"$work/create-$i.xml\""
    done
} >"$work/seed.curl"
started=$(date +%s.%N)
curl --fail -K "$work/seed.curl"
seeded=$(date +%s.%N)
id="$(sed -n 's:.*<clientVpnEndpointId>\(cvpn-endpoint-[0-9a-f]*\)</clientVpnEndpointId>.*:\1:p' "$work/create-1.xml")"
echo "seeded $endpoints endpoints in $(awk "BEGIN { printf \"%.1f\", $seeded - $started }") s (sequential CreateClientVpnEndpoint)"

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "$auth"
LUA

run() {
    local name="$1" body="$2"
    local bytes
    bytes=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: $auth" --data "$body" "$url")
    echo
    echo "== $name (response $bytes bytes)"
    BODY="$body" wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/post.lua" "$url" \
        | grep -E 'Requests/sec|Latency  |50%|99%|Non-2xx|Socket errors|requests in'
}

run "DescribeClientVpnEndpoints, one endpoint by id" \
    "Action=DescribeClientVpnEndpoints&Version=2016-11-15&ClientVpnEndpointId.1=$id"
run "DescribeClientVpnEndpoints, first page of 100 (MaxResults=100)" \
    "Action=DescribeClientVpnEndpoints&Version=2016-11-15&MaxResults=100"
run "DescribeClientVpnEndpoints, all $endpoints endpoints in one response" \
    "Action=DescribeClientVpnEndpoints&Version=2016-11-15"
