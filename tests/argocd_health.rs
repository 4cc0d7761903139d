//! The Argo CD health checks for ClientVpnEndpoint and ClientVpnUser, run with a Lua 5.1
//! interpreter against the upstream-style `health_test.yaml` cases (as `go test ./util/lua/`
//! does in argo-cd).

#[path = "support/argocd_health.rs"]
mod argocd_health;
// Only `parse` is needed here.
#[allow(dead_code)]
#[path = "support/yaml.rs"]
mod yaml;

use argocd_health::{KINDS, check_dir, health, script_of};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Cases {
    tests: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    health_status: Expected,
    input_path: String,
}

#[derive(Deserialize)]
struct Expected {
    status: String,
    message: String,
}

fn cases(kind: &str) -> Cases {
    let text = std::fs::read_to_string(check_dir(kind).join("health_test.yaml"))
        .unwrap_or_else(|e| panic!("{kind}/health_test.yaml: {e}"));
    yaml::parse(&text, "health_test.yaml")
}

fn fixture(kind: &str, path: &str) -> Value {
    let text = std::fs::read_to_string(check_dir(kind).join(path))
        .unwrap_or_else(|e| panic!("{kind}/{path}: {e}"));
    yaml::parse(&text, path)
}

#[test]
fn every_health_test_case_gives_the_expected_status_and_message() {
    let mut failures = Vec::new();
    for kind in KINDS {
        let cases = cases(kind);
        let script = script_of(kind);
        for case in &cases.tests {
            let object = fixture(kind, &case.input_path);
            assert_eq!(object["kind"], kind, "{kind}/{}", case.input_path);
            let got = health(&script, &object);
            let want = (
                case.health_status.status.clone(),
                case.health_status.message.clone(),
            );
            if got.as_ref() != Ok(&want) {
                failures.push(format!(
                    "{kind}/{}: got {got:?}, want {want:?}",
                    case.input_path
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_is_used_and_the_statuses_cover_every_outcome() {
    let statuses: [(&str, &[&str]); 2] = [
        ("ClientVpnEndpoint", &["Healthy", "Progressing", "Degraded"]),
        (
            "ClientVpnUser",
            &["Healthy", "Progressing", "Degraded", "Suspended"],
        ),
    ];
    assert_eq!(statuses.map(|(kind, _)| kind), KINDS);
    for (kind, expected) in statuses {
        let cases = cases(kind);
        let used: std::collections::BTreeSet<String> =
            cases.tests.iter().map(|c| c.input_path.clone()).collect();
        let on_disk: std::collections::BTreeSet<String> =
            std::fs::read_dir(check_dir(kind).join("testdata"))
                .expect("testdata")
                .map(|e| {
                    format!(
                        "testdata/{}",
                        e.expect("entry").file_name().to_string_lossy()
                    )
                })
                .collect();
        assert_eq!(
            used, on_disk,
            "{kind}: health_test.yaml and testdata/ disagree"
        );
        for status in expected {
            assert!(
                cases
                    .tests
                    .iter()
                    .any(|c| c.health_status.status == *status),
                "{kind}: no case for {status}"
            );
        }
        // Only the statuses Argo CD knows, and only these.
        for case in &cases.tests {
            assert!(
                expected.contains(&case.health_status.status.as_str()),
                "{kind}/{}: {}",
                case.input_path,
                case.health_status.status
            );
        }
    }
}

/// Row-by-row rules on minimal objects, including shapes the fixtures do not show.
#[test]
fn endpoint_rules_for_minimal_objects() {
    let script = script_of("ClientVpnEndpoint");
    let ready =
        |status: &str| json!({"type": "Ready", "status": status, "reason": "R", "message": "m"});
    let rows: Vec<(&str, Value, &str)> = vec![
        ("no metadata at all", json!({}), "Progressing"),
        (
            "status without conditions",
            json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1}}),
            "Progressing",
        ),
        (
            "status without observedGeneration",
            json!({"metadata": {"generation": 1}, "status": {"conditions": [ready("True")]}}),
            "Progressing",
        ),
        (
            "ready, generation current",
            json!({"metadata": {"generation": 4}, "status": {"observedGeneration": 4, "conditions": [ready("True")]}}),
            "Healthy",
        ),
        (
            "ready, generation newer",
            json!({"metadata": {"generation": 5}, "status": {"observedGeneration": 4, "conditions": [ready("True")]}}),
            "Progressing",
        ),
        (
            "stalled False is not degraded",
            json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
                ready("True"), {"type": "Stalled", "status": "False"}]}}),
            "Healthy",
        ),
        (
            "stalled wins over ready",
            json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
                ready("True"), {"type": "Stalled", "status": "True", "reason": "AwsTerminal"}]}}),
            "Degraded",
        ),
        (
            "deleting and ready is still progressing",
            json!({"metadata": {"generation": 2, "deletionTimestamp": "2026-01-01T00:00:00Z"},
                   "status": {"observedGeneration": 2, "conditions": [ready("True")]}}),
            "Progressing",
        ),
        (
            "null status as Argo CD may pass it",
            json!({"metadata": {"generation": 1}, "status": null}),
            "Progressing",
        ),
    ];
    for (what, obj, want) in rows {
        let (status, message) = health(&script, &obj).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(status, want, "{what}: message {message:?}");
        assert!(!message.is_empty(), "{what}: empty message");
    }
}

/// The ClientVpnUser check, row by row: revoked is Suspended once the operator has observed the
/// spec, Stalled is Degraded, Ready is Healthy, everything else Progressing.
#[test]
fn user_rules_for_minimal_objects() {
    let script = script_of("ClientVpnUser");
    let cond = |type_: &str, status: &str, reason: &str| json!({"type": type_, "status": status, "reason": reason, "message": format!("{reason} message")});
    let at = |generation: i64, status: Value| json!({"metadata": {"generation": generation}, "status": status});
    let rows: Vec<(&str, Value, &str, &str)> = vec![
        (
            "no metadata at all",
            json!({}),
            "Progressing",
            "Waiting for the operator to issue the certificate",
        ),
        (
            "null status as Argo CD may pass it",
            json!({"metadata": {"generation": 1}, "status": null}),
            "Progressing",
            "Waiting for the operator to issue the certificate",
        ),
        (
            "status without conditions",
            at(1, json!({"observedGeneration": 1, "revoked": false})),
            "Progressing",
            "Waiting for the certificate",
        ),
        (
            "ready, generation current",
            at(
                2,
                json!({"observedGeneration": 2, "conditions": [cond("Ready", "True", "CertificateIssued")]}),
            ),
            "Healthy",
            "CertificateIssued message",
        ),
        (
            "ready, generation newer (e.g. revoked was just set)",
            at(
                3,
                json!({"observedGeneration": 2, "conditions": [cond("Ready", "True", "CertificateIssued")]}),
            ),
            "Progressing",
            "Waiting for the operator to observe generation 3",
        ),
        (
            "revoked, without a Ready message",
            at(2, json!({"observedGeneration": 2, "revoked": true})),
            "Suspended",
            "Access revoked: the certificate is on the endpoint's revocation list",
        ),
        (
            "revoked wins over a Stalled condition",
            at(
                2,
                json!({"observedGeneration": 2, "revoked": true, "conditions": [
                cond("Ready", "False", "Revoked"), cond("Stalled", "True", "RevocationListFull")]}),
            ),
            "Suspended",
            "Access revoked: Revoked message",
        ),
        (
            "revoked=false with Ready reason Revoked (nothing was issued)",
            at(
                1,
                json!({"observedGeneration": 1, "revoked": false, "conditions": [cond("Ready", "False", "Revoked")]}),
            ),
            "Suspended",
            "Access revoked: Revoked message",
        ),
        (
            "revoking is progressing",
            at(
                2,
                json!({"observedGeneration": 2, "revoked": false, "conditions": [
                cond("Ready", "False", "Revoking"), cond("Reconciling", "True", "Revoking")]}),
            ),
            "Progressing",
            "Revoking message",
        ),
        (
            "stalled wins over ready",
            at(
                1,
                json!({"observedGeneration": 1, "conditions": [
                cond("Ready", "True", "CertificateIssued"), cond("Stalled", "True", "InvalidCertificate")]}),
            ),
            "Degraded",
            "InvalidCertificate message",
        ),
        (
            "stalled False is not degraded",
            at(
                1,
                json!({"observedGeneration": 1, "conditions": [
                cond("Ready", "True", "CertificateIssued"), cond("Stalled", "False", "")]}),
            ),
            "Healthy",
            "CertificateIssued message",
        ),
        (
            "expiring soon is still healthy",
            at(
                1,
                json!({"observedGeneration": 1, "conditions": [
                cond("Ready", "True", "CertificateIssued"),
                cond("CertificateExpiringSoon", "True", "CertificateExpiringSoon")]}),
            ),
            "Healthy",
            "CertificateIssued message",
        ),
        (
            "not ready without Reconciling: the Ready message",
            at(
                1,
                json!({"observedGeneration": 1, "conditions": [cond("Ready", "False", "EndpointDeleting")]}),
            ),
            "Progressing",
            "EndpointDeleting message",
        ),
        (
            "deleting and ready is still progressing",
            json!({"metadata": {"generation": 1, "deletionTimestamp": "2026-01-01T00:00:00Z"},
                   "status": {"observedGeneration": 1, "conditions": [cond("Ready", "True", "CertificateIssued")]}}),
            "Progressing",
            "Deleting: revoking the certificate",
        ),
        (
            "deleting and stalled",
            json!({"metadata": {"generation": 1, "deletionTimestamp": "2026-01-01T00:00:00Z"},
                   "status": {"observedGeneration": 1, "conditions": [
                       cond("Ready", "False", "RevocationListRefused"), cond("Stalled", "True", "RevocationListRefused")]}}),
            "Degraded",
            "Deletion stalled: RevocationListRefused message",
        ),
    ];
    for (what, obj, want, message) in rows {
        let got = health(&script, &obj).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got, (want.to_string(), message.to_string()), "{what}");
    }
}

#[test]
fn the_check_does_not_rely_on_the_string_library() {
    // Argo CD opens no string library by default: `("x"):upper()` must fail here as it would
    // there, so a check that used it would be caught by the cases above.
    let err = health("return {status = ('x'):upper()}", &json!({})).expect_err("no string lib");
    assert!(err.contains("upper") || err.contains("index"), "{err}");
}
