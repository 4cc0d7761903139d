//! The adapter tests' emulator: the shared launcher of `tests/support/` with tiny lifecycle
//! delays (a `deleted` endpoint stays visible 800 ms), plus the control calls these tests use.

use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "../support/emulator.rs"]
mod shared;

pub use shared::{REGION, sdk_config};

/// Lifecycle delays of a few tens of milliseconds.
const FLAGS: &[&str] = &[
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

/// One emulator process per test, so call counters belong to that test.
pub struct Emulator(shared::Emulator);

impl Emulator {
    pub fn start() -> Self {
        Self(shared::Emulator::start(FLAGS))
    }

    /// Without AWS's request-rate buckets, for a test that creates more objects at once than
    /// AWS's mutating bucket holds (200) and is about something else.
    pub fn start_unthrottled() -> Self {
        let flags = [FLAGS, &["--request-rate-limits", "off"]].concat();
        Self(shared::Emulator::start(&flags))
    }

    pub fn url(&self) -> String {
        self.0.url()
    }

    /// A call to the control API; panics unless it answers 2xx.
    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.0.control(method, path, body)
    }

    /// How many requests reached `action` since the start or the last [`Self::reset_calls`].
    pub fn calls(&self, action: &str) -> u64 {
        self.0.calls_of(action)
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
