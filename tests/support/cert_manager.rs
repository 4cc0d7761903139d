//! The launcher of the real cert-manager controller (built from its Go module by
//! `hack/build-cert-manager.sh`, see docs/cert-manager.md) against a [`ControlPlane`]: applies
//! cert-manager's CRDs and runs the controller out of cluster, owned by the test process.
//!
//! Include it next to the control plane launcher and the owned-process helper, which it uses as
//! `crate::control_plane` and `crate::owned`:
//!
//! ```ignore
//! #[path = "../support/control_plane.rs"]
//! mod control_plane;
//! #[path = "../support/owned.rs"]
//! mod owned;
//! #[path = "../support/cert_manager.rs"]
//! mod cert_manager;
//!
//! let cp = ControlPlane::start_temp("clientvpn-cm");
//! let cm = CertManager::start(&cp); // CRDs Established, controller serving /livez
//! // ... create Issuers and Certificates with cp.kubectl(), wait for their Secrets ...
//! cert_manager::renew(&cp, "ns", "server"); // what `cmctl renew` does
//! ```
//!
//! * The controller runs with `--kubeconfig` (the admin one), `--leader-elect=false`,
//!   `--cluster-resource-namespace` [`CLUSTER_RESOURCE_NAMESPACE`], and metrics/healthz on
//!   `127.0.0.1:0`. There is no webhook and no cainjector: nothing validates or defaults
//!   cert-manager objects at admission (the controller defaults what it needs itself), so write
//!   valid objects.
//! * It is started through a small watcher shell (`owned.rs`) that kills it when the test
//!   process goes away (even on SIGKILL); dropping the [`CertManager`] stops it too.
//! * Its log goes to `<control plane dir>/logs/cert-manager-<n>.log`: removed when the handle is
//!   dropped normally, kept (its path printed) when the thread is panicking.
//! * The binary is `CLIENTVPN_CERT_MANAGER_BIN` if set, else the cache of
//!   `hack/build-cert-manager.sh`, which is run (it builds, or is a no-op) when the binary is
//!   missing there; a failed build fails the test with the script's output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::control_plane::{ControlPlane, checked, http_get, run};
use crate::owned::{Output, Owned};

/// Namespace of the Secrets that ClusterIssuers refer to (upstream's default too).
pub const CLUSTER_RESOURCE_NAMESPACE: &str = "kube-system";

/// The CRDs cert-manager serves, all applied by [`install_crds`].
pub const CRDS: &[&str] = &[
    "certificates.cert-manager.io",
    "certificaterequests.cert-manager.io",
    "issuers.cert-manager.io",
    "clusterissuers.cert-manager.io",
    "orders.acme.cert-manager.io",
    "challenges.acme.cert-manager.io",
];

/// A self-signed Issuer makes a CA (`ca-tls`); a CA Issuer signs the server certificate into
/// `server-tls` with what Client VPN needs (RSA 2048, CN and DNS name `vpn.clientvpn.test`,
/// serverAuth). Apply it into a namespace with `kubectl apply -n <ns>`.
pub const CA_AND_SERVER: &str = r#"
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: selfsigned}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: ca}
spec:
  isCA: true
  commonName: clientvpn-test-ca
  secretName: ca-tls
  privateKey: {algorithm: RSA, size: 2048}
  issuerRef: {name: selfsigned, kind: Issuer, group: cert-manager.io}
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: ca}
spec: {ca: {secretName: ca-tls}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: server}
spec:
  secretName: server-tls
  commonName: vpn.clientvpn.test
  dnsNames: [vpn.clientvpn.test]
  usages: [server auth, digital signature, key encipherment]
  privateKey: {algorithm: RSA, size: 2048}
  issuerRef: {name: ca, kind: Issuer, group: cert-manager.io}
"#;

const BIN_NAME: &str = "cert-manager-controller";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    repo().join("hack/build-cert-manager.sh")
}

/// One line of `hack/build-cert-manager.sh <flag>` (a `--print-*` flag never builds).
fn script_print(flag: &str) -> PathBuf {
    let text = checked(run(Command::new(script()).arg(flag), None), flag);
    PathBuf::from(text.lines().last().expect("a directory").trim())
}

/// The controller binary: `CLIENTVPN_CERT_MANAGER_BIN`, else the script's cache, built by the
/// script if it is not there (panics with the build output when that fails).
pub fn cert_manager_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("CLIENTVPN_CERT_MANAGER_BIN") {
            let bin = PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "CLIENTVPN_CERT_MANAGER_BIN={} does not exist",
                bin.display()
            );
            return bin;
        }
        let cached = script_print("--print-bin-dir").join(BIN_NAME);
        let current = run(Command::new(script()).arg("--check"), None)
            .status
            .success();
        if !current {
            eprintln!(
                "building cert-manager with hack/build-cert-manager.sh (cached afterwards) ..."
            );
            let out = run(&mut Command::new(script()), None);
            assert!(
                out.status.success(),
                "hack/build-cert-manager.sh failed ({}), so cert-manager cannot run:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            cached.is_file(),
            "{} is missing after the build",
            cached.display()
        );
        cached
    })
}

/// cert-manager's CRDs of the same version as the binary: next to it (`<version>/crds`) when
/// the binary is in the script's cache layout, else the script's CRD directory.
pub fn crds_dir() -> PathBuf {
    let beside = cert_manager_bin()
        .parent()
        .and_then(Path::parent)
        .map(|root| root.join("crds"));
    match beside {
        Some(dir) if dir.join(".stamp").is_file() => dir,
        _ => script_print("--print-crds-dir"),
    }
}

/// Apply cert-manager's CRDs (server-side) and wait until each is Established.
pub fn install_crds(cp: &ControlPlane) {
    let dir = crds_dir();
    checked(
        run(
            cp.kubectl()
                .args(["apply", "--server-side", "--force-conflicts", "-f"])
                .arg(&dir),
            None,
        ),
        "installing the cert-manager CRDs",
    );
    let mut wait = cp.kubectl();
    wait.args(["wait", "--for=condition=Established", "--timeout=60s"]);
    for crd in CRDS {
        wait.arg(format!("crd/{crd}"));
    }
    checked(run(&mut wait, None), "waiting for the cert-manager CRDs");
}

/// A running cert-manager controller, owned by this test process; stopped when dropped.
pub struct CertManager {
    process: Owned,
    healthz: String,
}

impl CertManager {
    /// [`install_crds`], then the controller with the flags in the module docs.
    pub fn start(cp: &ControlPlane) -> Self {
        Self::start_with(cp, &[])
    }

    /// [`CertManager::start`] with extra controller flags (they come last, so they win; e.g.
    /// `--feature-gates=...`, `-v=4`, `--controllers=...`).
    pub fn start_with(cp: &ControlPlane, extra: &[&str]) -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let binary = cert_manager_bin();
        install_crds(cp);
        let logs = cp.logs();
        std::fs::create_dir_all(&logs).expect("create the log directory");
        let log = logs.join(format!(
            "cert-manager-{}.log",
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&log);
        let mut args: Vec<String> = vec![
            "--kubeconfig".into(),
            cp.kubeconfig.display().to_string(),
            "--leader-elect=false".into(),
            format!("--cluster-resource-namespace={CLUSTER_RESOURCE_NAMESPACE}"),
            "--metrics-listen-address=127.0.0.1:0".into(),
            "--healthz-listen-address=127.0.0.1:0".into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut cm = CertManager {
            process: Owned::spawn("cert-manager", binary, &args, log, Output::Logged),
            healthz: String::new(),
        };
        cm.healthz = cm.wait_live(Duration::from_secs(60));
        cm
    }

    /// Waits until the controller logs its healthz address and `/livez` answers 200 there;
    /// panics with the log if it exits or the time runs out.
    fn wait_live(&mut self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.process.exited() {
                panic!(
                    "cert-manager exited ({status}) while starting; log {}:\n{}",
                    self.log().display(),
                    self.log_text()
                );
            }
            if let Some(addr) = healthz_address(&self.log_text())
                && http_get(&addr, "/livez").is_some_and(|(code, _)| code == 200)
            {
                return addr;
            }
            assert!(
                Instant::now() < deadline,
                "cert-manager not live after {timeout:?}; log {}:\n{}",
                self.log().display(),
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The controller's log file.
    pub fn log(&self) -> &Path {
        self.process.log()
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }

    /// `host:port` of the controller's healthz server (`/livez`).
    pub fn healthz_addr(&self) -> &str {
        &self.healthz
    }

    /// Whether the controller process is still running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }
}

/// Force a renewal the way `cmctl renew` does: set the `Issuing` condition (status `True`,
/// reason `ManuallyTriggered`) on the Certificate through its status subresource. The
/// controller then issues a new certificate into the same Secret. Where cmctl refuses while an
/// issuance is in progress, this waits for it to end (cert-manager may start one of its own
/// right after the first issuance). Returns the revision the renewal starts from: the renewed
/// certificate is the next one.
pub fn renew(cp: &ControlPlane, namespace: &str, certificate: &str) -> u64 {
    let what = format!("certificate {namespace}/{certificate}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            Instant::now() < deadline,
            "{what}: an issuance still in progress, or every renewal patch conflicted, after 120 s"
        );
        let crt = certificate_json(cp, namespace, certificate, &what);
        let mut conditions = crt["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if conditions
            .iter()
            .any(|c| c["type"] == "Issuing" && c["status"] == "True")
        {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        let now = checked(
            run(
                Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
                None,
            ),
            "date",
        );
        conditions.retain(|c| c["type"] != "Issuing");
        conditions.push(serde_json::json!({
            "type": "Issuing",
            "status": "True",
            "reason": "ManuallyTriggered",
            "message": "Certificate re-issuance manually triggered",
            "lastTransitionTime": now.trim(),
            "observedGeneration": crt["metadata"]["generation"],
        }));
        // The resourceVersion makes the merge patch conditional: a concurrent status update by
        // the controller makes it fail (409, then look again) instead of being overwritten.
        let patch = serde_json::json!({
            "metadata": { "resourceVersion": crt["metadata"]["resourceVersion"] },
            "status": { "conditions": conditions },
        })
        .to_string();
        let out = run(
            cp.kubectl().args([
                "patch",
                "certificate.cert-manager.io",
                certificate,
                "-n",
                namespace,
                "--subresource=status",
                "--type=merge",
                "-p",
                &patch,
            ]),
            None,
        );
        if out.status.success() {
            return crt["status"]["revision"].as_u64().unwrap_or(0);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("the object has been modified") || stderr.contains("Conflict"),
            "setting the Issuing condition on {what} (renewal) failed: {stderr}"
        );
    }
}

fn certificate_json(
    cp: &ControlPlane,
    namespace: &str,
    certificate: &str,
    what: &str,
) -> serde_json::Value {
    let text = checked(
        run(
            cp.kubectl().args([
                "get",
                "certificate.cert-manager.io",
                certificate,
                "-n",
                namespace,
                "-o",
                "json",
            ]),
            None,
        ),
        &format!("reading {what}"),
    );
    serde_json::from_str(&text).expect("a Certificate as JSON")
}

/// The healthz address the controller logged: this build's `"serving healthz" ...
/// address="127.0.0.1:N"` or upstream's `"starting healthz server" ... address="..."`.
fn healthz_address(log: &str) -> Option<String> {
    log.lines()
        .filter(|l| l.contains("serving healthz") || l.contains("starting healthz server"))
        .find_map(|l| {
            let rest = &l[l.find("address=\"")? + "address=\"".len()..];
            Some(rest[..rest.find('"')?].to_string())
        })
}
