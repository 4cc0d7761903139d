//! The installation artefacts, checked without a cluster: generated copies are current, the Helm
//! chart lints and renders what the operator needs (and nothing more), `deploy/` builds with
//! kustomize, the IAM policy grants exactly the EC2 actions the code calls, the Dockerfile and
//! the chart agree, and docs/install.md documents every flag and value.
//!
//! Needs `helm` and `kubectl` from `hack/build-k8s.sh` (`make test` builds them); their directory
//! is `CLIENTVPN_K8S_BIN_DIR` or what `hack/build-k8s.sh --print-bin-dir` prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::{Value, json};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CLIENTVPN_K8S_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let out = Command::new(repo().join("hack/build-k8s.sh"))
        .arg("--print-bin-dir")
        .output()
        .expect("run hack/build-k8s.sh --print-bin-dir");
    let text = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(text.lines().last().expect("a bin dir").trim())
}

fn tool(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run hack/build-k8s.sh (make test does)",
        path.display()
    );
    path
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn chart() -> PathBuf {
    repo().join("charts/clientvpn-operator")
}

/// `helm template` with `--set`-style arguments; returns the objects, or helm's error.
fn template(args: &[&str]) -> Result<Vec<Value>, String> {
    let out = run(Command::new(tool("helm"))
        .args(["template", "cvpn"])
        .arg(chart())
        .args(["--namespace", "clientvpn-system"])
        .args(args));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(documents(&String::from_utf8_lossy(&out.stdout)))
}

fn rendered(args: &[&str]) -> Vec<Value> {
    template(args).unwrap_or_else(|e| panic!("helm template {args:?} failed:\n{e}"))
}

/// Every non-empty document of a multi-document YAML stream, as JSON values.
fn documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn kinds(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| format!("{}/{}", o["kind"].as_str().unwrap_or("?"), name(o)))
        .collect()
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or("?")
}

fn find<'a>(objects: &'a [Value], kind: &str, name_: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && name(o) == name_)
        .unwrap_or_else(|| panic!("no {kind}/{name_} in {:?}", kinds(objects)))
}

fn deployment(objects: &[Value]) -> &Value {
    find(objects, "Deployment", "cvpn-clientvpn-operator")
}

fn container(objects: &[Value]) -> &Value {
    &deployment(objects)["spec"]["template"]["spec"]["containers"][0]
}

fn env_of(objects: &[Value]) -> BTreeMap<String, Value> {
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
fn rules(role: &Value) -> BTreeSet<String> {
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

/// What the operator may do where it watches: its resource, status, finalizers, events, and
/// the ConfigMaps it writes. Nothing else.
fn operator_rules() -> BTreeSet<String> {
    [
        "clientvpn.io clientvpnendpoints [] get,list,patch,update,watch",
        "clientvpn.io clientvpnendpoints/status [] get,patch,update",
        "clientvpn.io clientvpnendpoints/finalizers [] update",
        "events.k8s.io events [] create,patch",
        " configmaps [] create,get,patch",
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

// ---------------------------------------------------------------------------------------------
// Generated files

#[test]
fn the_chart_and_deploy_crds_are_the_generated_crd() {
    let generated = clientvpn_operator::api::crd_yaml();
    for copy in [
        "crds/clientvpn.io_clientvpnendpoints.yaml",
        "charts/clientvpn-operator/crds/clientvpn.io_clientvpnendpoints.yaml",
        "deploy/crds/clientvpn.io_clientvpnendpoints.yaml",
    ] {
        assert!(read(copy) == generated, "{copy} is stale: run `make crds`");
    }
}

#[test]
fn deploy_is_what_deploy_generate_sh_renders_from_the_chart() {
    let out_dir = std::env::temp_dir().join(format!("clientvpn-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = run(Command::new(repo().join("deploy/generate.sh"))
        .arg(&out_dir)
        .env("HELM", tool("helm")));
    assert!(
        out.status.success(),
        "deploy/generate.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "operator.yaml",
        "crds/clientvpn.io_clientvpnendpoints.yaml",
        "argocd/argocd-cm.yaml",
    ] {
        let fresh = std::fs::read_to_string(out_dir.join(file)).expect("generated");
        assert!(
            read(&format!("deploy/{file}")) == fresh,
            "deploy/{file} is stale: run `make crds` (or deploy/generate.sh)"
        );
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn the_argocd_cm_snippet_embeds_the_health_check_verbatim() {
    let cm: Value = serde_yaml::from_str(&read("deploy/argocd/argocd-cm.yaml")).expect("YAML");
    let embedded = cm["data"]["resource.customizations.health.clientvpn.io_ClientVpnEndpoint"]
        .as_str()
        .expect("the health key");
    assert_eq!(
        embedded,
        read("deploy/argocd/clientvpn.io/ClientVpnEndpoint/health.lua")
    );
}

// ---------------------------------------------------------------------------------------------
// Chart

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
        let out = run(Command::new(tool("helm"))
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
        "aws.concurrency=4",
        "--set",
        "aws.rateLimit=20",
        "--set",
        "aws.burst=40",
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
        ("CLIENTVPN_AWS_CONCURRENCY", "4"),
        ("CLIENTVPN_AWS_RATE_LIMIT", "20"),
        ("CLIENTVPN_AWS_BURST", "40"),
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
fn cluster_wide_rbac_is_exactly_what_the_operator_needs() {
    let objects = rendered(&[]);
    let role = find(&objects, "ClusterRole", "cvpn-clientvpn-operator");
    assert_eq!(rules(role), operator_rules());
    let binding = find(&objects, "ClusterRoleBinding", "cvpn-clientvpn-operator");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "cvpn-clientvpn-operator", "namespace": "clientvpn-system"}])
    );
    let lease_role = find(&objects, "Role", "cvpn-clientvpn-operator-leader-election");
    assert_eq!(lease_role["metadata"]["namespace"], "clientvpn-system");
    let expected: BTreeSet<String> = [
        "coordination.k8s.io leases [] create",
        "coordination.k8s.io leases [cvpn-clientvpn-operator] get,patch,update",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(rules(lease_role), expected);

    // Nothing anywhere grants wildcards or Secrets.
    for object in &objects {
        if let Some(list) = object["rules"].as_array() {
            let text = serde_json::to_string(list).expect("json");
            assert!(!text.contains("\"*\""), "wildcard in {}", name(object));
            assert!(!text.contains("secrets"), "secrets in {}", name(object));
        }
    }
}

#[test]
fn namespaced_rbac_is_a_role_per_listed_namespace_and_nothing_cluster_wide() {
    let objects = rendered(&[
        "--set",
        "watchNamespaces={team-a,team-b}",
        "--set",
        "rbac.aggregateToDefaultRoles=false",
    ]);
    let cluster_scoped: Vec<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "ClusterRole" || o["kind"] == "ClusterRoleBinding")
        .map(name)
        .collect();
    assert!(cluster_scoped.is_empty(), "{cluster_scoped:?}");
    for namespace in ["team-a", "team-b"] {
        let role = objects
            .iter()
            .find(|o| o["kind"] == "Role" && o["metadata"]["namespace"] == namespace)
            .unwrap_or_else(|| panic!("no Role in {namespace}"));
        assert_eq!(rules(role), operator_rules());
        let binding = objects
            .iter()
            .find(|o| o["kind"] == "RoleBinding" && o["metadata"]["namespace"] == namespace)
            .unwrap_or_else(|| panic!("no RoleBinding in {namespace}"));
        assert_eq!(binding["roleRef"]["name"], name(role));
        assert_eq!(binding["subjects"][0]["namespace"], "clientvpn-system");
    }
    assert_eq!(
        env_of(&objects)["CLIENTVPN_WATCH_NAMESPACE"],
        "team-a,team-b"
    );
}

#[test]
fn user_roles_aggregate_into_view_edit_and_admin() {
    let objects = rendered(&[]);
    let view = find(&objects, "ClusterRole", "cvpn-clientvpn-operator-view");
    let edit = find(&objects, "ClusterRole", "cvpn-clientvpn-operator-edit");
    for (role, into) in [
        (view, &["view", "edit", "admin"][..]),
        (edit, &["edit", "admin"][..]),
    ] {
        for target in into {
            assert_eq!(
                role["metadata"]["labels"]
                    [format!("rbac.authorization.k8s.io/aggregate-to-{target}")],
                "true"
            );
        }
    }
    assert_eq!(
        rules(view),
        BTreeSet::from(["clientvpn.io clientvpnendpoints [] get,list,watch".to_string()])
    );
}

#[test]
fn service_account_annotations_carry_the_irsa_role() {
    let objects = rendered(&[
        "--set",
        "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/clientvpn",
    ]);
    let sa = find(&objects, "ServiceAccount", "cvpn-clientvpn-operator");
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/clientvpn"
    );
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
    let rows: [(&[&str], &str); 6] = [
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
    ];
    for (args, mentions) in rows {
        let err = template(args).expect_err(&format!("{args:?} must be refused"));
        assert!(err.contains(mentions), "{args:?}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// deploy/

#[test]
fn deploy_builds_with_kustomize_into_one_namespace() {
    let out = run(Command::new(tool("kubectl"))
        .arg("kustomize")
        .arg(repo().join("deploy")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = documents(&String::from_utf8_lossy(&out.stdout));
    let names = kinds(&objects);
    for expected in [
        "Namespace/clientvpn-system",
        "CustomResourceDefinition/clientvpnendpoints.clientvpn.io",
        "Deployment/clientvpn-operator",
        "ServiceAccount/clientvpn-operator",
        "ClusterRole/clientvpn-operator",
        "Role/clientvpn-operator-leader-election",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }
    for object in &objects {
        let namespace = &object["metadata"]["namespace"];
        assert!(
            namespace.is_null() || namespace == "clientvpn-system",
            "{} in {namespace}",
            name(object)
        );
        let labels = &object["metadata"]["labels"];
        assert!(labels.get("helm.sh/chart").is_none(), "{}", name(object));
    }
    let ns = find(&objects, "Namespace", "clientvpn-system");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
}

// ---------------------------------------------------------------------------------------------
// IAM

/// Non-EC2 actions the policy grants on purpose.
const EXTRA_ACTIONS: &[&str] = &[
    // The first Client VPN endpoint of an account creates the AWSServiceRoleForClientVPN
    // service-linked role, as the caller.
    "iam:CreateServiceLinkedRole",
];

/// Every aws-sdk-ec2 operation name (snake_case), from the SDK's `src/operation/` modules.
fn sdk_operations() -> BTreeSet<String> {
    let out = run(Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(repo()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let manifest = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "aws-sdk-ec2")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("aws-sdk-ec2 is a dependency");
    let dir = Path::new(manifest)
        .parent()
        .expect("crate dir")
        .join("src/operation");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let e = e.ok()?;
            e.file_type()
                .ok()?
                .is_dir()
                .then(|| e.file_name().to_string_lossy().to_string())
        })
        .collect()
}

/// `describe_client_vpn_endpoints` → `DescribeClientVpnEndpoints`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Argument-less method calls `.name()` in Rust source (comments skipped): the shape of an
/// aws-sdk-ec2 fluent operation call (`client.create_client_vpn_route()`), unlike trait methods
/// that happen to share an operation's name (`inner.create_route(region, …)`).
fn method_calls(source: &str) -> BTreeSet<String> {
    let mut calls = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let bytes = code.as_bytes();
        for (i, _) in code.match_indices('.') {
            let rest = &code[i + 1..];
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let after = rest[ident.len()..].trim_start();
            let no_arguments = after
                .strip_prefix('(')
                .is_some_and(|inside| inside.trim_start().starts_with(')'));
            if !ident.is_empty() && no_arguments && (i == 0 || bytes[i - 1] != b'.') {
                calls.insert(ident);
            }
        }
    }
    calls
}

/// The EC2 actions (`ec2:PascalCase`) the adapter calls: every aws-sdk-ec2 operation method
/// called anywhere under `src/cloud/`.
fn ec2_actions_called() -> BTreeSet<String> {
    let operations = sdk_operations();
    let mut called = BTreeSet::new();
    let mut stack = vec![repo().join("src/cloud")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/cloud") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).expect("source");
                // Only files that use the SDK can call EC2 (trait methods such as
                // `create_route` in other files share names with unrelated EC2 operations).
                if !source.contains("aws_sdk_ec2") {
                    continue;
                }
                for call in method_calls(&source) {
                    if operations.contains(&call) {
                        called.insert(format!("ec2:{}", pascal(&call)));
                    }
                }
            }
        }
    }
    called
}

fn policy() -> Value {
    serde_json::from_str(&read("deploy/iam-policy.json")).expect("deploy/iam-policy.json is JSON")
}

fn statements() -> Vec<Value> {
    policy()["Statement"].as_array().expect("Statement").clone()
}

fn list(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().expect("string").to_string())
            .collect(),
        _ => Vec::new(),
    }
}

fn policy_actions() -> BTreeSet<String> {
    statements()
        .iter()
        .flat_map(|s| list(&s["Action"]))
        .collect()
}

#[test]
fn the_iam_policy_grants_exactly_the_ec2_actions_the_code_calls() {
    let called = ec2_actions_called();
    assert!(
        called.contains("ec2:CreateClientVpnEndpoint"),
        "the source scan found no calls: {called:?}"
    );
    let granted: BTreeSet<String> = policy_actions()
        .into_iter()
        .filter(|a| !EXTRA_ACTIONS.contains(&a.as_str()))
        .collect();
    let missing: Vec<&String> = called.difference(&granted).collect();
    let unused: Vec<&String> = granted.difference(&called).collect();
    assert!(
        missing.is_empty() && unused.is_empty(),
        "deploy/iam-policy.json is out of step with src/cloud/:\n  called but not granted: {missing:?}\n  granted but never called: {unused:?}"
    );
}

#[test]
fn the_iam_policy_is_scoped_by_the_ownership_tag() {
    assert_eq!(policy()["Version"], "2012-10-17");
    let cluster_tag = clientvpn_operator::api::tags::CLUSTER;
    for statement in statements() {
        let actions = list(&statement["Action"]);
        let resources = list(&statement["Resource"]);
        let condition = statement["Condition"].to_string();
        let sid = statement["Sid"].as_str().unwrap_or("?");
        assert_eq!(statement["Effect"], "Allow", "{sid}");
        assert!(
            !actions.iter().any(|a| a.contains('*')),
            "{sid}: wildcard action"
        );
        if resources.iter().any(|r| r == "*") {
            assert!(
                actions.iter().all(|a| a.starts_with("ec2:Describe")),
                "{sid}: only Describe* may use Resource \"*\""
            );
        }
        let on_endpoints = resources
            .iter()
            .any(|r| r.contains(":client-vpn-endpoint/"));
        let mutating = actions.iter().any(|a| !a.starts_with("ec2:Describe"));
        if on_endpoints && mutating {
            assert!(
                condition.contains(&format!("aws:ResourceTag/{cluster_tag}"))
                    || condition.contains(&format!("aws:RequestTag/{cluster_tag}")),
                "{sid}: changes to endpoints must be conditioned on the {cluster_tag} tag"
            );
        }
        if actions.iter().any(|a| a == "iam:CreateServiceLinkedRole") {
            assert_eq!(
                statement["Condition"]["StringEquals"]["iam:AWSServiceName"],
                "clientvpn.amazonaws.com",
                "{sid}"
            );
        }
    }
    // Tagging at creation is allowed only as part of CreateClientVpnEndpoint.
    let at_creation = statements()
        .into_iter()
        .find(|s| s["Condition"]["StringEquals"]["ec2:CreateAction"].is_string())
        .expect("a CreateTags-at-creation statement");
    assert_eq!(
        at_creation["Condition"]["StringEquals"]["ec2:CreateAction"],
        "CreateClientVpnEndpoint"
    );
}

#[test]
fn the_source_scan_finds_sdk_calls_split_over_lines_and_ignores_comments_and_trait_methods() {
    let source = "let out = self\n    .client(region)\n    .create_client_vpn_route ( )\n    // .delete_tags()\n    .send();\nx..describe_tags();\nself.inner.create_route(region, id).await";
    let calls = method_calls(source);
    assert!(calls.contains("create_client_vpn_route") && calls.contains("send"));
    assert!(!calls.contains("delete_tags"), "{calls:?}");
    assert!(
        !calls.contains("describe_tags"),
        "ranges are not calls: {calls:?}"
    );
    assert!(
        !calls.contains("create_route") && !calls.contains("client"),
        "calls with arguments are not SDK operations: {calls:?}"
    );
    assert_eq!(
        pascal("apply_security_groups_to_client_vpn_target_network"),
        "ApplySecurityGroupsToClientVpnTargetNetwork"
    );
}

// ---------------------------------------------------------------------------------------------
// Image, docs

#[test]
fn the_dockerfile_builds_the_image_the_chart_runs_as_a_numeric_non_root_user() {
    let dockerfile = read("Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert!(stages >= 2, "multi-stage");
    let runtime = dockerfile
        .lines()
        .rfind(|l| l.starts_with("FROM "))
        .expect("FROM");
    assert!(runtime.contains("distroless"), "{runtime}");
    assert!(dockerfile.lines().any(|l| l.trim() == "USER 65532:65532"));
    assert!(dockerfile.contains(r#"ENTRYPOINT ["/usr/local/bin/clientvpn-operator"]"#));
    let values: Value =
        serde_yaml::from_str(&read("charts/clientvpn-operator/values.yaml")).expect("values");
    let repository = values["image"]["repository"].as_str().expect("repository");
    assert!(
        dockerfile.contains(repository),
        "the Dockerfile documents building {repository}"
    );
    assert_eq!(values["podSecurityContext"]["runAsUser"], 65532);
    let chart: Value =
        serde_yaml::from_str(&read("charts/clientvpn-operator/Chart.yaml")).expect("Chart.yaml");
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
}

fn run_help() -> String {
    let out = run(Command::new(env!("CARGO_BIN_EXE_clientvpn-operator")).args(["run", "--help"]));
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn install_docs_cover_every_flag_environment_variable_and_chart_value() {
    let docs = read("docs/install.md");
    let help = run_help();
    let mut missing = Vec::new();
    for line in help.lines() {
        // Option lines look like `      --region <REGION>` or `  -h, --help`.
        let Some(at) = line
            .trim_start()
            .strip_prefix('-')
            .and_then(|_| line.find("--"))
        else {
            continue;
        };
        let flag: String = line[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if flag != "help" && !docs.contains(&format!("`--{flag}`")) {
            missing.push(format!("--{flag}"));
        }
    }
    for line in help.lines() {
        if let Some(start) = line.find("[env: ") {
            let name = line[start + 6..]
                .split('=')
                .next()
                .unwrap_or_default()
                .to_string();
            if !docs.contains(&format!("`{name}`")) {
                missing.push(name);
            }
        }
    }
    // Every leaf of values.yaml, as a dotted path.
    let values: Value =
        serde_yaml::from_str(&read("charts/clientvpn-operator/values.yaml")).expect("values");
    let mut stack = vec![(String::new(), values)];
    while let Some((path, value)) = stack.pop() {
        match value {
            Value::Object(map)
                if !map.is_empty() && !path.ends_with("Context") && path != "resources" =>
            {
                for (key, child) in map {
                    let child_path = if path.is_empty() {
                        key
                    } else {
                        format!("{path}.{key}")
                    };
                    stack.push((child_path, child));
                }
            }
            _ => {
                if !docs.contains(&format!("`{path}`")) {
                    missing.push(path);
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "docs/install.md does not mention: {missing:?}"
    );
}
