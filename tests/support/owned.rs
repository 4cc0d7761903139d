//! A process owned by the test process, for the launchers in `tests/support/` (the emulator,
//! the cert-manager controller): it is started through a small watcher shell that kills it when
//! the test process goes away (even on SIGKILL); dropping the [`Owned`] stops it too.
//!
//! Its log is removed when the handle is dropped normally and kept (its path printed) when the
//! thread is panicking, i.e. the test failed, or always with [`Owned::keep_log`].
//!
//! Include it from a launcher with `#[path = "owned.rs"] mod owned;`.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

/// What goes to the log, and how the process is stopped.
pub enum Output {
    /// stderr to the log, stdout piped to the test (e.g. for an address the process prints
    /// first). Stopping signals the process and does not wait for it to exit.
    Piped,
    /// stdout and stderr to the log, no stdin. Stopping signals the process and waits until it
    /// has exited.
    Logged,
}

/// One running process, owned by this test process; stopped when dropped.
pub struct Owned {
    what: &'static str,
    watcher: Child,
    log: PathBuf,
    keep_log: bool,
}

impl Owned {
    /// Start `binary args...` through the watcher, appending its output to `log` as `output`
    /// says; `what` names it in messages.
    pub fn spawn(
        what: &'static str,
        binary: &Path,
        args: &[String],
        log: PathBuf,
        output: Output,
    ) -> Self {
        // The watcher runs the process, and kills it when the owner (this process) is gone or
        // when the watcher itself is told to stop.
        let (run, stop) = match output {
            Output::Piped => (r#""$@" 2>>"$log""#, "kill $child 2>/dev/null"),
            Output::Logged => (
                r#""$@" >>"$log" 2>&1"#,
                "kill $child 2>/dev/null; wait $child 2>/dev/null",
            ),
        };
        let script = format!(
            r#"owner=$1; shift; log=$1; shift
{run} & child=$!
trap '{stop}' EXIT TERM
while kill -0 "$owner" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.2; done"#
        );
        let (stdin, stdout) = match output {
            Output::Piped => (Stdio::inherit(), Stdio::piped()),
            Output::Logged => (Stdio::null(), Stdio::inherit()),
        };
        let watcher = Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg("owned")
            .arg(std::process::id().to_string())
            .arg(&log)
            .arg(binary)
            .args(args)
            .stdin(stdin)
            .stdout(stdout)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Self {
            what,
            watcher,
            log,
            keep_log: false,
        }
    }

    /// Keep the log even when the handle is dropped normally.
    pub fn keep_log(mut self) -> Self {
        self.keep_log = true;
        self
    }

    /// The process's stdout ([`Output::Piped`]); once.
    pub fn stdout(&mut self) -> ChildStdout {
        self.watcher.stdout.take().expect("stdout is piped")
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status, once the process (and so the watcher) has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.watcher.try_wait().ok().flatten()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.watcher.try_wait(), Ok(None))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SIGTERM to the watcher: its trap stops the process, then it exits.
        let _ = Command::new("kill")
            .arg(self.watcher.id().to_string())
            .status();
        let _ = self.watcher.wait();
        if std::thread::panicking() {
            eprintln!("{} log: {}", self.what, self.log.display());
        } else if !self.keep_log {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
