//! The Argo CD health check for ClientVpnEndpoint, run with a Lua 5.1 interpreter against the
//! upstream-style `health_test.yaml` cases (as `go test ./util/lua/` does in argo-cd).

#[path = "support/argocd_health.rs"]
mod argocd_health;
// Only `parse` is needed here.
#[allow(dead_code)]
#[path = "support/yaml.rs"]
mod yaml;

use argocd_health::{check_dir, health, script};
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

fn cases() -> Cases {
    let text =
        std::fs::read_to_string(check_dir().join("health_test.yaml")).expect("health_test.yaml");
    yaml::parse(&text, "health_test.yaml")
}

fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(check_dir().join(path)).expect("fixture");
    yaml::parse(&text, path)
}

#[test]
fn every_health_test_case_gives_the_expected_status_and_message() {
    let cases = cases();
    let script = script();
    let mut failures = Vec::new();
    for case in &cases.tests {
        let got = health(&script, &fixture(&case.input_path));
        let want = (
            case.health_status.status.clone(),
            case.health_status.message.clone(),
        );
        if got.as_ref() != Ok(&want) {
            failures.push(format!("{}: got {got:?}, want {want:?}", case.input_path));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_is_used_and_the_statuses_cover_healthy_progressing_and_degraded() {
    let cases = cases();
    let used: std::collections::BTreeSet<String> =
        cases.tests.iter().map(|c| c.input_path.clone()).collect();
    let on_disk: std::collections::BTreeSet<String> =
        std::fs::read_dir(check_dir().join("testdata"))
            .expect("testdata")
            .map(|e| {
                format!(
                    "testdata/{}",
                    e.expect("entry").file_name().to_string_lossy()
                )
            })
            .collect();
    assert_eq!(used, on_disk, "health_test.yaml and testdata/ disagree");
    for status in ["Healthy", "Progressing", "Degraded"] {
        assert!(
            cases.tests.iter().any(|c| c.health_status.status == status),
            "no case for {status}"
        );
    }
}

/// Row-by-row rules on minimal objects, including shapes the fixtures do not show.
#[test]
fn rules_for_minimal_objects() {
    let script = script();
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

#[test]
fn the_check_does_not_rely_on_the_string_library() {
    // Argo CD opens no string library by default: `("x"):upper()` must fail here as it would
    // there, so a check that used it would be caught by the cases above.
    let err = health("return {status = ('x'):upper()}", &json!({})).expect_err("no string lib");
    assert!(err.contains("upper") || err.contains("index"), "{err}");
}
