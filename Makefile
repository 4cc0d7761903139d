# clientvpn-operator: see README.md.
.PHONY: demo demo-stop test lint crds ci chaos

## Start a local control plane, the emulator and the operator, and apply examples/managed.yaml
## (a managed CA: the operator issues the server certificate and imports it into the emulated ACM).
demo:
	hack/demo.sh start

## Stop what `make demo` started.
demo-stop:
	hack/demo.sh stop

## Run every test layer (what CI runs).
test:
	hack/test.sh

## The chaos suite's full profile (30 objects, a 60-s API server pause, a fault storm on 10, …);
## writes docs/reliability.md. Its short profile runs inside `make test`.
chaos:
	hack/chaos.sh

## Formatting and lints.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## Regenerate the CRD YAML from the Rust types, its copy in the Helm chart, and deploy/
## (CRD copy, `helm template` output, Argo CD health check ConfigMap). Tests fail on drift.
crds:
	cargo run -q -- crd endpoint > crds/clientvpn.io_clientvpnendpoints.yaml
	cargo run -q -- crd user > crds/clientvpn.io_clientvpnusers.yaml
	cp crds/clientvpn.io_clientvpnendpoints.yaml crds/clientvpn.io_clientvpnusers.yaml charts/clientvpn-operator/crds/
	deploy/generate.sh

## What CI runs.
ci:
	bash .ci/run

## Scale benchmark (not a test; ~10 min plus the release build): the operator with 1, 100, 1000
## and 5000 objects on the local control plane and the emulator; writes bench/RESULTS.md.
## Fewer sizes: make bench SIZES=1,100
.PHONY: bench
SIZES ?= 1,100,1000,5000
bench:
	CARGO_TARGET_DIR="$${CARGO_TARGET_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/clientvpn-operator/target}" \
		cargo bench --bench scale -- --sizes $(SIZES)
