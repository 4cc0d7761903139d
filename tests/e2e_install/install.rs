//! The Helm-installed operator under its ServiceAccount: namespaced RBAC as the API server
//! enforces it, a reconcile of the full example, Argo CD health, deletion, graceful stop.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{Env, cluster, example, wait_until};
use crate::operator::Operator;
use crate::release::Release;
use crate::{applied, argocd_health, can_i, condition_true, endpoint_id, kubectl, live};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_installed_operator_reconciles_under_its_service_account_with_namespaced_rbac() {
    let env = Env::start_without_operator("install").await;
    let c = cluster();
    let watched = env.namespace.clone();
    let (release, notes) = Release::install(
        c,
        "cvpn",
        &format!("{watched}-system"),
        &[
            "--set",
            &format!("watchNamespaces={{{watched}}}"),
            "--set",
            "aws.region=us-east-1",
            "--set",
            "clusterName=e2e-install",
            "--set",
            "reconcile.pollInterval=500ms",
            "--set",
            "reconcile.retryBase=500ms",
            "--set",
            "reconcile.resyncInterval=30s",
            "--set",
            "logLevel=info\\,clientvpn_operator=debug",
        ],
    );
    for expected in [
        &format!(
            "kubectl -n {} get pods -l app.kubernetes.io/instance=cvpn",
            release.namespace
        ),
        &format!("namespaces {watched}"),
        "create-pod-identity-association",
        "deploy/iam-policy.json",
    ] {
        assert!(
            notes.contains(expected),
            "NOTES lack {expected:?}:\n{notes}"
        );
    }

    // RBAC as the API server enforces it for the chart's ServiceAccount. Subresources are asked
    // for with --subresource: `kind/finalizers` would name an object called "finalizers".
    let sa = release.service_account_kubeconfig(c);
    let lease = format!("leases/{}", release.lease_name());
    let rel = release.namespace.as_str();
    let allowed: &[&[&str]] = &[
        &["watch", "clientvpnendpoints.clientvpn.io", "-n", &watched],
        &[
            "patch",
            "clientvpnendpoints.clientvpn.io",
            "--subresource",
            "status",
            "-n",
            &watched,
        ],
        &[
            "update",
            "clientvpnendpoints.clientvpn.io",
            "--subresource",
            "finalizers",
            "-n",
            &watched,
        ],
        &["create", "events.events.k8s.io", "-n", &watched],
        &["create", "configmaps", "-n", &watched],
        &["get", "secrets", "-n", &watched],
        &["watch", "secrets", "-n", &watched],
        &["patch", "secrets", "-n", &watched],
        // The revocation record is replaced with optimistic concurrency.
        &["update", "secrets", "-n", &watched],
        &["watch", "clientvpnusers.clientvpn.io", "-n", &watched],
        &[
            "patch",
            "clientvpnusers.clientvpn.io",
            "--subresource",
            "status",
            "-n",
            &watched,
        ],
        &[
            "update",
            "clientvpnusers.clientvpn.io",
            "--subresource",
            "finalizers",
            "-n",
            &watched,
        ],
        &["patch", &lease, "-n", rel],
        &["create", "leases.coordination.k8s.io", "-n", rel],
    ];
    for args in allowed {
        assert!(can_i(c, &sa, args), "the ServiceAccount may not {args:?}");
    }
    let denied: [&[&str]; 9] = [
        &["list", "clientvpnendpoints.clientvpn.io", "-n", "default"],
        &[
            "list",
            "clientvpnendpoints.clientvpn.io",
            "--all-namespaces",
        ],
        &["get", "secrets", "-n", "default"],
        &["delete", "secrets", "-n", &watched],
        &["delete", "clientvpnusers.clientvpn.io", "-n", &watched],
        &["create", "pods", "-n", &watched],
        &["delete", "clientvpnendpoints.clientvpn.io", "-n", &watched],
        &["patch", "leases/some-other-lease", "-n", rel],
        &["create", "configmaps", "-n", rel],
    ];
    for args in denied {
        assert!(!can_i(c, &sa, args), "the ServiceAccount may {args:?}");
    }

    let emulator: SocketAddr = c.emulator.addr().parse().expect("emulator address");
    let mut operator = Operator::start(c, &release, "cvpn-0", &sa, emulator);
    operator.ready().await;
    assert_eq!(
        operator.get(operator.health, "/healthz").map(|a| a.0),
        Some(200)
    );
    wait_until("the operator holds the Lease", || {
        release.lease_holder(c).as_deref() == Some("cvpn-0")
    })
    .await;
    assert_eq!(operator.metric("clientvpn_operator_leader"), 1.0);

    // The full example: subnet, rule, route, exported ConfigMap, tags.
    applied(&env, &example("full.yaml"));
    let name = "office-vpn-full";
    let mut obj = Value::Null;
    wait_until("the full example becomes Ready", || {
        obj = live(&env, name);
        condition_true(&obj, "Ready")
    })
    .await;
    assert_eq!(
        obj["status"]["observedGeneration"],
        obj["metadata"]["generation"]
    );
    let id = endpoint_id(&obj).expect("endpoint ID");
    let aws = env.aws_endpoints_of(obj["metadata"]["uid"].as_str().expect("uid"));
    assert_eq!(aws.len(), 1);
    assert_eq!(aws[0]["tags"]["clientvpn.io/cluster"], "e2e-install");
    wait_until("the client configuration ConfigMap is written", || {
        env.kubectl_raw(&["get", "configmap", "office-vpn-client"], None)
            .status
            .success()
    })
    .await;
    let events = env.events(name);
    assert!(events.contains("Normal"), "events:\n{events}");

    // Argo CD's view of the live object.
    let health = argocd_health::health(&argocd_health::script(), &obj).expect("lua");
    assert_eq!(health.0, "Healthy", "{health:?}");

    assert_eq!(
        operator.metric(&format!(
            "clientvpn_operator_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        1.0
    );

    // Deletion through the finalizer, under the same RBAC.
    env.kubectl(&["delete", "clientvpnendpoint", name, "--wait=false"]);
    let mut deleting = Value::Null;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            deleting = live(&env, name);
            if deleting["metadata"]["deletionTimestamp"].is_string() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    if deleting["metadata"]["deletionTimestamp"].is_string() {
        let health = argocd_health::health(&argocd_health::script(), &deleting).expect("lua");
        assert_eq!(health.0, "Progressing", "deleting: {health:?}");
    }
    env.wait_gone(name).await;
    assert!(
        env.aws_endpoints()
            .iter()
            .filter(|e| e["clientVpnEndpointId"] == id.as_str())
            .all(|e| e["status"] == "deleted"),
        "the AWS endpoint is deleted"
    );

    let log = operator.log();
    assert!(
        !log.to_lowercase().contains("forbidden"),
        "the chart's RBAC refused something:\n{log}"
    );
    assert!(
        log.lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "logFormat json (the chart's default) gives one JSON object per line:\n{log}"
    );

    // Graceful stop releases the Lease.
    operator.signal("-TERM");
    let status = operator.exited(Duration::from_secs(20)).await;
    assert!(
        status.success(),
        "SIGTERM exit: {status}\n{}",
        operator.log()
    );
    assert_ne!(release.lease_holder(c).as_deref(), Some("cvpn-0"));

    release.uninstall(c);
    assert!(
        !kubectl(
            c,
            &c.cp.kubeconfig,
            &[
                "get",
                "rolebinding",
                "cvpn-clientvpn-operator",
                "-n",
                &watched
            ]
        )
        .status
        .success(),
        "helm uninstall removes the RBAC"
    );
}
