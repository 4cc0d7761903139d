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

    /// A status write of this controller replaced `versions` of object `uid` (the copy the
    /// reconcile read, and what its own earlier writes in that reconcile returned).
    pub fn wrote(&self, uid: &str, versions: Vec<String>) {
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
        copies.wrote("u", versions(&["1", "2"]));
        assert!(copies.is_stale("u", Some("2")));
        assert!(copies.is_stale("u", Some("1")));
        assert!(!copies.is_stale("u", Some("3")));
        // Caught up: the entry is gone, so even a replayed old version is looked at in full.
        assert!(!copies.is_stale("u", Some("2")));
    }

    #[test]
    fn other_objects_and_unknown_versions_are_not_stale() {
        let copies = StaleCopies::default();
        copies.wrote("u", versions(&["1"]));
        assert!(!copies.is_stale("other", Some("1")));
        assert!(!copies.is_stale("u", None));
    }

    #[test]
    fn a_later_write_replaces_the_versions_and_forget_drops_them() {
        let copies = StaleCopies::default();
        copies.wrote("u", versions(&["1"]));
        copies.wrote("u", versions(&["5"]));
        assert!(copies.is_stale("u", Some("5")));
        copies.forget("u");
        assert!(!copies.is_stale("u", Some("5")));
    }
}
