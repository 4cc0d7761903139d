//! Versions of objects that a controller's own status writes have replaced.
//!
//! Right after a reconcile writes status, the watch may not have delivered that write yet. The
//! next reconcile (woken by an earlier event, e.g. the finalizer patch or an owned Secret) then
//! reads the copy from before the write and would write the same status again: a wasted API
//! write. A reconcile that starts on such a copy leaves status alone; the write's own watch event
//! brings the next reconcile, which reads the status as written. Only resourceVersion equality
//! is used (versions are opaque), and only versions this controller itself saw replaced.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries older than this are dropped when the map grows (objects deleted without a last look).
const KEEP: Duration = Duration::from_secs(600);
/// Size above which a write sweeps out old entries.
const SWEEP_ABOVE: usize = 1024;

/// Per object UID: the versions older than its last status write by this controller.
#[derive(Default)]
pub struct StaleCopies {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    versions: Vec<String>,
    at: Instant,
}

impl StaleCopies {
    /// Whether `version` of object `uid` is older than a status write of this controller. A
    /// look at any other version means the cache has caught up: the entry goes.
    pub fn is_stale(&self, uid: &str, version: Option<&str>) -> bool {
        let mut entries = self.lock();
        let stale = entries
            .get(uid)
            .zip(version)
            .is_some_and(|(entry, version)| entry.versions.iter().any(|v| v == version));
        if !stale {
            entries.remove(uid);
        }
        stale
    }

    /// A status write of this controller left object `uid` at version `now`: the `versions` its
    /// reconcile saw (the copy it read, what its own earlier writes returned) other than `now`
    /// are older. A write the API server found to change nothing (`now` is the copy's version)
    /// replaced nothing, and a write with no version told is not trusted to have.
    pub fn wrote(&self, uid: &str, versions: &[String], now: Option<&str>) {
        let Some(now) = now else { return };
        let versions: Vec<String> = versions.iter().filter(|v| *v != now).cloned().collect();
        if versions.is_empty() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() > SWEEP_ABOVE {
            entries.retain(|_, entry| entry.at.elapsed() < KEEP);
        }
        let at = Instant::now();
        entries.insert(uid.to_string(), Entry { versions, at });
    }

    /// The object is gone.
    pub fn forget(&self, uid: &str) {
        self.lock().remove(uid);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(list: &[&str]) -> Vec<String> {
        list.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn a_copy_from_before_the_write_is_stale_until_a_newer_one_is_seen() {
        let copies = StaleCopies::default();
        // Copy 1, finalizer patch → 2, status write → 3.
        copies.wrote("u", &versions(&["1", "2"]), Some("3"));
        assert!(copies.is_stale("u", Some("2")));
        assert!(copies.is_stale("u", Some("1")));
        assert!(!copies.is_stale("u", Some("3")));
        // Caught up: the entry is gone, so even a replayed old version is looked at in full.
        assert!(!copies.is_stale("u", Some("2")));
    }

    #[test]
    fn other_objects_and_unknown_versions_are_not_stale() {
        let copies = StaleCopies::default();
        copies.wrote("u", &versions(&["1"]), Some("2"));
        assert!(!copies.is_stale("other", Some("1")));
        assert!(!copies.is_stale("u", None));
    }

    #[test]
    fn a_write_that_changed_nothing_makes_no_copy_stale() {
        let copies = StaleCopies::default();
        // The API server kept version 7: no newer version's event is on its way.
        copies.wrote("u", &versions(&["7"]), Some("7"));
        assert!(!copies.is_stale("u", Some("7")));
        // A finalizer patch then a no-op status write: only the copy before the patch is older.
        copies.wrote("u", &versions(&["7", "8"]), Some("8"));
        assert!(copies.is_stale("u", Some("7")));
        assert!(!copies.is_stale("u", Some("8")));
        // No version told: nothing is trusted to be older.
        copies.wrote("u", &versions(&["8"]), None);
        assert!(!copies.is_stale("u", Some("8")));
    }

    #[test]
    fn forget_drops_the_entry() {
        let copies = StaleCopies::default();
        copies.wrote("u", &versions(&["5"]), Some("6"));
        copies.forget("u");
        assert!(!copies.is_stale("u", Some("5")));
    }
}
