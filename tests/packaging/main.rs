//! The installation artefacts, checked without a cluster: generated copies are current
//! (`deploy`), the Helm chart lints and renders what the operator needs and nothing more
//! (`chart`, `rbac`), `deploy/` builds with kustomize (`deploy`), the IAM policy grants exactly
//! the EC2 and ACM actions the code calls (`iam`), the Dockerfile and the chart agree and
//! docs/install.md documents every flag and value (`docs`).
//!
//! Needs `helm` and `kubectl` from `hack/build-k8s.sh` (`make test` builds them); their directory
//! is `CLIENTVPN_K8S_BIN_DIR` or what `hack/build-k8s.sh --print-bin-dir` prints.

// Only the tool lookup and `run` of the control plane launcher are needed here.
#[allow(dead_code)]
#[path = "../support/control_plane.rs"]
mod control_plane;
#[allow(dead_code)]
#[path = "../support/yaml.rs"]
mod yaml;

mod chart;
mod deploy;
mod docs;
mod iam;
mod rbac;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use control_plane::k8s_tool;
use serde_json::Value;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Run a command to completion, its output captured.
pub fn run(cmd: &mut Command) -> Output {
    control_plane::run(cmd, None)
}

pub fn chart() -> PathBuf {
    repo().join("charts/clientvpn-operator")
}

/// `helm template` with `--set`-style arguments; returns the objects, or helm's error.
pub fn template(args: &[&str]) -> Result<Vec<Value>, String> {
    let out = run(Command::new(k8s_tool("helm"))
        .args(["template", "cvpn"])
        .arg(chart())
        .args(["--namespace", "clientvpn-system"])
        .args(args));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(yaml::documents(&String::from_utf8_lossy(&out.stdout)))
}

pub fn rendered(args: &[&str]) -> Vec<Value> {
    template(args).unwrap_or_else(|e| panic!("helm template {args:?} failed:\n{e}"))
}

pub fn kinds(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| format!("{}/{}", o["kind"].as_str().unwrap_or("?"), name(o)))
        .collect()
}

pub fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or("?")
}

pub fn find<'a>(objects: &'a [Value], kind: &str, name_: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && name(o) == name_)
        .unwrap_or_else(|| panic!("no {kind}/{name_} in {:?}", kinds(objects)))
}

pub fn deployment(objects: &[Value]) -> &Value {
    find(objects, "Deployment", "cvpn-clientvpn-operator")
}

pub fn container(objects: &[Value]) -> &Value {
    &deployment(objects)["spec"]["template"]["spec"]["containers"][0]
}

pub fn env_of(objects: &[Value]) -> BTreeMap<String, Value> {
    container(objects)["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            let value = e
                .get("value")
                .cloned()
                .unwrap_or_else(|| e["valueFrom"].clone());
            (e["name"].as_str().expect("name").to_string(), value)
        })
        .collect()
}

/// RBAC rules as comparable rows: (apiGroups, resources, resourceNames, sorted verbs).
pub fn rules(role: &Value) -> BTreeSet<String> {
    role["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|rule| {
            let list = |key: &str| {
                let mut items: Vec<String> = rule[key]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_str().unwrap_or("?").to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                items.sort();
                items.join(",")
            };
            format!(
                "{} {} [{}] {}",
                list("apiGroups"),
                list("resources"),
                list("resourceNames"),
                list("verbs")
            )
        })
        .collect()
}

/// What the operator may do with Secrets where it watches: read the `kubernetes.io/tls` Secrets
/// a spec names and watch them (metadata only) for renewals; create and patch, by server-side
/// apply, the managed CA's `<name>-ca` and `<name>-server` Secrets and each user's `<name>-vpn`
/// Secret; create and update (replace with optimistic concurrency) an endpoint's
/// `<endpoint>-revocations` record. Never delete (owner references garbage-collect them).
pub const SECRET_RULE: &str = " secrets [] create,get,list,patch,update,watch";

/// What the operator may do where it watches: its resources (endpoints and users), their
/// status and finalizers, events, the ConfigMaps it writes and the Secrets ([`SECRET_RULE`]).
/// Nothing else.
pub fn operator_rules() -> BTreeSet<String> {
    [
        "clientvpn.io clientvpnendpoints [] get,list,patch,update,watch",
        "clientvpn.io clientvpnendpoints/status [] get,patch,update",
        "clientvpn.io clientvpnendpoints/finalizers [] update",
        // Users: watched, finalizer `clientvpn.io/revoke` by merge patch (no update), status by
        // server-side apply; finalizers/update for blockOwnerDeletion on the `<name>-vpn` Secret.
        "clientvpn.io clientvpnusers [] get,list,patch,watch",
        "clientvpn.io clientvpnusers/status [] patch",
        "clientvpn.io clientvpnusers/finalizers [] update",
        "events.k8s.io events [] create,patch",
        " configmaps [] create,get,patch",
        SECRET_RULE,
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

pub fn run_help() -> String {
    let out = run(Command::new(env!("CARGO_BIN_EXE_clientvpn-operator")).args(["run", "--help"]));
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).to_string()
}
