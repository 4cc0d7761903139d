//! The IAM policy grants exactly the EC2 actions the code calls, scoped by the ownership tag.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::{read, repo, run};

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
