//! End-to-end installation on a real kube-apiserver (from `hack/`) with the emulator:
//!
//! * `helm install` of `charts/clientvpn-operator`; the operator binary runs as a local process
//!   authenticated with a token of the chart's ServiceAccount, so the API server enforces the
//!   chart's RBAC, and configured with the environment the chart's Deployment gives it. (There is
//!   no kubelet: the Deployment never starts pods, so we start the binary ourselves.)
//! * two replicas with leader election: only the leader calls AWS (each replica reaches the
//!   emulator through its own counting proxy); a standby takes over when the leader is killed
//!   and when it stops gracefully; a leader whose Lease is taken exits.
//! * `/healthz`, `/readyz` and `/metrics` of the running processes.
//! * `kubectl apply -k deploy/`, and the Deployment's pod admitted under the restricted Pod
//!   Security Standard.
//!
//! One file per subject: `install` (Helm install, RBAC, reconcile, deletion), `leader` (leader
//! election and fail-over), `deploy` (plain manifests, Pod Security), `metrics`; `release` and
//! `operator` hold the chart release and the operator process.

#[path = "../support/argocd_health.rs"]
mod argocd_health;
// This binary uses only part of the shared harness.
#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;
#[path = "../support/yaml.rs"]
mod yaml;

mod deploy;
mod install;
mod leader;
mod metrics;
mod operator;
mod release;

use std::path::Path;
use std::process::Output;

use harness::control_plane::{checked, run};
use harness::{Cluster, Env, wait_until};
use serde_json::Value;

/// Lease duration for the fail-over tests (short, to keep them quick).
pub const LEASE_SECONDS: u64 = 6;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// kubectl with a kubeconfig (admin unless told otherwise).
pub fn kubectl(c: &Cluster, kubeconfig: &Path, args: &[&str]) -> Output {
    run(c.cp.kubectl_as(kubeconfig).args(args), None)
}

pub fn admin(c: &Cluster, args: &[&str]) -> String {
    checked(
        kubectl(c, &c.cp.kubeconfig, args),
        &format!("kubectl {args:?}"),
    )
}

pub fn helm(c: &Cluster, args: &[&str]) -> String {
    checked(run(c.cp.helm().args(args), None), &format!("helm {args:?}"))
}

pub fn applied(env: &Env, manifest: &str) {
    let out = env.apply(manifest);
    assert!(
        out.status.success(),
        "apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The live object as Argo CD sees it (`kubectl get -o json`).
pub fn live(env: &Env, name: &str) -> Value {
    serde_json::from_str(&env.kubectl(&["get", "clientvpnendpoint", name, "-o", "json"]))
        .expect("JSON")
}

pub fn endpoint_id(obj: &Value) -> Option<String> {
    obj["status"]["clientVpnEndpointId"]
        .as_str()
        .map(str::to_string)
}

pub fn condition_true(obj: &Value, type_: &str) -> bool {
    obj["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == type_ && c["status"] == "True")
    })
}

/// A certificate-authenticated endpoint named `name` (no subnets: stays pending-associate).
pub fn small_manifest(name: &str) -> String {
    harness::manifest(name, |_| {})
}

pub async fn wait_for_endpoint_id(env: &Env, name: &str) -> String {
    let mut id = None;
    wait_until(&format!("{name} gets an endpoint ID"), || {
        id = endpoint_id(&live(env, name));
        id.is_some()
    })
    .await;
    id.expect("id")
}

pub fn can_i(c: &Cluster, kubeconfig: &Path, args: &[&str]) -> bool {
    let mut all = vec!["auth", "can-i"];
    all.extend(args);
    let out = kubectl(c, kubeconfig, &all);
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}
