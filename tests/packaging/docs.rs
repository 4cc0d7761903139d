//! The Dockerfile agrees with the chart, and docs/install.md covers every flag, variable,
//! value and metric.

use serde_json::Value;

use crate::{read, run_help, yaml};

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
    let values: Value = yaml::parse(
        &read("charts/clientvpn-operator/values.yaml"),
        "charts/clientvpn-operator/values.yaml",
    );
    let repository = values["image"]["repository"].as_str().expect("repository");
    assert!(
        dockerfile.contains(repository),
        "the Dockerfile documents building {repository}"
    );
    assert_eq!(values["podSecurityContext"]["runAsUser"], 65532);
    let chart: Value = yaml::parse(
        &read("charts/clientvpn-operator/Chart.yaml"),
        "charts/clientvpn-operator/Chart.yaml",
    );
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
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
    let values: Value = yaml::parse(
        &read("charts/clientvpn-operator/values.yaml"),
        "charts/clientvpn-operator/values.yaml",
    );
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

/// Every metric the operator exposes, as a scrape names it (`# TYPE` lines of the registry:
/// counters get `_total`, infos `_info`), is in docs/install.md's metrics table. The four
/// ClientVpnUser metrics are named so that a renamed family fails here, not only in the docs.
#[test]
fn install_docs_cover_every_metric() {
    let docs = read("docs/install.md");
    // A family without series prints nothing: give every labelled one a series.
    let metrics = clientvpn_operator::metrics::Metrics::new();
    metrics.reconcile_error("AwsTerminal");
    metrics.aws_call("CreateClientVpnEndpoint", "success");
    metrics.endpoint_observed("uid", Some("available"));
    metrics.certificates_observed("vpn", "office-vpn", &[("server", 1_900_000_000)]);
    metrics.connections_observed("vpn", "office-vpn", 1);
    metrics.crl_imported("vpn", "office-vpn", 1, 1_900_000_000);
    metrics.user_certificate_issued();
    let text = metrics.encode();
    let mut names = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        names.push(match kind {
            "counter" => format!("{name}_total"),
            "info" => format!("{name}_info"),
            _ => name.to_string(),
        });
    }
    for expected in [
        "clientvpn_operator_endpoint_connections",
        "clientvpn_operator_crl_next_update_timestamp_seconds",
        "clientvpn_operator_crl_entries",
        "clientvpn_operator_user_certificates_issued_total",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "the registry lacks {expected}: {names:?}"
        );
    }
    // clientvpn_operator_build_info is documented by its family name.
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            let documented = name.strip_suffix("_info").unwrap_or(name);
            !docs.contains(&format!("`{documented}")) && !docs.contains(&format!("`{name}`"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/install.md does not document the metrics {missing:?}"
    );
}
