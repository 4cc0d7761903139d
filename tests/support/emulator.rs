//! The one launcher of `clientvpn-emulator` for every test layer and the benchmark: the binary on
//! port 0, owned by the test process, with its control API (`/_emulator/...`) and call counters.
//!
//! Include it with `#[path = "../support/emulator.rs"] mod emulator;` (from a file directly in
//! `tests/`: `#[path = "support/emulator.rs"]`).
//!
//! * The process is started through a small watcher shell (`owned.rs`) that kills it when the
//!   test process goes away (even on SIGKILL); dropping the [`Emulator`] stops it too.
//! * Its stderr goes to a log file: by default a temporary one, removed when the handle is dropped
//!   normally and kept (its path printed) when the thread is panicking, i.e. the test failed; a
//!   log given with [`Launch::log`] is always kept.
//! * **Quota**: unless the caller says otherwise, the launcher passes
//!   `--max-endpoints-per-region 10000` ([`TEST_ENDPOINT_QUOTA`]), so a test may create more than
//!   AWS's real default of 5 endpoints per region. Say otherwise with your own
//!   `--max-endpoints-per-region N` in [`Launch::flags`], or with
//!   [`Launch::endpoint_quota`]`(None)` for the emulator's own default.
//! * **Certificates**: unless told otherwise ([`Launch::strict_certificates`]), the launcher
//!   passes `--permissive-certificates`, so made-up certificate ARNs are accepted (the adapter
//!   tests and the benchmark); strict mode (the e2e harness, with real imports) is
//!   AWS's check that the ARN is a certificate in the account's ACM.
//! * The binary is `CLIENTVPN_EMULATOR_BIN` if set, else the debug build, built once with cargo
//!   into `$CARGO_TARGET_DIR` (default `<repo>/target`); [`Launch::binary`] overrides both.
//!
//! Used by `tests/adapter/emulator.rs`, `tests/e2e/harness.rs` (and so `tests/e2e_install`) and
//! the benchmark:
//!
//! ```ignore
//! let emulator = Emulator::start(&["--association-delay-ms", "100"]); // quota 10 000
//! let sdk = emulator::sdk_config(&emulator.url(), "AKIDCREATE").await; // account by key
//! assert_eq!(emulator.calls_of("CreateClientVpnEndpoint"), 2);      // one action's counter
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::config::Credentials;
use serde_json::Value;

// The emulator needs only part of it; the cert-manager launcher uses it too.
#[allow(dead_code)]
#[path = "owned.rs"]
pub mod owned;

use owned::{Output, Owned};

/// Region the tests and the benchmark use.
pub const REGION: &str = "us-east-1";

/// Endpoints per region the launcher allows unless told otherwise (the emulator's own default
/// is AWS's, 5).
pub const TEST_ENDPOINT_QUOTA: u32 = 10_000;

const QUOTA_FLAG: &str = "--max-endpoints-per-region";

/// Lifecycle delays of the end-to-end tests and the benchmark: associations and deletions take
/// half a second, a `deleted` endpoint stays visible for two.
pub const E2E_DELAYS: &[&str] = &[
    "--association-delay-ms",
    "500",
    "--delete-delay-ms",
    "500",
    "--deleted-visible-ms",
    "2000",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The emulator binary: `CLIENTVPN_EMULATOR_BIN`, else the debug build, built once with cargo.
pub fn emulator_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("CLIENTVPN_EMULATOR_BIN") {
            return PathBuf::from(bin);
        }
        let out = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "clientvpn-emulator"])
            .args(["--bin", "clientvpn-emulator"])
            .current_dir(repo())
            .output()
            .expect("run cargo build for the emulator");
        assert!(
            out.status.success(),
            "building clientvpn-emulator failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target"))
            .join("debug/clientvpn-emulator")
    })
}

/// How to start an emulator; see [`Emulator::launch`].
#[must_use]
pub struct Launch {
    flags: Vec<String>,
    endpoint_quota: Option<u32>,
    permissive_certificates: bool,
    log: Option<PathBuf>,
    binary: Option<PathBuf>,
    listen: String,
}

impl Launch {
    /// Extra `clientvpn-emulator` flags (`--listen` comes from [`Launch::listen`]).
    pub fn flags(mut self, flags: &[&str]) -> Self {
        self.flags.extend(flags.iter().map(|f| f.to_string()));
        self
    }

    /// `--max-endpoints-per-region` to pass: [`TEST_ENDPOINT_QUOTA`] by default, `None` for the
    /// emulator's own default. Ignored when [`Launch::flags`] carry the flag.
    pub fn endpoint_quota(mut self, quota: Option<u32>) -> Self {
        self.endpoint_quota = quota;
        self
    }

    /// AWS's certificate check: certificate ARNs must name certificates imported into the
    /// emulator's ACM (no `--permissive-certificates`).
    pub fn strict_certificates(mut self) -> Self {
        self.permissive_certificates = false;
        self
    }

    /// Append the emulator's stderr to `path` (kept) instead of a temporary file.
    pub fn log(mut self, path: impl Into<PathBuf>) -> Self {
        self.log = Some(path.into());
        self
    }

    /// Listen on `addr` (default `127.0.0.1:0`, a free port), e.g. to restart on the same port.
    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.to_string();
        self
    }

    /// Run this binary instead of [`emulator_bin`].
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// The arguments after the program name.
    fn args(&self) -> Vec<String> {
        let mut args = vec!["--listen".to_string(), self.listen.clone()];
        args.extend(self.flags.iter().cloned());
        let quota_given = self
            .flags
            .iter()
            .any(|f| f.split('=').next() == Some(QUOTA_FLAG));
        if let (Some(quota), false) = (self.endpoint_quota, quota_given) {
            args.extend([QUOTA_FLAG.to_string(), quota.to_string()]);
        }
        if self.permissive_certificates {
            args.push("--permissive-certificates".to_string());
        }
        args
    }

    /// Start the process and wait until it prints its address.
    pub fn start(self) -> Emulator {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let (log, keep_log) = match &self.log {
            Some(path) => (path.clone(), true),
            None => (
                std::env::temp_dir().join(format!(
                    "clientvpn-emulator-{}-{}.log",
                    std::process::id(),
                    SEQ.fetch_add(1, Ordering::SeqCst)
                )),
                false,
            ),
        };
        let binary = self
            .binary
            .clone()
            .unwrap_or_else(|| emulator_bin().to_path_buf());
        let mut process = Owned::spawn("emulator", &binary, &self.args(), log, Output::Piped);
        if keep_log {
            process = process.keep_log();
        }
        let mut first_line = String::new();
        BufReader::new(process.stdout())
            .read_line(&mut first_line)
            .expect("emulator prints its address");
        let addr = first_line.trim().to_string();
        assert!(
            addr.starts_with("127.0.0.1:"),
            "unexpected emulator address {addr:?}; log in {}",
            process.log().display()
        );
        Emulator { addr, process }
    }
}

/// One running emulator, owned by this test process; stopped when dropped.
pub struct Emulator {
    addr: String,
    process: Owned,
}

impl Emulator {
    /// A launch with the defaults: no extra flags, quota [`TEST_ENDPOINT_QUOTA`], permissive
    /// certificates, a temporary log, [`emulator_bin`].
    pub fn launch() -> Launch {
        Launch {
            flags: Vec::new(),
            endpoint_quota: Some(TEST_ENDPOINT_QUOTA),
            permissive_certificates: true,
            log: None,
            binary: None,
            listen: "127.0.0.1:0".to_string(),
        }
    }

    /// Start with extra flags and every other default of [`Emulator::launch`].
    pub fn start(flags: &[&str]) -> Self {
        Self::launch().flags(flags).start()
    }

    /// `host:port`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `http://host:port`, the EC2 endpoint URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The emulator's log file.
    pub fn log(&self) -> &Path {
        self.process.log()
    }

    /// A call to the control API (`/_emulator/...`); panics unless it answers 2xx.
    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        control(&self.addr, method, path, body)
    }

    /// Every per-action call counter (`GET /_emulator/calls`).
    pub fn calls(&self) -> Value {
        self.control("GET", "/_emulator/calls", None)
    }

    /// How many requests reached `action` so far.
    pub fn calls_of(&self, action: &str) -> u64 {
        self.calls()[action].as_u64().unwrap_or(0)
    }
}

/// A minimal HTTP/1.1 JSON call to the control API of the emulator at `addr`; panics unless it
/// answers 2xx. `Value::Null` for an empty or non-JSON answer.
pub fn control(addr: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = control_answer(addr, method, path, body);
    assert!(
        (200..300).contains(&status),
        "{method} {path}: HTTP {status}\n{answer}"
    );
    answer
}

/// Call the control API and return the HTTP status with the JSON answer, whatever the status
/// (e.g. a refused simulated connection answers 403).
pub fn control_answer(addr: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = TcpStream::connect(addr).expect("connect to the emulator");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    let (head, payload) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("an HTTP status line");
    let json = serde_json::from_str(&decode_chunked(head, payload)).unwrap_or(Value::Null);
    (status, json)
}

fn decode_chunked(head: &str, payload: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return payload.to_string();
    }
    let mut out = String::new();
    let mut rest = payload;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

/// The access key (and so the emulator account) [`aws_env`] gives the operator.
pub const OPERATOR_ACCESS_KEY: &str = "AKIDE2ETEST";

/// Environment for a process (the operator) whose AWS SDK talks to the emulator at `addr`:
/// fake credentials of account `AKIDE2ETEST`, [`REGION`], no instance metadata.
pub fn aws_env(addr: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL_EC2", format!("http://{addr}")),
        ("AWS_ENDPOINT_URL_ACM", format!("http://{addr}")),
        ("AWS_ACCESS_KEY_ID", OPERATOR_ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", "e2e-secret".to_string()),
        ("AWS_REGION", REGION.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// An in-process AWS SDK configuration for the emulator at `url` in [`REGION`], as account
/// `access_key` (the emulator keeps accounts apart by access key; signatures are not checked).
/// Default retries: adjust with `.to_builder()`.
pub async fn sdk_config(url: &str, access_key: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            access_key,
            "emulator-secret",
            None,
            None,
            "static",
        ))
        .endpoint_url(url)
        .load()
        .await
}
