//! Generated files (the CRD copies, deploy/ from the chart, the Argo CD snippet) are current, and
//! `deploy/` builds with kustomize.

use std::process::Command;

use serde_json::Value;

use crate::control_plane::k8s_tool;
use crate::{find, kinds, name, read, repo, run, yaml};

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
        .env("HELM", k8s_tool("helm")));
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
    let cm: Value = yaml::parse(
        &read("deploy/argocd/argocd-cm.yaml"),
        "deploy/argocd/argocd-cm.yaml",
    );
    let embedded = cm["data"]["resource.customizations.health.clientvpn.io_ClientVpnEndpoint"]
        .as_str()
        .expect("the health key");
    assert_eq!(
        embedded,
        read("deploy/argocd/clientvpn.io/ClientVpnEndpoint/health.lua")
    );
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
