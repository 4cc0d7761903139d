//! A Helm release of `charts/clientvpn-operator` in its own namespace: what it installed, the
//! environment its pods would get, its ServiceAccount's credentials and its Lease.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::Cluster;
use crate::{admin, helm, kubectl, repo, yaml};

/// A chart release in its own namespace.
pub struct Release {
    name: String,
    pub namespace: String,
    /// The manifest Helm applied.
    objects: Vec<Value>,
}

impl Release {
    pub fn install(c: &Cluster, name: &str, namespace: &str, values: &[&str]) -> (Self, String) {
        admin(c, &["create", "namespace", namespace]);
        let chart = repo().join("charts/clientvpn-operator");
        let mut args = vec![
            "install",
            name,
            chart.to_str().expect("utf-8 path"),
            "-n",
            namespace,
        ];
        args.extend(values);
        let notes = helm(c, &args);
        let objects = yaml::documents(&helm(c, &["get", "manifest", name, "-n", namespace]));
        (
            Self {
                name: name.into(),
                namespace: namespace.into(),
                objects,
            },
            notes,
        )
    }

    fn deployment(&self) -> &Value {
        self.objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .expect("the release has a Deployment")
    }

    fn service_account(&self) -> String {
        self.deployment()["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .expect("serviceAccountName")
            .to_string()
    }

    /// The container environment of the Deployment, with the downward-API fields a kubelet would
    /// fill in for a pod called `pod`.
    pub fn pod_env(&self, pod: &str) -> BTreeMap<String, String> {
        let container = &self.deployment()["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["args"], json!(["run"]));
        container["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|e| {
                let name = e["name"].as_str().expect("name").to_string();
                let value = match e["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                    Some("metadata.name") => pod.to_string(),
                    Some("metadata.namespace") => self.namespace.clone(),
                    Some(other) => panic!("unexpected fieldRef {other}"),
                    None => e["value"].as_str().expect("a plain value").to_string(),
                };
                (name, value)
            })
            .collect()
    }

    pub fn lease_name(&self) -> String {
        self.pod_env("x")["CLIENTVPN_LEASE_NAME"].clone()
    }

    /// A kubeconfig that authenticates as the release's ServiceAccount (a bound token from the
    /// TokenRequest API), with the admin kubeconfig's server and CA.
    pub fn service_account_kubeconfig(&self, c: &Cluster) -> PathBuf {
        let sa = self.service_account();
        let token = admin(
            c,
            &[
                "create",
                "token",
                &sa,
                "-n",
                &self.namespace,
                "--duration=2h",
            ],
        );
        let admin_config: Value = yaml::parse(
            &std::fs::read_to_string(&c.cp.kubeconfig).expect("kubeconfig"),
            "kubeconfig",
        );
        let cluster_entry = admin_config["clusters"][0]["cluster"].clone();
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "e2e", "cluster": cluster_entry}],
            "users": [{"name": sa, "user": {"token": token.trim()}}],
            "contexts": [{"name": "sa", "context": {"cluster": "e2e", "user": sa}}],
            "current-context": "sa",
        });
        let path =
            c.cp.dir
                .join(format!("kubeconfig-{}-{}", self.namespace, sa));
        std::fs::write(&path, yaml::to_string(&config)).expect("write");
        path
    }

    pub fn lease_holder(&self, c: &Cluster) -> Option<String> {
        let out = kubectl(
            c,
            &c.cp.kubeconfig,
            &[
                "get",
                "lease",
                &self.lease_name(),
                "-n",
                &self.namespace,
                "-o",
                "jsonpath={.spec.holderIdentity}",
            ],
        );
        let holder = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !holder.is_empty()).then_some(holder)
    }

    pub fn uninstall(&self, c: &Cluster) {
        helm(
            c,
            &["uninstall", &self.name, "-n", &self.namespace, "--wait"],
        );
    }
}
