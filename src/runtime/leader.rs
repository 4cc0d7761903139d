//! Leader election with a `coordination.k8s.io/v1` Lease (kube-lease-manager), so that only one
//! replica reconciles and calls AWS.
//!
//! [`Leadership::start`] creates the Lease if needed and competes for it in the background.
//! [`Leadership::acquired`] waits until this replica holds it; the controller then runs until
//! [`Leadership::lost`] resolves, after which the process must stop reconciling (it exits, and
//! Kubernetes restarts it as a standby). On shutdown, [`Leadership::release`] gives the Lease up
//! so that a standby takes over at once instead of after the lease duration.
//!
//! kube-lease-manager renews the Lease `grace` seconds before it expires, but when the API server
//! cannot be reached it only logs and retries: it never reports the lock as lost. So [`lost`]
//! also watches the Lease itself and gives up leadership when it has not seen a renewal by this
//! replica for `duration - grace / 2` (a standby may take over `duration` after the last renewal).
//!
//! [`lost`]: Leadership::lost

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Client;
use kube::api::Api;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder, LeaseManagerError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};
use tracing::{debug, info, warn};

/// Shortest lease duration accepted (kube-lease-manager needs `0 < grace < duration`, in seconds).
pub const MIN_LEASE_DURATION: Duration = Duration::from_secs(3);

/// How long [`Leadership::release`] waits for the Lease to be given up.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which Lease, and who we are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    /// Lease name (the chart's default: `clientvpn-operator`).
    pub name: String,
    /// Namespace of the Lease (the operator's own namespace).
    pub namespace: String,
    /// Holder identity written to the Lease; unique per replica (the pod name).
    pub identity: String,
    /// How long a lease stays valid without renewal: the longest a standby waits after the
    /// leader dies without releasing it.
    pub duration: Duration,
}

impl LeaseConfig {
    /// Renewal margin: the holder renews this long before the lease expires (a third of the
    /// duration, at least one second).
    pub fn grace(&self) -> Duration {
        Duration::from_secs((self.duration.as_secs() / 3).max(1))
    }

    /// Give up leadership when no renewal has been seen for this long.
    fn renew_deadline(&self) -> Duration {
        self.duration.saturating_sub(self.grace() / 2)
    }

    /// How often [`Leadership::lost`] reads the Lease.
    fn check_interval(&self) -> Duration {
        (self.grace() / 4).max(Duration::from_millis(250))
    }
}

/// This replica's part in the election.
pub struct Leadership {
    config: LeaseConfig,
    api: Api<Lease>,
    state: watch::Receiver<bool>,
    task: JoinHandle<Result<LeaseManager, LeaseManagerError>>,
}

impl Leadership {
    /// Create the Lease if it does not exist and start competing for it.
    pub async fn start(client: Client, config: LeaseConfig) -> Result<Self, String> {
        let seconds = config.duration.as_secs();
        if config.duration < MIN_LEASE_DURATION {
            return Err(format!(
                "the lease duration must be at least {}s, got {}s",
                MIN_LEASE_DURATION.as_secs(),
                seconds
            ));
        }
        let manager = LeaseManagerBuilder::new(client.clone(), &config.name)
            .with_namespace(&config.namespace)
            .with_identity(&config.identity)
            .with_field_manager(format!("clientvpn-operator-{}", config.identity))
            .with_duration(seconds)
            .with_grace(config.grace().as_secs())
            .build()
            .await
            .map_err(|e| {
                format!(
                    "cannot use the lease {}/{}: {e}",
                    config.namespace, config.name
                )
            })?;
        let (state, task) = manager.watch().await;
        info!(
            lease = %format!("{}/{}", config.namespace, config.name),
            identity = %config.identity,
            duration_seconds = seconds,
            "leader election started"
        );
        Ok(Self {
            api: Api::namespaced(client, &config.namespace),
            config,
            state,
            task,
        })
    }

    /// Wait until this replica holds the Lease. An error means the election stopped.
    pub async fn acquired(&mut self) -> Result<(), String> {
        self.state
            .wait_for(|leader| *leader)
            .await
            .map(|_| ())
            .map_err(|_| "the leader election task stopped".to_string())?;
        info!(identity = %self.config.identity, "became leader");
        Ok(())
    }

    /// Resolves, with the reason, when this replica is no longer (or can no longer prove that
    /// it is) the leader. Call after [`acquired`](Self::acquired).
    pub async fn lost(&mut self) -> String {
        let deadline = self.config.renew_deadline();
        let mut last_renew_time = None;
        let mut last_renewal_seen = Instant::now();
        loop {
            tokio::select! {
                changed = self.state.changed() => {
                    match changed {
                        Ok(()) if *self.state.borrow() => continue,
                        Ok(()) => return "the lease was taken over".into(),
                        Err(_) => return "the leader election task stopped".into(),
                    }
                }
                _ = sleep(self.config.check_interval()) => {}
            }
            match self.api.get_opt(&self.config.name).await {
                Ok(Some(lease)) => {
                    let spec = lease.spec.unwrap_or_default();
                    let holder = spec.holder_identity.unwrap_or_default();
                    if holder != self.config.identity {
                        return format!("the lease is held by {holder:?}");
                    }
                    if spec.renew_time != last_renew_time {
                        last_renew_time = spec.renew_time;
                        last_renewal_seen = Instant::now();
                    }
                }
                Ok(None) => return "the lease was deleted".into(),
                Err(err) => debug!(error = %err, "cannot read the lease"),
            }
            let since = last_renewal_seen.elapsed();
            if since > deadline {
                return format!(
                    "the lease has not been renewed for {}s (renew deadline {}s)",
                    since.as_secs(),
                    deadline.as_secs()
                );
            }
        }
    }

    /// Give the Lease up if we hold it (on shutdown), waiting a few seconds at most.
    pub async fn release(self) {
        let Self { state, task, .. } = self;
        // Closing the channel makes the manager release the lock and stop.
        drop(state);
        match tokio::time::timeout(RELEASE_TIMEOUT, task).await {
            Ok(Ok(Ok(_))) => info!("lease released"),
            Ok(Ok(Err(err))) => warn!(error = %err, "releasing the lease failed"),
            Ok(Err(err)) => warn!(error = %err, "the leader election task failed"),
            Err(_) => warn!("releasing the lease timed out"),
        }
    }
}

/// A holder identity for this process: the pod name when given, else `<hostname>-<pid>`.
pub fn identity(instance: Option<&str>) -> String {
    match instance {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => {
            let host = std::env::var("HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .or_else(|| {
                    std::fs::read_to_string("/etc/hostname")
                        .ok()
                        .map(|h| h.trim().to_string())
                        .filter(|h| !h.is_empty())
                })
                .unwrap_or_else(|| "clientvpn-operator".into());
            format!("{host}-{}", std::process::id())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seconds: u64) -> LeaseConfig {
        LeaseConfig {
            name: "clientvpn-operator".into(),
            namespace: "clientvpn-system".into(),
            identity: "pod-a".into(),
            duration: Duration::from_secs(seconds),
        }
    }

    #[test]
    fn timings_leave_room_to_renew_before_a_standby_may_take_over() {
        for seconds in [3, 6, 15, 60] {
            let c = config(seconds);
            let renew_every = c.duration - c.grace();
            assert!(c.grace() >= Duration::from_secs(1) && c.grace() < c.duration);
            // A renewal is normally seen within one renew period plus one check.
            assert!(
                renew_every + c.check_interval() < c.renew_deadline(),
                "{seconds}s"
            );
            // We give up (at the latest one check after the deadline) before the lease expires.
            assert!(
                c.renew_deadline() + c.check_interval() <= c.duration,
                "{seconds}s"
            );
        }
    }

    #[test]
    fn identity_prefers_the_pod_name() {
        assert_eq!(identity(Some("op-7f9c")), "op-7f9c");
        let fallback = identity(None);
        assert!(
            fallback.ends_with(&format!("-{}", std::process::id())),
            "{fallback}"
        );
        assert_eq!(identity(Some("")), fallback);
    }
}
