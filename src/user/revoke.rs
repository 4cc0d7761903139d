//! Revocation: the user's serials go on the endpoint's durable record, the publisher imports a
//! list holding them, and the user reports each step (recorded, imported, active, sessions
//! terminated). Also starts a publication when a superseded certificate's grace period ended or
//! the list nears its nextUpdate.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::reflector::ObjectRef;

use super::publisher::{Outcome, Refusal, Target, Waiter};
use super::reconcile::User;
use super::record::serial_bytes;
use super::secrets::{client_ca, fresh_held, held};
use super::status::{Facts, Report};
use super::view::EndpointView;
use super::{Context, Error, now_unix, rfc3339};
use crate::api::RevocationStatus;
use crate::runtime::ObjectHandle;
use crate::runtime::conditions::Standing;

/// How soon a user waiting for its list looks again (the publisher wakes it sooner).
const WAITING: Duration = Duration::from_secs(2);
/// How soon a refused publication is looked at again.
const REFUSED: Duration = Duration::from_secs(300);

/// Where a user's revocation stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// No certificate was ever issued or brought.
    NothingIssued,
    /// The operator holds no key of the CA that signed it.
    NotRevocable,
    /// On the record; the list holding it is not imported (false) or not active yet (true).
    Pending { imported: bool },
    /// On the endpoint's active list.
    Done,
    /// The list cannot be published.
    Refused(Refusal),
}

/// A user's revocation.
#[derive(Clone, Debug)]
pub struct Revocation {
    pub serial: Option<String>,
    pub stage: Stage,
    pub requested_at: Option<i64>,
    pub outcome: Option<Outcome>,
    pub crl_number: u64,
}

impl Revocation {
    /// The report, and how soon to look again while something is in progress.
    pub fn report(&self, user: &User<'_>) -> (Report, Option<Duration>) {
        let serial = self.serial.as_deref().unwrap_or("?");
        match &self.stage {
            Stage::NothingIssued => (
                Report::new(
                    Standing::NotReady,
                    "Revoked",
                    "no certificate was issued: nothing to revoke",
                ),
                None,
            ),
            Stage::NotRevocable => (
                Report::new(
                    Standing::Stalled,
                    "NotRevocable",
                    format!(
                        "certificate {serial} cannot be revoked by the operator: it does not hold the key of the CA that signed it; revoke it with that CA"
                    ),
                ),
                None,
            ),
            Stage::Pending { imported } => {
                let step = if *imported {
                    "imported; waiting for AWS to show the list active"
                } else {
                    "recorded; the revocation list is being built and imported"
                };
                (
                    Report::new(
                        Standing::Reconciling,
                        "Revoking",
                        format!("certificate {serial} of {}: {step}", user.common_name),
                    ),
                    Some(WAITING),
                )
            }
            Stage::Done => {
                let terminated = self.outcome.map_or(0, |o| o.terminated);
                (
                    Report::new(
                        Standing::NotReady,
                        "Revoked",
                        format!(
                            "certificate {serial} is on the endpoint's active revocation list (number {}); {terminated} live sessions terminated (every list import also resets the endpoint's sessions)",
                            self.crl_number
                        ),
                    ),
                    None,
                )
            }
            Stage::Refused(refusal) => (
                Report::new(Standing::Stalled, refusal.reason, refusal.message.clone()),
                Some(REFUSED),
            ),
        }
    }

    pub fn record_in(&self, facts: &mut Facts) {
        facts.revoked = Some(self.stage == Stage::Done);
        let Some(serial) = &self.serial else { return };
        let done = self.stage == Stage::Done;
        facts.revocation = Some(RevocationStatus {
            serial: serial.clone(),
            requested_at: self.requested_at.and_then(rfc3339),
            crl_imported_at: self.outcome.and_then(|o| rfc3339(o.imported_at)),
            crl_active_at: self
                .outcome
                .filter(|_| done)
                .and_then(|o| rfc3339(o.active_at)),
            sessions_terminated: self.outcome.filter(|_| done).map(|o| o.terminated),
        });
    }
}

/// Revoke every certificate the user was given on this endpoint.
pub async fn revoke(
    ctx: &Arc<Context>,
    user: &User<'_>,
    view: &EndpointView,
    endpoint: &ObjectHandle,
) -> Result<Revocation, Error> {
    let mut serials = known_serials(ctx, user);
    if serials.is_empty()
        && let Some(h) = fresh_held(ctx, &user.handle.namespace, &user.secret_name).await?
    {
        // A certificate issued moments ago may not be in the Secret cache or this copy of the
        // user yet: "nothing issued" is never decided on the caches' word alone.
        serials.push((h.serial, h.not_after));
    }
    let mut revocation = Revocation {
        serial: serials.first().map(|(s, _)| s.clone()),
        stage: Stage::NothingIssued,
        requested_at: None,
        outcome: None,
        crl_number: 0,
    };
    if serials.is_empty() {
        return Ok(revocation);
    }
    let revocable = user.obj.status.as_ref().and_then(|s| s.revocable) != Some(false)
        && client_ca(ctx, &user.handle.namespace, view)
            .await?
            .signer
            .is_some();
    if !revocable {
        revocation.stage = Stage::NotRevocable;
        return Ok(revocation);
    }
    let now = now_unix();
    let bytes: Vec<(Vec<u8>, i64)> = serials
        .iter()
        .filter_map(|(s, not_after)| Some((serial_bytes(s)?, *not_after)))
        .collect();
    let record = ctx
        .records
        .update(endpoint, None, |record| {
            bytes.iter().fold(false, |changed, (serial, not_after)| {
                record.revoke(serial, *not_after, now) | changed
            })
        })
        .await?;
    let states: Vec<Option<bool>> = bytes.iter().map(|(s, _)| record.published(s)).collect();
    revocation.requested_at = bytes
        .iter()
        .filter_map(|(s, _)| record.entry(s).map(|e| e.revoke_at))
        .min();
    revocation.crl_number = record.published.crl_number;
    let key = user.endpoint_key();
    revocation.outcome = ctx.publisher.outcome(&key, &user.uid);
    revocation.stage = if states.iter().all(|s| *s == Some(true)) {
        Stage::Done
    } else if let Some(refusal) = ctx.publisher.refusal(&key) {
        Stage::Refused(refusal)
    } else {
        let imported = states.iter().all(Option::is_some);
        if !imported || !ctx.publisher.is_running(&key) {
            let waiter = Waiter {
                user: ObjectRef::from_obj(user.obj),
                uid: user.uid.clone(),
                common_name: Some(user.common_name.clone()),
            };
            let target = Target {
                endpoint: endpoint.clone(),
                view: view.clone(),
            };
            ctx.publisher.request(ctx, target, Some(waiter));
        }
        Stage::Pending { imported }
    };
    Ok(revocation)
}

/// Publish when the record says so (a grace period ended, the list nears nextUpdate); how
/// soon it will next say so.
pub async fn publish_if_due(
    ctx: &Arc<Context>,
    view: &EndpointView,
    endpoint: &ObjectHandle,
) -> Result<Option<Duration>, Error> {
    let record = ctx.record(&endpoint.namespace, &view.name).await?;
    let refresh_before = ctx.settings.publish.refresh_before();
    let now = now_unix();
    if record.publish_reason(now, refresh_before).is_some()
        && !ctx.publisher.is_running(&endpoint.key())
    {
        let target = Target {
            endpoint: endpoint.clone(),
            view: view.clone(),
        };
        ctx.publisher.request(ctx, target, None);
    }
    let refresh = (record.published.revision > 0)
        .then(|| record.published.next_update.saturating_sub(refresh_before));
    let next = [record.next_due_after(now), refresh]
        .into_iter()
        .flatten()
        .filter(|at| *at > now)
        .min();
    Ok(next.map(|at| Duration::from_secs(u64::try_from(at - now).unwrap_or(0))))
}

/// Every serial the user's Secret or status names, with its notAfter.
fn known_serials(ctx: &Context, user: &User<'_>) -> Vec<(String, i64)> {
    let mut serials = Vec::new();
    if let Some(h) = ctx
        .secret_meta(&user.handle.namespace, &user.secret_name)
        .and_then(|meta| held(&meta))
    {
        serials.push((h.serial, h.not_after));
    }
    if let Some(status) = &user.obj.status
        && let Some(serial) = &status.serial
        && serials.iter().all(|(s, _)| s != serial)
    {
        let not_after = status
            .not_after
            .as_deref()
            .and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok())
            .map_or(i64::MAX, |t| t.as_second());
        serials.push((serial.clone(), not_after));
    }
    serials
}
