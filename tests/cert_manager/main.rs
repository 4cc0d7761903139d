//! The real cert-manager controller (built from its Go module by `hack/build-cert-manager.sh`)
//! on a fresh local control plane: a self-signed Issuer makes a CA, a CA Issuer signs a server
//! certificate into a `kubernetes.io/tls` Secret, and a forced renewal (`cmctl renew`'s
//! Issuing condition) replaces the certificate in the same Secret. See docs/cert-manager.md.

#[allow(dead_code)]
#[path = "../support/cert_manager.rs"]
mod cert_manager;
#[allow(dead_code)]
#[path = "../support/control_plane.rs"]
mod control_plane;
#[allow(dead_code)]
#[path = "../support/owned.rs"]
mod owned;

use cert_manager::CertManager;
use control_plane::{ControlPlane, checked, run};
use serde_json::Value;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey;

const NS: &str = "cm-smoke";
const DNS_NAME: &str = "vpn.clientvpn.test";
const TIMEOUT: &str = "--timeout=180s";

/// `kubectl wait` on `target` for `condition`; on failure, panics with what cert-manager made
/// of the objects and the end of its log.
fn wait(cp: &ControlPlane, cm: &CertManager, target: &str, condition: &str) {
    let out = run(
        cp.kubectl()
            .args(["wait", "-n", NS, target, TIMEOUT])
            .arg(format!("--for={condition}")),
        None,
    );
    if out.status.success() {
        return;
    }
    let describe = run(
        cp.kubectl().args([
            "describe",
            "-n",
            NS,
            "issuers.cert-manager.io,certificates.cert-manager.io,certificaterequests.cert-manager.io",
        ]),
        None,
    );
    let log = cm.log_text();
    let tail: Vec<&str> = log.lines().rev().take(60).collect();
    panic!(
        "waiting for {target} ({condition}) failed: {}\n--- objects:\n{}\n--- cert-manager log (last lines, full log {}):\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&describe.stdout),
        cm.log().display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

fn get_json(cp: &ControlPlane, what: &str) -> Value {
    let text = checked(
        run(
            cp.kubectl().args(["get", "-n", NS, what, "-o", "json"]),
            None,
        ),
        &format!("kubectl get {what}"),
    );
    serde_json::from_str(&text).expect("JSON from kubectl")
}

/// One key of a Secret, decoded (kubectl's template does the base64).
fn secret_value(cp: &ControlPlane, secret: &str, key: &str) -> String {
    checked(
        run(
            cp.kubectl().args([
                "get",
                "-n",
                NS,
                &format!("secret/{secret}"),
                "-o",
                &format!("go-template={{{{index .data \"{key}\" | base64decode}}}}"),
            ]),
            None,
        ),
        &format!("reading {key} of secret {secret}"),
    )
}

/// The DER of each CERTIFICATE block of `pem`.
fn certificates(pem: &str) -> Vec<Vec<u8>> {
    Pem::iter_from_buffer(pem.as_bytes())
        .map(|p| p.expect("a PEM block"))
        .filter(|p| p.label == "CERTIFICATE")
        .map(|p| p.contents)
        .collect()
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    x509_parser::parse_x509_certificate(der)
        .expect("an X.509 certificate")
        .1
}

fn rsa_bits(cert: &X509Certificate<'_>) -> usize {
    match cert.public_key().parsed().expect("a public key") {
        PublicKey::RSA(rsa) => rsa.key_size(),
        other => panic!("expected an RSA key, got {other:?}"),
    }
}

fn serial_hex(cert: &X509Certificate<'_>) -> String {
    cert.raw_serial()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the server Secret holds, checked: the leaf (returned as DER) is signed by `ca.crt`,
/// which is the CA certificate; RSA 2048, the DNS name, server auth.
struct Issued {
    leaf: Vec<u8>,
    key: String,
    uid: String,
}

fn check_server_secret(cp: &ControlPlane, ca_der: &[u8]) -> Issued {
    let secret = get_json(cp, "secret/server-tls");
    assert_eq!(secret["type"], "kubernetes.io/tls", "{secret:#}");
    for key in ["tls.crt", "tls.key", "ca.crt"] {
        assert!(
            secret["data"][key].as_str().is_some_and(|v| !v.is_empty()),
            "server-tls has no {key}: {secret:#}"
        );
    }
    assert_eq!(
        secret["metadata"]["annotations"]["cert-manager.io/certificate-name"], "server",
        "{secret:#}"
    );
    let chain = certificates(&secret_value(cp, "server-tls", "tls.crt"));
    assert!(!chain.is_empty(), "tls.crt holds no certificate");
    let ca_crt = certificates(&secret_value(cp, "server-tls", "ca.crt"));
    assert_eq!(
        ca_crt,
        vec![ca_der.to_vec()],
        "ca.crt is the CA certificate"
    );

    let leaf = parse(&chain[0]);
    let ca = parse(ca_der);
    assert_eq!(
        leaf.issuer().as_raw(),
        ca.subject().as_raw(),
        "issued by the CA"
    );
    leaf.verify_signature(Some(ca.public_key()))
        .expect("the leaf is signed by the CA's key");
    assert_eq!(rsa_bits(&leaf), 2048);
    assert!(!leaf.is_ca());
    let dns: Vec<String> = leaf
        .subject_alternative_name()
        .expect("SAN")
        .expect("a SAN extension")
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(dns, vec![DNS_NAME.to_string()]);
    let eku = leaf
        .extended_key_usage()
        .expect("EKU")
        .expect("an EKU extension")
        .value;
    assert!(eku.server_auth && !eku.client_auth, "server auth only");

    let key = secret_value(cp, "server-tls", "tls.key");
    // PKCS#1 is cert-manager's default encoding.
    assert!(
        key.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "{key:.40}"
    );
    Issued {
        leaf: chain[0].clone(),
        key,
        uid: secret["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

#[test]
fn cert_manager_issues_and_renews_a_server_certificate() {
    let cp = ControlPlane::start_temp("clientvpn-cert-manager");
    let cm = CertManager::start(&cp);

    checked(
        run(cp.kubectl().args(["create", "namespace", NS]), None),
        "creating the namespace",
    );
    checked(
        run(
            cp.kubectl().args(["apply", "-n", NS, "-f", "-"]),
            Some(cert_manager::CA_AND_SERVER),
        ),
        "creating the issuers and certificates",
    );

    // Self-signed Issuer -> CA Certificate -> CA Issuer -> server Certificate.
    wait(
        &cp,
        &cm,
        "issuer.cert-manager.io/selfsigned",
        "condition=Ready",
    );
    wait(
        &cp,
        &cm,
        "certificate.cert-manager.io/ca",
        "condition=Ready",
    );
    wait(&cp, &cm, "issuer.cert-manager.io/ca", "condition=Ready");
    wait(
        &cp,
        &cm,
        "certificate.cert-manager.io/server",
        "condition=Ready",
    );

    let ca_chain = certificates(&secret_value(&cp, "ca-tls", "tls.crt"));
    assert_eq!(ca_chain.len(), 1, "a self-signed CA alone");
    let ca_der = ca_chain[0].clone();
    {
        let ca = parse(&ca_der);
        assert!(ca.is_ca(), "the CA certificate has basicConstraints CA");
        assert_eq!(ca.subject().as_raw(), ca.issuer().as_raw(), "self-signed");
        assert_eq!(rsa_bits(&ca), 2048);
    }

    let first = check_server_secret(&cp, &ca_der);
    let crt = get_json(&cp, "certificate.cert-manager.io/server");
    assert!(
        crt["status"]["revision"].as_u64().is_some_and(|r| r >= 1),
        "{crt:#}"
    );
    for field in ["notBefore", "notAfter", "renewalTime"] {
        assert!(
            crt["status"][field].is_string(),
            "no status.{field}: {crt:#}"
        );
    }

    // Force a renewal like `cmctl renew`, then wait for the next revision to be Ready.
    let revision = cert_manager::renew(&cp, NS, "server");
    wait(
        &cp,
        &cm,
        "certificate.cert-manager.io/server",
        &format!("jsonpath={{.status.revision}}={}", revision + 1),
    );
    wait(
        &cp,
        &cm,
        "certificate.cert-manager.io/server",
        "condition=Ready",
    );

    let second = check_server_secret(&cp, &ca_der);
    assert_eq!(second.uid, first.uid, "the same Secret, updated in place");
    assert_ne!(second.leaf, first.leaf, "a new certificate");
    assert_ne!(
        serial_hex(&parse(&second.leaf)),
        serial_hex(&parse(&first.leaf)),
        "a new serial"
    );
    // rotationPolicy defaults to Always since cert-manager v1.18: a new key each issuance.
    assert_ne!(second.key, first.key, "a new private key");
    let crt = get_json(&cp, "certificate.cert-manager.io/server");
    let issuing = crt["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Issuing");
    assert!(
        !issuing,
        "the Issuing condition is gone once issued: {crt:#}"
    );

    drop(cm);
    cp.stop();
    // Passed: the control plane's directory (etcd data, ~100 MB) is no longer needed; a failed
    // run keeps it for its logs.
    let _ = std::fs::remove_dir_all(&cp.dir);
}
