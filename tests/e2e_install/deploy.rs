//! `kubectl apply -k deploy/`, and the Deployment's pod admitted under the restricted Pod
//! Security Standard.

use serde_json::{Value, json};

use crate::harness::control_plane::{checked, run};
use crate::harness::{Env, cluster};
use crate::{admin, kubectl, repo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_manifests_apply_and_the_pod_is_admitted_as_restricted() {
    let _env = Env::start_without_operator("deploy").await;
    let c = cluster();
    let out = kubectl(
        c,
        &c.cp.kubeconfig,
        &[
            "apply",
            "--server-side",
            "-k",
            repo().join("deploy").to_str().expect("path"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    checked(out, "kubectl apply -k deploy/");
    assert!(!stderr.contains("PodSecurity"), "{stderr}");

    // The Deployment's pod template as a Pod in the restricted namespace: the Pod Security
    // admission (enforce=restricted) must accept it. (No scheduler: it stays Pending.)
    let deployment: Value = serde_json::from_str(&admin(
        c,
        &[
            "get",
            "deployment",
            "clientvpn-operator",
            "-n",
            "clientvpn-system",
            "-o",
            "json",
        ],
    ))
    .expect("JSON");
    let template = &deployment["spec"]["template"];
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "restricted-check", "namespace": "clientvpn-system", "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
    });
    let out = run(
        c.cp.kubectl().args(["create", "-f", "-"]),
        Some(&pod.to_string()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    checked(out, "creating the operator pod under enforce=restricted");
    assert!(!stderr.contains("violate"), "{stderr}");

    // The same pod with a root user is refused: the admission really enforces.
    let mut root = pod.clone();
    root["metadata"]["name"] = json!("root-check");
    root["spec"]["securityContext"]["runAsNonRoot"] = json!(false);
    root["spec"]["securityContext"]["runAsUser"] = json!(0);
    let out = run(
        c.cp.kubectl().args(["create", "-f", "-"]),
        Some(&root.to_string()),
    );
    assert!(!out.status.success(), "a root pod must be refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("restricted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Clean up everything but the CRD (shared by this test binary).
    admin(
        c,
        &["delete", "namespace", "clientvpn-system", "--wait=false"],
    );
    admin(
        c,
        &[
            "delete",
            "clusterrole,clusterrolebinding",
            "-l",
            "app.kubernetes.io/instance=clientvpn-operator",
        ],
    );
}
