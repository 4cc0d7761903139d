# clientvpn-operator: see README.md.
.PHONY: demo demo-stop test lint crds ci

## Start a local control plane, the emulator and the operator, and apply examples/basic.yaml.
demo:
	hack/demo.sh start

## Stop what `make demo` started.
demo-stop:
	hack/demo.sh stop

## Run every test layer (what CI runs).
test:
	hack/test.sh

## Formatting and lints.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## Regenerate the CRD YAML from the Rust types, its copy in the Helm chart, and deploy/
## (CRD copy, `helm template` output, Argo CD health check ConfigMap). Tests fail on drift.
crds:
	cargo run -q -- crd > crds/clientvpn.io_clientvpnendpoints.yaml
	cp crds/clientvpn.io_clientvpnendpoints.yaml charts/clientvpn-operator/crds/clientvpn.io_clientvpnendpoints.yaml
	deploy/generate.sh

## What CI runs.
ci:
	bash .ci/run
