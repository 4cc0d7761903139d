//! One user reconcile: gate (endpoint there, mutual authentication, unique common name) → the
//! certificate → revocation → connections → status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::controller::Action;
use tracing::instrument;

use super::certificate::{self, Held as HeldCertificate};
use super::revoke::{self, Revocation};
use super::status::{self, Facts, Report};
use super::view::EndpointView;
use super::{Context, Error, common_name, now_unix, rfc3339};
use crate::api::{ClientVpnUser, USER_FINALIZER, UserConnections};
use crate::cloud::ErrorKind;
use crate::runtime::conditions::Standing;
use crate::runtime::{
    Attempt, Notice, ObjectHandle, ReconcileError, StatusWrite, add_finalizer, record_outcome,
    remove_finalizer,
};

/// What every step knows about the user.
pub struct User<'a> {
    pub obj: &'a ClientVpnUser,
    pub handle: ObjectHandle,
    pub uid: String,
    /// The common name in effect.
    pub common_name: String,
    /// The Secret the operator writes.
    pub secret_name: String,
    /// The object carried the finalizer when this reconcile began, so an earlier reconcile may
    /// have issued for it (one that adds the finalizer is the first to look at the object).
    pub looked_at_before: bool,
    /// The copy is from before a status write of an earlier reconcile (the watch has not
    /// delivered it yet): status is left alone, the write's own event brings the next look.
    stale_copy: bool,
    /// The object's versions this reconcile has passed through: the copy's, then what its own
    /// finalizer patch returned.
    versions: Vec<String>,
}

impl<'a> User<'a> {
    fn of(obj: &'a ClientVpnUser, ctx: &Context) -> Result<Self, Error> {
        let name = obj.name_any();
        let uid = obj.uid().ok_or(Error::MissingMetadata("metadata.uid"))?;
        let version = obj.resource_version();
        Ok(Self {
            stale_copy: ctx.stale_copies.is_stale(&uid, version.as_deref()),
            versions: version.into_iter().collect(),
            uid,
            handle: ObjectHandle::of(obj),
            common_name: common_name(obj).to_string(),
            secret_name: obj
                .spec
                .secret_name
                .clone()
                .unwrap_or_else(|| format!("{name}-vpn")),
            looked_at_before: obj.finalizers().iter().any(|f| f == USER_FINALIZER),
            obj,
        })
    }

    /// Write the status for these facts when it differs from the object's (and the copy is
    /// not stale).
    pub async fn write_status(
        &self,
        ctx: &Context,
        facts: Facts,
        report: &Report,
    ) -> Result<(), Error> {
        if self.stale_copy {
            return Ok(());
        }
        if let StatusWrite::Written { version } =
            status::write(ctx, self.obj, &self.handle, facts, report).await?
        {
            ctx.stale_copies
                .wrote(&self.uid, &self.versions, version.as_deref());
        }
        Ok(())
    }

    /// `namespace/name` of the endpoint, the key of its per-endpoint state.
    pub fn endpoint_key(&self) -> String {
        format!(
            "{}/{}",
            self.handle.namespace, self.obj.spec.endpoint_ref.name
        )
    }
}

/// Reconcile one user; failures are reported (Warning event, status) and retried with backoff.
#[instrument(skip_all, fields(user = %format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())))]
pub async fn reconcile(obj: Arc<ClientVpnUser>, ctx: Arc<Context>) -> Result<Action, Error> {
    let mut user = User::of(&obj, &ctx)?;
    let attempt = Attempt::of(&obj.metadata);
    let runtime = &ctx.runtime;
    if let Some(wait) = runtime.gate(&user.uid, attempt) {
        return Ok(wait);
    }
    let started = Instant::now();
    let result = reconcile_once(&mut user, &ctx).await;
    let failure = result.as_ref().err().map(|e| (e.kind(), e.category()));
    record_outcome(runtime, &user.uid, attempt, started, failure);
    match &result {
        Ok(_) => {}
        Err(err) => {
            let notice = Notice::warning(err.category(), "ReconcileUser", err.report());
            runtime.cluster.publish(&user.handle, notice).await;
            let standing = match err.kind() {
                ErrorKind::Terminal | ErrorKind::Quota => Standing::Stalled,
                _ => Standing::Reconciling,
            };
            let report = Report::new(standing, err.category(), err.report());
            let _ = user.write_status(&ctx, Facts::default(), &report).await;
        }
    }
    result
}

/// Requeue after a failure: whatever the backoff gate recorded.
pub fn error_policy(obj: Arc<ClientVpnUser>, _err: &Error, ctx: Arc<Context>) -> Action {
    ctx.runtime.retry_after(obj.uid(), Duration::from_secs(5))
}

async fn reconcile_once(user: &mut User<'_>, ctx: &Arc<Context>) -> Result<Action, Error> {
    // Decisions read the endpoint and Secret caches: an empty cache after a restart would say
    // "endpoint gone" and skip a revocation.
    if !ctx.caches_ready().await {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let obj = user.obj;
    let endpoint = ctx.endpoint(&user.handle.namespace, &obj.spec.endpoint_ref.name);
    if obj.metadata.deletion_timestamp.is_some() {
        if !user.looked_at_before {
            return Ok(Action::await_change());
        }
        return finish_deletion(user, ctx, endpoint.as_deref()).await;
    }
    if !user.looked_at_before {
        let version = add_finalizer(ctx.runtime.cluster.as_ref(), &user.handle, USER_FINALIZER)
            .await
            .map_err(|e| Error::Kube("adding the finalizer", e))?;
        user.versions.extend(version);
    }
    let user = &*user;
    let resync = Action::requeue(ctx.settings.resync_interval);
    let mut facts = Facts {
        common_name: Some(user.common_name.clone()),
        secret_name: Some(user.secret_name.clone()),
        ..Default::default()
    };
    let endpoint_name = &obj.spec.endpoint_ref.name;
    let stop = |report: Report, facts: Facts| async move {
        user.write_status(ctx, facts, &report).await?;
        Ok(resync.clone())
    };
    let Some(endpoint) = endpoint else {
        let message = format!(
            "ClientVpnEndpoint {endpoint_name} does not exist in namespace {}: this user cannot connect",
            user.handle.namespace
        );
        return stop(
            Report::new(Standing::NotReady, "EndpointNotFound", message),
            facts,
        )
        .await;
    };
    let view = EndpointView::of(&endpoint);
    facts.endpoint_id = view.id.clone();
    if view.deleting {
        let message = format!("ClientVpnEndpoint {endpoint_name} is being deleted");
        return stop(
            Report::new(Standing::NotReady, "EndpointDeleting", message),
            facts,
        )
        .await;
    }
    if !view.mutual {
        let message = format!(
            "ClientVpnEndpoint {endpoint_name} does not use certificate-authentication: a ClientVpnUser needs an endpoint with mutualAuthentication"
        );
        return stop(
            Report::new(
                Standing::Stalled,
                "EndpointNotMutualAuthentication",
                message,
            ),
            facts,
        )
        .await;
    }
    if let Some(holder) = common_name_holder(ctx, user) {
        let message = format!(
            "ClientVpnUser {holder} already has common name {:?} on endpoint {endpoint_name}; common names identify users and must be unique per endpoint: set spec.commonName",
            user.common_name
        );
        return stop(
            Report::new(Standing::Stalled, "CommonNameInUse", message),
            facts,
        )
        .await;
    }
    let (Some(_), Some(_), Some(_)) = (&view.id, &view.region, &view.dns_name) else {
        let message = format!("waiting for ClientVpnEndpoint {endpoint_name} to be created in AWS");
        return stop(
            Report::new(Standing::Reconciling, "WaitingForEndpoint", message),
            facts,
        )
        .await;
    };
    let endpoint_handle = ObjectHandle::of(endpoint.as_ref());
    let publication_due = revoke::publish_if_due(ctx, &view, &endpoint_handle).await?;
    if obj.spec.revoked {
        let revocation = revoke::revoke(ctx, user, &view, &endpoint_handle).await?;
        return revoked(ctx, user, facts, revocation, publication_due).await;
    }
    let held = match certificate::ensure(ctx, user, &view, &endpoint_handle).await? {
        Ok(held) => held,
        Err(report) => return stop(report, facts).await,
    };
    facts.connections = Some(connections(ctx, user, &view).await?);
    let requeue = next_look(ctx, &held).min(publication_due.unwrap_or(Duration::MAX));
    let report = ready_report(user, &held);
    facts.expiring = held.expiring.clone();
    held.record_in(&mut facts);
    user.write_status(ctx, facts, &report).await?;
    Ok(Action::requeue(requeue))
}

fn ready_report(user: &User<'_>, held: &HeldCertificate) -> Report {
    let mut message = format!(
        "client.ovpn is in Secret {}; certificate {} is valid until {}",
        user.secret_name,
        held.serial,
        rfc3339(held.not_after).unwrap_or_default()
    );
    if !held.revocable {
        message.push_str(
            "; the operator cannot revoke it (it does not hold the key of the CA that signed it)",
        );
    }
    Report::new(Standing::Ready, "CertificateIssued", message)
}

/// The earliest of: the resync, the renewal. (Changed sessions wake the user through the
/// presence poller.)
fn next_look(ctx: &Context, held: &HeldCertificate) -> Duration {
    let until_renewal = u64::try_from(held.renew_at.saturating_sub(now_unix())).unwrap_or(0);
    ctx.settings
        .resync_interval
        .min(Duration::from_secs(until_renewal.max(1)))
}

/// Status of a revoked user; requeue soon while the list is on its way.
async fn revoked(
    ctx: &Arc<Context>,
    user: &User<'_>,
    mut facts: Facts,
    revocation: Revocation,
    publication_due: Option<Duration>,
) -> Result<Action, Error> {
    let (report, requeue) = revocation.report(user);
    revocation.record_in(&mut facts);
    user.write_status(ctx, facts, &report).await?;
    let requeue = requeue
        .unwrap_or(ctx.settings.resync_interval)
        .min(publication_due.unwrap_or(Duration::MAX));
    Ok(Action::requeue(requeue))
}

/// Deletion: the certificate goes on the endpoint's list first (unless it cannot be revoked or
/// the endpoint is gone); then the finalizer is removed.
async fn finish_deletion(
    user: &User<'_>,
    ctx: &Arc<Context>,
    endpoint: Option<&crate::api::ClientVpnEndpoint>,
) -> Result<Action, Error> {
    tracing::debug!(user = %user.handle.key(), "deleting: revoking first");
    let note = match endpoint.map(|e| (EndpointView::of(e), ObjectHandle::of(e))) {
        Some((view, handle)) if view.id.is_some() && !view.deleting => {
            let revocation = revoke::revoke(ctx, user, &view, &handle).await?;
            if let (report, Some(requeue)) = revocation.report(user) {
                let mut facts = Facts::default();
                revocation.record_in(&mut facts);
                user.write_status(ctx, facts, &report).await?;
                return Ok(Action::requeue(requeue));
            }
            revocation.report(user).0.message
        }
        _ => "the endpoint is gone: nothing to revoke".to_string(),
    };
    ctx.publisher.forget(&user.endpoint_key(), &user.uid);
    let notice = Notice::normal("Deleted", "DeleteUser", note);
    ctx.runtime.cluster.publish(&user.handle, notice).await;
    remove_finalizer(ctx.runtime.cluster.as_ref(), &user.handle, USER_FINALIZER)
        .await
        .map_err(|e| Error::Kube("removing the finalizer", e))?;
    ctx.stale_copies.forget(&user.uid);
    Ok(Action::await_change())
}

/// The other user holding this user's common name on the same endpoint, if any: the oldest
/// object (then the first by name) keeps it. It runs for every reconcile over every user, so it
/// reads the cache in place (no copy of it) and compares the common name first: one short
/// comparison rules out nearly every other user.
fn common_name_holder(ctx: &Context, user: &User<'_>) -> Option<String> {
    let mine = age_key(user.obj);
    let holds = |u: &ClientVpnUser| {
        common_name(u) == user.common_name
            && u.metadata.namespace == user.obj.metadata.namespace
            && u.spec.endpoint_ref == user.obj.spec.endpoint_ref
            && u.metadata.deletion_timestamp.is_none()
            && u.metadata.uid.as_deref() != Some(user.uid.as_str())
            && age_key(u) < mine
    };
    ctx.users
        .state_filter(holds)
        .iter()
        .map(|u| u.name_any())
        .min()
}

/// Older first, then by name: who keeps a contested common name.
fn age_key(user: &ClientVpnUser) -> (Option<Timestamp>, &str) {
    (
        user.metadata.creation_timestamp.as_ref().map(|t| t.0),
        user.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// This user's sessions, from the endpoint's shared listing (the presence poller writes the
/// endpoint's total).
async fn connections(
    ctx: &Context,
    user: &User<'_>,
    view: &EndpointView,
) -> Result<UserConnections, Error> {
    let (Some(id), Some(region)) = (view.id.as_deref(), view.region.as_deref()) else {
        return Ok(UserConnections::default());
    };
    let (listing, _) = ctx.connections.get(ctx.access.as_ref(), region, id).await?;
    Ok(listing
        .by_user
        .get(&user.common_name)
        .cloned()
        .unwrap_or_default())
}
