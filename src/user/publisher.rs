//! Publishing an endpoint's revocation list: one task per endpoint that coalesces the
//! revocations arriving within `--revocation-batch-window` into one import (every import resets
//! the endpoint's sessions), builds the full list from the durable record, imports it, waits
//! until AWS shows it `active`, then terminates the revoked users' live sessions. Users waiting
//! for it are reconciled as soon as it is done.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc::UnboundedSender;
use kube::runtime::reflector::ObjectRef;
use tracing::{info, warn};

use super::record::{MAX_CRL_ENTRIES, Published, serial_text};
use super::secrets::client_ca;
use super::view::EndpointView;
use super::{Context, Error, now_unix, patch_endpoint_access, rfc3339};
use crate::api::{ClientVpnUser, RevocationListStatus};
use crate::certificates::{RevokedSerial, sign_crl};
use crate::cloud::{CRL_ACTIVE, ErrorKind};
use crate::runtime::{Notice, ObjectHandle};

/// The endpoint a list is published for.
#[derive(Clone, Debug)]
pub struct Target {
    pub endpoint: ObjectHandle,
    pub view: EndpointView,
}

/// A user waiting for a list: reconciled when it is published; its sessions are terminated
/// when `common_name` is set (a revocation, not a renewal).
#[derive(Clone, Debug)]
pub struct Waiter {
    pub user: ObjectRef<ClientVpnUser>,
    pub uid: String,
    pub common_name: Option<String>,
}

/// What the last publication did for one user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub imported_at: i64,
    pub active_at: i64,
    pub terminated: u32,
}

/// Why publishing stopped until something changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
}

#[derive(Default)]
struct EndpointState {
    running: bool,
    again: bool,
    target: Option<Target>,
    waiters: HashMap<String, Waiter>,
    refusal: Option<Refusal>,
    outcomes: HashMap<String, Outcome>,
}

/// Settings of publication.
#[derive(Clone, Copy, Debug)]
pub struct PublishSettings {
    /// Revocations arriving within this window go into one import.
    pub batch_window: Duration,
    /// nextUpdate of each list, from its signing.
    pub crl_validity: Duration,
}

impl PublishSettings {
    /// A list is re-signed and re-imported once a sixth of its validity remains.
    pub fn refresh_before(&self) -> i64 {
        i64::try_from(self.crl_validity.as_secs() / 6).unwrap_or(i64::MAX)
    }
}

/// The per-endpoint publication tasks.
pub struct Publisher {
    endpoints: Mutex<HashMap<String, EndpointState>>,
    trigger: UnboundedSender<ObjectRef<ClientVpnUser>>,
}

impl Publisher {
    /// Users to reconcile after a publication are sent to `trigger`.
    pub fn new(trigger: UnboundedSender<ObjectRef<ClientVpnUser>>) -> Self {
        Self {
            endpoints: Mutex::new(HashMap::new()),
            trigger,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, EndpointState>> {
        self.endpoints.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ask for a list to be published for `target` (coalesced with every other request within
    /// the batch window), with `waiter` to reconcile afterwards.
    pub fn request(self: &Arc<Self>, ctx: &Arc<Context>, target: Target, waiter: Option<Waiter>) {
        let key = target.endpoint.key();
        let mut endpoints = self.lock();
        let state = endpoints.entry(key.clone()).or_default();
        state.target = Some(target);
        if let Some(waiter) = waiter {
            state.waiters.insert(waiter.uid.clone(), waiter);
        }
        state.again = true;
        if !state.running {
            state.running = true;
            let (publisher, ctx) = (self.clone(), ctx.clone());
            tokio::spawn(async move { publisher.run(ctx, key).await });
        }
    }

    /// Why publication for the endpoint `namespace/name` is refused, if it is.
    pub fn refusal(&self, endpoint_key: &str) -> Option<Refusal> {
        self.lock().get(endpoint_key)?.refusal.clone()
    }

    /// What the last publication did for user `uid` of `endpoint_key`.
    pub fn outcome(&self, endpoint_key: &str, uid: &str) -> Option<Outcome> {
        self.lock().get(endpoint_key)?.outcomes.get(uid).copied()
    }

    /// Whether a publication task runs for the endpoint `namespace/name`.
    pub fn is_running(&self, endpoint_key: &str) -> bool {
        self.lock().get(endpoint_key).is_some_and(|s| s.running)
    }

    /// Forget a deleted user.
    pub fn forget(&self, endpoint_key: &str, uid: &str) {
        if let Some(state) = self.lock().get_mut(endpoint_key) {
            state.outcomes.remove(uid);
            state.waiters.remove(uid);
        }
    }

    async fn run(self: Arc<Self>, ctx: Arc<Context>, key: String) {
        let mut retry = Duration::from_secs(1);
        loop {
            tokio::time::sleep(ctx.settings.publish.batch_window).await;
            let (target, waiters) = {
                let mut endpoints = self.lock();
                let state = endpoints.entry(key.clone()).or_default();
                state.again = false;
                let waiters: Vec<Waiter> = state.waiters.drain().map(|(_, w)| w).collect();
                (state.target.clone(), waiters)
            };
            let Some(target) = target else { break };
            let result = publish(&ctx, &target, &waiters).await;
            if self.settle(&key, result, &waiters) {
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(60));
                continue;
            }
            retry = Duration::from_secs(1);
            for waiter in &waiters {
                let _ = self.trigger.unbounded_send(waiter.user.clone());
            }
            let mut endpoints = self.lock();
            let state = endpoints.entry(key.clone()).or_default();
            if !state.again {
                state.running = false;
                break;
            }
        }
    }

    /// Record a publication's result; true when it must be retried (the waiters kept).
    fn settle(
        &self,
        key: &str,
        result: Result<Vec<(String, Outcome)>, Failure>,
        waiters: &[Waiter],
    ) -> bool {
        let mut endpoints = self.lock();
        let state = endpoints.entry(key.to_string()).or_default();
        match result {
            Ok(outcomes) => {
                state.refusal = None;
                state.outcomes.extend(outcomes);
                false
            }
            Err(Failure::Refused(refusal)) => {
                state.refusal = Some(refusal);
                false
            }
            Err(Failure::Retry(err)) => {
                warn!(endpoint = %key, error = %crate::telemetry::error_chain(&err), "publishing the revocation list failed; retrying");
                for waiter in waiters {
                    state
                        .waiters
                        .entry(waiter.uid.clone())
                        .or_insert_with(|| waiter.clone());
                }
                state.again = true;
                true
            }
        }
    }
}

enum Failure {
    Refused(Refusal),
    Retry(Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        match err.kind() {
            ErrorKind::Terminal | ErrorKind::Quota => Failure::Refused(Refusal {
                reason: "RevocationListRefused",
                message: crate::runtime::ReconcileError::report(&err),
            }),
            _ => Failure::Retry(err),
        }
    }
}

/// One publication: build, import, wait for `active`, terminate; the outcome per waiter.
async fn publish(
    ctx: &Context,
    target: &Target,
    waiters: &[Waiter],
) -> Result<Vec<(String, Outcome)>, Failure> {
    let handle = &target.endpoint;
    let (Some(id), Some(region)) = (target.view.id.as_deref(), target.view.region.as_deref())
    else {
        return Err(Failure::Refused(Refusal {
            reason: "WaitingForEndpoint",
            message: "the endpoint has no AWS ID yet".into(),
        }));
    };
    let ca = client_ca(ctx, &handle.namespace, &target.view).await?;
    let Some(signer) = ca.signer.as_ref() else {
        return Err(Failure::Refused(Refusal {
            reason: "NotRevocable",
            message: "the operator cannot read the endpoint's client CA key, so it cannot sign a revocation list".into(),
        }));
    };
    let now = now_unix();
    let record = ctx
        .records
        .update(handle, None, |record| record.prune(now))
        .await?;
    let due = record.due(now);
    if due.len() > MAX_CRL_ENTRIES {
        return Err(Failure::Refused(Refusal {
            reason: "RevocationListFull",
            message: format!(
                "{} revoked certificates have not expired yet; AWS takes at most {MAX_CRL_ENTRIES} per revocation list (not adjustable). Nothing was dropped: shorten user certificate validity, or move users to a new endpoint/CA",
                due.len()
            ),
        }));
    }
    let revoked: Vec<RevokedSerial> = due
        .iter()
        .map(|e| RevokedSerial {
            serial: serial_text(&e.serial),
            revoked_at: e.revoke_at,
        })
        .collect();
    let entries = revoked.len();
    let crl_number = record.published.crl_number + 1;
    let validity = i64::try_from(ctx.settings.publish.crl_validity.as_secs()).unwrap_or(i64::MAX);
    let next_update = now.saturating_add(validity);
    let pem = sign_crl(signer, &revoked, now, next_update, crl_number).map_err(Error::Issue)?;
    ctx.access
        .import_crl(region, id, &pem)
        .await
        .map_err(Error::from)?;
    let imported_at = now_unix();
    let built = record.revision;
    ctx.records
        .update(handle, Some(&pem), |record| {
            if record.published.crl_number >= crl_number {
                return false;
            }
            record.published = Published {
                revision: built,
                at: now,
                next_update,
                crl_number,
                active: false,
            };
            true
        })
        .await?;
    wait_until_active(ctx, region, id, &pem).await?;
    let active_at = now_unix();
    ctx.records
        .update(handle, None, |record| {
            let current = record.published.crl_number == crl_number && !record.published.active;
            if current {
                record.published.active = true;
            }
            current
        })
        .await?;
    let terminated = terminate_sessions(ctx, region, id, waiters).await?;
    info!(endpoint = %handle.key(), entries, crl_number, "revocation list active");
    let status = RevocationListStatus {
        entries: u32::try_from(entries).unwrap_or(u32::MAX),
        crl_number,
        imported_at: rfc3339(imported_at),
        next_update: rfc3339(next_update),
    };
    patch_endpoint_access(ctx, handle, "revocationList", &status).await?;
    ctx.runtime
        .metrics
        .crl_imported(&handle.namespace, &handle.name, entries, next_update);
    let note = format!(
        "revocation list {crl_number} with {entries} revoked serials imported and active (nextUpdate {}); AWS resets the endpoint's sessions on every import",
        status.next_update.as_deref().unwrap_or("?")
    );
    ctx.runtime
        .cluster
        .publish(
            handle,
            Notice::normal("RevocationListImported", "ImportRevocationList", note),
        )
        .await;
    Ok(waiters
        .iter()
        .map(|w| {
            let count = w
                .common_name
                .as_ref()
                .and_then(|cn| terminated.get(cn))
                .copied()
                .unwrap_or(0);
            (
                w.uid.clone(),
                Outcome {
                    imported_at,
                    active_at,
                    terminated: count,
                },
            )
        })
        .collect())
}

/// Poll `Export…RevocationList` until it shows this list `active` (AWS applies it
/// asynchronously): 200 ms at first, doubling to 10 s.
async fn wait_until_active(ctx: &Context, region: &str, id: &str, pem: &str) -> Result<(), Error> {
    let ours = compact(pem);
    let mut delay = Duration::from_millis(200);
    loop {
        let exported = ctx.access.export_crl(region, id).await?;
        let same = exported.pem.as_deref().map(compact) == Some(ours.clone());
        if same && exported.status.as_deref() == Some(CRL_ACTIVE) {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

fn compact(pem: &str) -> String {
    pem.split_whitespace().collect()
}

/// Terminate the live sessions of the waiters revoked (by CN; certificate authentication has no
/// username): sessions terminated per CN.
async fn terminate_sessions(
    ctx: &Context,
    region: &str,
    id: &str,
    waiters: &[Waiter],
) -> Result<HashMap<String, u32>, Error> {
    let mut terminated = HashMap::new();
    let names: Vec<&str> = waiters
        .iter()
        .filter_map(|w| w.common_name.as_deref())
        .collect();
    if names.is_empty() {
        return Ok(terminated);
    }
    let connections = ctx.access.describe_connections(region, id).await?;
    for connection in connections.iter().filter(|c| c.is_active()) {
        let Some(cn) = connection
            .common_name
            .as_deref()
            .filter(|cn| names.contains(cn))
        else {
            continue;
        };
        match ctx
            .access
            .terminate_connection(region, id, &connection.connection_id)
            .await
        {
            Ok(()) => *terminated.entry(cn.to_string()).or_insert(0) += 1,
            // Ended meanwhile (the import itself resets sessions).
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(err.into()),
        }
    }
    ctx.connections.invalidate(id);
    Ok(terminated)
}
