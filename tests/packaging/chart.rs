//! The Helm chart: lint, what it renders by default and per value, and its values schema.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::json;

use crate::control_plane::k8s_tool;
use crate::{
    chart, container, deployment, env_of, find, kinds, rendered, rules, run, run_help, template,
};

#[test]
fn helm_lint_is_clean_for_the_defaults_and_the_main_variants() {
    let variants: [&[&str]; 4] = [
        &[],
        &[
            "--set",
            "watchNamespaces={team-a,team-b}",
            "--set",
            "replicaCount=2",
        ],
        &[
            "--set",
            "serviceMonitor.enabled=true",
            "--set",
            "podDisruptionBudget.enabled=true",
            "--set",
            "leaderElection.enabled=false",
        ],
        &[
            "--set",
            "serviceAccount.create=false",
            "--set",
            "serviceAccount.name=existing",
            "--set",
            "rbac.create=false",
        ],
    ];
    for args in variants {
        let out = run(Command::new(k8s_tool("helm"))
            .args(["lint", "--strict"])
            .arg(chart())
            .args(args));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("0 chart(s) failed"),
            "helm lint {args:?}:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains("[WARNING]") && !text.contains("[ERROR]"),
            "{text}"
        );
    }
}

#[test]
fn default_render_is_cluster_wide_with_leader_election_and_a_metrics_service() {
    let objects = rendered(&[]);
    let expected: BTreeSet<String> = [
        "ServiceAccount/cvpn-clientvpn-operator",
        "ClusterRole/cvpn-clientvpn-operator",
        "ClusterRoleBinding/cvpn-clientvpn-operator",
        "Role/cvpn-clientvpn-operator-leader-election",
        "RoleBinding/cvpn-clientvpn-operator-leader-election",
        "ClusterRole/cvpn-clientvpn-operator-view",
        "ClusterRole/cvpn-clientvpn-operator-edit",
        "Service/cvpn-clientvpn-operator-metrics",
        "Deployment/cvpn-clientvpn-operator",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(kinds(&objects), expected);
    for object in &objects {
        let labels = &object["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/name"], "clientvpn-operator");
        assert_eq!(labels["app.kubernetes.io/instance"], "cvpn");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "Helm");
    }
}

#[test]
fn the_pod_meets_the_restricted_pod_security_standard_with_probes_and_resources() {
    let objects = rendered(&[]);
    let pod = &deployment(&objects)["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(pod["securityContext"]["runAsGroup"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["serviceAccountName"], "cvpn-clientvpn-operator");
    assert!(pod.get("hostNetwork").is_none() && pod.get("volumes").is_none());

    let c = container(&objects);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        c["securityContext"]["capabilities"],
        json!({"drop": ["ALL"]})
    );
    assert_eq!(c["args"], json!(["run"]));
    assert_eq!(
        c["image"], "ghcr.io/clientvpn-operator/clientvpn-operator:0.1.0",
        "default image: repository + appVersion"
    );
    for key in ["cpu", "memory"] {
        assert!(
            c["resources"]["requests"][key].is_string(),
            "requests.{key}"
        );
    }
    assert!(c["resources"]["limits"]["memory"].is_string());

    let ports: BTreeMap<&str, i64> = c["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name"),
                p["containerPort"].as_i64().expect("port"),
            )
        })
        .collect();
    assert_eq!(ports, BTreeMap::from([("metrics", 8080), ("health", 8081)]));
    assert_eq!(
        c["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "health"})
    );
    assert_eq!(
        c["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "health"})
    );

    let env = env_of(&objects);
    assert_eq!(env["CLIENTVPN_METRICS_ADDR"], "0.0.0.0:8080");
    assert_eq!(env["CLIENTVPN_HEALTH_ADDR"], "0.0.0.0:8081");
    assert_eq!(env["CLIENTVPN_LEADER_ELECTION"], "true");
    assert_eq!(env["CLIENTVPN_LEASE_NAME"], "cvpn-clientvpn-operator");
    assert_eq!(
        env["POD_NAME"],
        json!({"fieldRef": {"fieldPath": "metadata.name"}})
    );
    assert_eq!(
        env["POD_NAMESPACE"],
        json!({"fieldRef": {"fieldPath": "metadata.namespace"}})
    );
    assert!(!env.contains_key("CLIENTVPN_WATCH_NAMESPACE"));
    assert!(
        !env.contains_key("CLIENTVPN_REGION"),
        "empty region: the AWS chain decides"
    );
}

#[test]
fn every_environment_variable_the_chart_sets_is_one_the_binary_reads() {
    let help = run_help();
    let objects = rendered(&[
        "--set",
        "aws.region=eu-west-1",
        "--set",
        "watchNamespaces={a,b}",
    ]);
    for name in env_of(&objects).keys() {
        assert!(
            name == "RUST_LOG" || help.contains(&format!("[env: {name}=")),
            "the chart sets {name}, which `clientvpn-operator run` does not read:\n{help}"
        );
    }
}

#[test]
fn values_become_environment_variables() {
    let objects = rendered(&[
        "--set",
        "aws.region=eu-west-1",
        "--set",
        "clusterName=prod-eu",
        "--set",
        "watchNamespaces={team-a,team-b}",
        "--set",
        "reconcile.resyncInterval=10m",
        "--set",
        "reconcile.pollInterval=5s",
        "--set",
        "reconcile.stalledRetryInterval=1h",
        "--set",
        "reconcile.retryBase=1s",
        "--set",
        "reconcile.concurrency=8",
        "--set",
        "reconcile.childrenResyncInterval=0s",
        "--set",
        "users.concurrency=16",
        "--set",
        "users.connectionsInterval=2m",
        "--set",
        "users.supersededRevocationDelay=24h",
        "--set",
        "users.revocationBatchWindow=2s",
        "--set",
        "users.crlValidity=720h",
        "--set",
        "aws.concurrency=4",
        "--set",
        "aws.rateLimit=20",
        "--set",
        "aws.burst=40",
        "--set",
        "aws.mutatingRateLimit=2",
        "--set",
        "aws.mutatingBurst=30",
        "--set",
        "logFormat=text",
        "--set",
        "logLevel=debug",
        "--set",
        "leaderElection.leaseName=my-lease",
        "--set",
        "leaderElection.leaseDuration=30s",
        "--set",
        "extraEnv[0].name=AWS_ENDPOINT_URL_EC2",
        "--set",
        "extraEnv[0].value=http://emulator:4566",
    ]);
    let env = env_of(&objects);
    let rows = [
        ("CLIENTVPN_REGION", "eu-west-1"),
        ("CLIENTVPN_CLUSTER_NAME", "prod-eu"),
        ("CLIENTVPN_WATCH_NAMESPACE", "team-a,team-b"),
        ("CLIENTVPN_RESYNC_INTERVAL", "10m"),
        ("CLIENTVPN_POLL_INTERVAL", "5s"),
        ("CLIENTVPN_STALLED_RETRY_INTERVAL", "1h"),
        ("CLIENTVPN_RETRY_BASE", "1s"),
        ("CLIENTVPN_CONCURRENCY", "8"),
        ("CLIENTVPN_CHILDREN_RESYNC_INTERVAL", "0s"),
        ("CLIENTVPN_USER_CONCURRENCY", "16"),
        ("CLIENTVPN_CONNECTIONS_INTERVAL", "2m"),
        ("CLIENTVPN_SUPERSEDED_REVOCATION_DELAY", "24h"),
        ("CLIENTVPN_REVOCATION_BATCH_WINDOW", "2s"),
        ("CLIENTVPN_CRL_VALIDITY", "720h"),
        ("CLIENTVPN_AWS_CONCURRENCY", "4"),
        ("CLIENTVPN_AWS_RATE_LIMIT", "20"),
        ("CLIENTVPN_AWS_BURST", "40"),
        ("CLIENTVPN_AWS_MUTATING_RATE_LIMIT", "2"),
        ("CLIENTVPN_AWS_MUTATING_BURST", "30"),
        ("CLIENTVPN_LOG_FORMAT", "text"),
        ("RUST_LOG", "debug"),
        ("CLIENTVPN_LEASE_NAME", "my-lease"),
        ("CLIENTVPN_LEASE_DURATION", "30s"),
        ("AWS_ENDPOINT_URL_EC2", "http://emulator:4566"),
    ];
    for (name, value) in rows {
        assert_eq!(env.get(name), Some(&json!(value)), "{name}");
    }
    let lease_role = find(&objects, "Role", "cvpn-clientvpn-operator-leader-election");
    assert!(rules(lease_role).contains("coordination.k8s.io leases [my-lease] get,patch,update"));
}

#[test]
fn optional_objects_appear_only_when_enabled() {
    let defaults = kinds(&rendered(&[]));
    assert!(!defaults.iter().any(|k| k.starts_with("ServiceMonitor/")));
    assert!(
        !defaults
            .iter()
            .any(|k| k.starts_with("PodDisruptionBudget/"))
    );

    let objects = rendered(&[
        "--set",
        "serviceMonitor.enabled=true",
        "--set",
        "serviceMonitor.additionalLabels.release=prometheus",
        "--set",
        "podDisruptionBudget.enabled=true",
        "--set",
        "replicaCount=2",
    ]);
    let monitor = find(&objects, "ServiceMonitor", "cvpn-clientvpn-operator");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"],
        json!({"app.kubernetes.io/name": "clientvpn-operator", "app.kubernetes.io/instance": "cvpn"})
    );
    let service = find(&objects, "Service", "cvpn-clientvpn-operator-metrics");
    assert_eq!(service["spec"]["ports"][0]["name"], "metrics");
    assert_eq!(
        service["spec"]["selector"],
        monitor["spec"]["selector"]["matchLabels"]
    );
    let pdb = find(&objects, "PodDisruptionBudget", "cvpn-clientvpn-operator");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert_eq!(deployment(&objects)["spec"]["replicas"], 2);

    let no_election = rendered(&["--set", "leaderElection.enabled=false"]);
    assert!(
        !kinds(&no_election)
            .iter()
            .any(|k| k.contains("leader-election"))
    );
    assert_eq!(env_of(&no_election)["CLIENTVPN_LEADER_ELECTION"], "false");
}

#[test]
fn the_values_schema_refuses_typos_and_bad_values() {
    let rows: [(&[&str], &str); 8] = [
        (
            &["--set", "replicas=2"],
            "additional properties 'replicas' not allowed",
        ),
        (&["--set", "logFormat=xml"], "logFormat"),
        (
            &["--set", "reconcile.resyncInterval=5 minutes"],
            "resyncInterval",
        ),
        (&["--set", "reconcile.concurency=8"], "concurency"),
        (&["--set", "watchNamespaces={Team_A}"], "watchNamespaces"),
        (&["--set", "image.pullPolicy=Sometimes"], "pullPolicy"),
        (&["--set", "users.crlValidity=180 days"], "crlValidity"),
        (&["--set", "users.concurrency=0"], "concurrency"),
    ];
    for (args, mentions) in rows {
        let err = template(args).expect_err(&format!("{args:?} must be refused"));
        assert!(err.contains(mentions), "{args:?}: {err}");
    }
}
