//! Generated files (the CRD copies, deploy/ from the chart, the Argo CD snippet) are current, and
//! `deploy/` builds with kustomize.

use std::process::Command;

use serde_json::Value;

use crate::control_plane::k8s_tool;
use crate::{find, kinds, name, read, repo, run, yaml};

/// Every CRD of the operator (`clientvpn-operator crd`): its file name in `crds/`.
const CRD_FILES: [(&str, &str); 2] = [
    ("endpoint", "clientvpn.io_clientvpnendpoints.yaml"),
    ("user", "clientvpn.io_clientvpnusers.yaml"),
];

/// The kinds with an Argo CD health check under `deploy/argocd/clientvpn.io/`.
const HEALTH_CHECKED: [&str; 2] = ["ClientVpnEndpoint", "ClientVpnUser"];

#[test]
fn the_chart_and_deploy_crds_are_the_generated_crds() {
    let generated = clientvpn_operator::api::crds();
    assert_eq!(
        generated.iter().map(|(kind, _)| *kind).collect::<Vec<_>>(),
        CRD_FILES.iter().map(|(kind, _)| *kind).collect::<Vec<_>>(),
        "a CRD without a file here"
    );
    assert!(generated[0].1 == clientvpn_operator::api::crd_yaml());
    for ((_, yaml), (_, file)) in generated.iter().zip(CRD_FILES) {
        for dir in ["crds", "charts/clientvpn-operator/crds", "deploy/crds"] {
            let copy = format!("{dir}/{file}");
            assert!(read(&copy) == *yaml, "{copy} is stale: run `make crds`");
        }
    }
    // Nothing else in the CRD directories (a stale CRD would still be installed).
    for dir in ["crds", "charts/clientvpn-operator/crds", "deploy/crds"] {
        let mut on_disk: Vec<String> = std::fs::read_dir(repo().join(dir))
            .expect("CRD directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
            .collect();
        on_disk.sort();
        let mut expected: Vec<String> = CRD_FILES.iter().map(|(_, f)| f.to_string()).collect();
        expected.sort();
        assert_eq!(on_disk, expected, "{dir}");
    }
}

#[test]
fn deploy_is_what_deploy_generate_sh_renders_from_the_chart() {
    let out_dir = std::env::temp_dir().join(format!("clientvpn-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = run(Command::new(repo().join("deploy/generate.sh"))
        .arg(&out_dir)
        .env("HELM", k8s_tool("helm")));
    assert!(
        out.status.success(),
        "deploy/generate.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "operator.yaml",
        "crds/clientvpn.io_clientvpnendpoints.yaml",
        "crds/clientvpn.io_clientvpnusers.yaml",
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
fn the_argocd_cm_snippet_embeds_every_health_check_verbatim() {
    let cm: Value = yaml::parse(
        &read("deploy/argocd/argocd-cm.yaml"),
        "deploy/argocd/argocd-cm.yaml",
    );
    let data = cm["data"].as_object().expect("data");
    let keys: Vec<String> = HEALTH_CHECKED
        .iter()
        .map(|kind| format!("resource.customizations.health.clientvpn.io_{kind}"))
        .collect();
    assert_eq!(
        data.keys().cloned().collect::<Vec<_>>(),
        keys,
        "one health key per kind, nothing else"
    );
    for (kind, key) in HEALTH_CHECKED.iter().zip(&keys) {
        let embedded = data[key].as_str().expect("the health key");
        assert_eq!(
            embedded,
            read(&format!("deploy/argocd/clientvpn.io/{kind}/health.lua")),
            "{key}"
        );
    }
}

#[test]
fn deploy_builds_with_kustomize_into_one_namespace() {
    let out = run(Command::new(k8s_tool("kubectl"))
        .arg("kustomize")
        .arg(repo().join("deploy")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = yaml::documents(&String::from_utf8_lossy(&out.stdout));
    let names = kinds(&objects);
    for expected in [
        "Namespace/clientvpn-system",
        "CustomResourceDefinition/clientvpnendpoints.clientvpn.io",
        "CustomResourceDefinition/clientvpnusers.clientvpn.io",
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
