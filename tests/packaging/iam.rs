//! The IAM policy grants exactly the EC2 and ACM actions the code calls, scoped by the
//! ownership tag.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::{read, repo, run};

/// Actions the policy grants on purpose although the code calls no SDK operation of that name.
const EXTRA_ACTIONS: &[&str] = &[
    // The first Client VPN endpoint of an account creates the AWSServiceRoleForClientVPN
    // service-linked role, as the caller.
    "iam:CreateServiceLinkedRole",
    // ImportCertificate with Tags is also authorized as acm:AddTagsToCertificate (the Service
    // Authorization Reference maps the ImportCertificate operation to both actions): the
    // operator tags every new import with its ownership tags in that call, and never calls
    // AddTagsToCertificate itself.
    "acm:AddTagsToCertificate",
];

/// ACM actions that only read metadata (never key material: no GetCertificate or
/// ExportCertificate). They may use Resource `"*"`: certificates named by ARN in a spec are not
/// the operator's, ListCertificates has no resource-level permissions, and finding a lost
/// import reads the tags of every candidate.
const ACM_READS: &[&str] = &[
    "acm:DescribeCertificate",
    "acm:ListCertificates",
    "acm:ListTagsForCertificate",
];

/// The SDK crates whose calls the policy must cover: (IAM prefix, crate, the names that mark a
/// file under `src/cloud/` as calling it). Only files that name one of the markers are scanned
/// for the crate's calls: the crate itself (`aws_sdk_ec2`), or the adapter type that holds its
/// client (`impl … for Ec2ClientVpn` in a file of its own, such as `access.rs`, calls
/// `self.client(region).import_…()` without naming the crate).
const SDKS: &[(&str, &str, &[&str])] = &[
    ("ec2", "aws-sdk-ec2", &["aws_sdk_ec2", "Ec2ClientVpn"]),
    ("acm", "aws-sdk-acm", &["aws_sdk_acm", "AcmCertificates"]),
];

/// Every operation name (snake_case) of SDK crate `krate`, from its `src/operation/` modules.
fn sdk_operations(krate: &str) -> BTreeSet<String> {
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
        .find(|p| p["name"] == krate)
        .and_then(|p| p["manifest_path"].as_str())
        .unwrap_or_else(|| panic!("{krate} is a dependency"));
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
/// SDK fluent operation call (`client.create_client_vpn_route()`), unlike trait methods that
/// happen to share an operation's name (`inner.create_route(region, …)`).
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

/// The actions (`ec2:PascalCase`, `acm:PascalCase`) the adapters call: every operation method
/// of an SDK in [`SDKS`] called in a file under `src/cloud/` that names one of its markers.
fn actions_called() -> BTreeSet<String> {
    let sdks: Vec<(&str, &[&str], BTreeSet<String>)> = SDKS
        .iter()
        .map(|(prefix, krate, markers)| (*prefix, *markers, sdk_operations(krate)))
        .collect();
    let mut called = BTreeSet::new();
    let mut stack = vec![repo().join("src/cloud")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/cloud") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).expect("source");
                let calls = method_calls(&source);
                for (prefix, markers, operations) in &sdks {
                    // Only files that use the SDK can call it (trait methods such as
                    // `create_route` in other files share names with unrelated operations).
                    if !markers.iter().any(|marker| source.contains(marker)) {
                        continue;
                    }
                    for call in calls.iter().filter(|c| operations.contains(*c)) {
                        called.insert(format!("{prefix}:{}", pascal(call)));
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
fn the_iam_policy_grants_exactly_the_ec2_and_acm_actions_the_code_calls() {
    let called = actions_called();
    for sample in ["ec2:CreateClientVpnEndpoint", "acm:ImportCertificate"] {
        assert!(
            called.contains(sample),
            "the source scan found no {sample}: {called:?}"
        );
    }
    // The scan and the operator's own table of AWS actions (metric labels) agree.
    let table: BTreeSet<String> = clientvpn_operator::cloud::Operation::ALL
        .iter()
        .map(|op| op.name().to_string())
        .collect();
    let scanned: BTreeSet<String> = called
        .iter()
        .map(|a| a.split_once(':').expect("prefix").1.to_string())
        .collect();
    assert_eq!(
        scanned, table,
        "src/cloud/ calls differ from cloud::Operation::ALL"
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
                actions
                    .iter()
                    .all(|a| a.starts_with("ec2:Describe") || ACM_READS.contains(&a.as_str())),
                "{sid}: only reads (ec2:Describe*, {ACM_READS:?}) may use Resource \"*\""
            );
        }
        if actions.iter().any(|a| a.starts_with("acm:")) {
            assert!(
                actions.iter().all(|a| a.starts_with("acm:")),
                "{sid}: ACM and EC2 actions in one statement"
            );
            assert!(
                resources
                    .iter()
                    .all(|r| r == "arn:aws:acm:*:*:certificate/*" || r == "*"),
                "{sid}: ACM statements name certificates: {resources:?}"
            );
            // Reads may look at any certificate (ARNs from the spec are not the operator's);
            // everything that changes one needs the cluster tag, on the request or the
            // certificate.
            let acm_mutating = actions.iter().any(|a| !ACM_READS.contains(&a.as_str()));
            if acm_mutating {
                assert!(
                    condition.contains(&format!("aws:ResourceTag/{cluster_tag}"))
                        || condition.contains(&format!("aws:RequestTag/{cluster_tag}")),
                    "{sid}: changes to certificates must be conditioned on the {cluster_tag} tag"
                );
            }
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
    // ImportCertificate twice: a new import only with the cluster tag in the request, a
    // re-import (CertificateArn, no tags) only into a certificate carrying the tag; Delete only
    // of tagged certificates.
    let null_false = |statement: &Value, key: &str| {
        statement["Condition"]["Null"][format!("{key}/{cluster_tag}")] == "false"
    };
    let granting = |action: &str| -> Vec<Value> {
        statements()
            .into_iter()
            .filter(|s| list(&s["Action"]).iter().any(|a| a == action))
            .collect()
    };
    let imports = granting("acm:ImportCertificate");
    assert_eq!(imports.len(), 2, "{imports:?}");
    assert!(
        imports
            .iter()
            .any(|s| null_false(s, "aws:RequestTag") && !null_false(s, "aws:ResourceTag")),
        "a new-import statement keyed on aws:RequestTag: {imports:?}"
    );
    assert!(
        imports
            .iter()
            .any(|s| null_false(s, "aws:ResourceTag") && !null_false(s, "aws:RequestTag")),
        "a re-import statement keyed on aws:ResourceTag: {imports:?}"
    );
    for statement in granting("acm:DeleteCertificate") {
        assert!(null_false(&statement, "aws:ResourceTag"), "{statement}");
    }
    for statement in granting("acm:AddTagsToCertificate") {
        assert!(null_false(&statement, "aws:RequestTag"), "{statement}");
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
