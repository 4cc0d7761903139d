//! The emulator process and its control API (`/_emulator/...`), the one place the adapter tests
//! start it (to be swapped for the shared launcher in `tests/support/`).
//!
//! The binary comes from `CLIENTVPN_EMULATOR_BIN`, else it is built with cargo into
//! `$CARGO_TARGET_DIR` (default `<repo>/target`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

/// Lifecycle delays of a few tens of milliseconds; a `deleted` endpoint stays visible 800 ms.
const FLAGS: &[&str] = &[
    "--listen",
    "127.0.0.1:0",
    "--association-delay-ms",
    "100",
    "--rule-delay-ms",
    "50",
    "--route-delay-ms",
    "50",
    "--delete-delay-ms",
    "100",
    "--deleted-visible-ms",
    "800",
];

/// Runs `"$@"` with stderr to `$log` and stops it when the owner PID or the shell goes away.
const WATCHER: &str = r#"owner=$1; shift; log=$1; shift
"$@" 2>"$log" & child=$!
trap 'kill $child 2>/dev/null' EXIT TERM
while kill -0 "$owner" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.2; done"#;

/// The emulator binary: `CLIENTVPN_EMULATOR_BIN`, else built once with cargo.
fn emulator_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("CLIENTVPN_EMULATOR_BIN") {
            return PathBuf::from(bin);
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "clientvpn-emulator"])
            .args(["--bin", "clientvpn-emulator"])
            .current_dir(repo)
            .output()
            .expect("run cargo build for the emulator");
        assert!(
            out.status.success(),
            "building clientvpn-emulator failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("target"))
            .join("debug/clientvpn-emulator")
    })
}

/// One emulator process, owned by this test binary: a shell watches our PID and kills the
/// emulator when we go away (even on SIGKILL); dropping the handle stops it too.
pub struct Emulator {
    addr: String,
    watcher: Child,
    /// The emulator's stderr; kept when the test fails.
    log: PathBuf,
}

impl Emulator {
    pub fn start() -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let log = std::env::temp_dir().join(format!(
            "clientvpn-adapter-{}-{}.log",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let mut watcher = Command::new("bash")
            .args(["-c", WATCHER, "owned"])
            .arg(std::process::id().to_string())
            .arg(&log)
            .arg(emulator_bin())
            .args(FLAGS)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the emulator");
        // The emulator prints its address on its first line.
        let stdout = watcher.stdout.take().expect("stdout");
        let first_line = BufReader::new(stdout).lines().next();
        let addr = first_line.and_then(Result::ok).unwrap_or_default();
        assert!(
            addr.starts_with("127.0.0.1:"),
            "unexpected emulator address {addr:?}; log in {}",
            log.display()
        );
        Self { addr, watcher, log }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A call to the control API; panics unless it answers 2xx. Answers are JSON
    /// (`Content-Length`, never chunked).
    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = [
            format!("{method} {path} HTTP/1.1"),
            format!("Host: {}", self.addr),
            "Content-Type: application/json".into(),
            format!("Content-Length: {}", body.len()),
            "Connection: close".into(),
            String::new(),
            body,
        ]
        .join("\r\n");
        let mut stream = TcpStream::connect(&self.addr).expect("connect to the emulator");
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let (head, payload) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        let ok = head.starts_with("HTTP/1.1 2") && !head.to_ascii_lowercase().contains("chunked");
        assert!(ok, "{method} {path}: {head}\n{payload}");
        serde_json::from_str(payload).unwrap_or(Value::Null)
    }

    /// How many requests reached `action` since the start or the last [`Self::reset_calls`].
    pub fn calls(&self, action: &str) -> u64 {
        self.control("GET", "/_emulator/calls", None)[action]
            .as_u64()
            .unwrap_or(0)
    }

    pub fn reset_calls(&self) {
        self.control("POST", "/_emulator/calls/reset", None);
    }

    /// The next call of `action` fails with `code` (message `injected <code>`).
    pub fn fail_next(&self, action: &str, code: &str) {
        let rule = json!({"action": action, "code": code, "message": format!("injected {code}")});
        self.control("POST", "/_emulator/faults/fail-next", Some(rule));
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGTERM to the watcher: its trap kills the emulator, then it exits.
        let _ = Command::new("kill")
            .arg(self.watcher.id().to_string())
            .status();
        let _ = self.watcher.wait();
        if std::thread::panicking() {
            eprintln!("emulator log: {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
