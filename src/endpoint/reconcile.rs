//! One reconcile: gate → observe → plan → act → status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::ResourceExt;
use kube::runtime::controller::Action;
use tracing::{instrument, warn};

use super::act::execute_all;
use super::certificates::{self, Resolution};
use super::observe::{Scope, observe, remember};
use super::plan::{Desired, Health, Observation, Outcome, Plan, desired, plan};
use super::status::{EndpointFacts, write, write_deleting, write_health};
use super::{Context, Error, Settings, Target, report};
use crate::api::{ClientVpnEndpoint, DeletionPolicy, FINALIZER, condition};
use crate::cloud::quota::{Counted, Quota};
use crate::cloud::{ErrorKind, ObservedEndpoint, status_code};
use crate::runtime::{Attempt, ReconcileError, add_finalizer, record_outcome, remove_finalizer};

/// Reconcile one object. Failures are reported on the object (status + Warning event) and
/// returned so the controller logs them; the backoff gate keeps retries slow.
#[instrument(skip_all, fields(object = %format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())))]
pub async fn reconcile(obj: Arc<ClientVpnEndpoint>, ctx: Arc<Context>) -> Result<Action, Error> {
    let target = Target::of(&obj, ctx.settings.default_region.as_deref())
        .ok_or(Error::MissingMetadata("metadata.uid"))?;
    let attempt = Attempt::of(&obj.metadata);
    let runtime = &ctx.runtime;
    if let Some(wait) = runtime.gate(&target.uid, attempt) {
        return Ok(wait);
    }
    let started = Instant::now();
    let result = reconcile_once(&obj, &ctx, &target, attempt.deleting).await;
    let failure = result.as_ref().err().map(|e| (e.kind(), e.category()));
    if failure.is_some() && target.progress.any() {
        // A pass that changed AWS before it failed is not a stuck one: the next attempt waits
        // the first backoff step again instead of a doubled one.
        runtime.backoffs.clear(&target.uid);
    }
    record_outcome(runtime, &target.uid, attempt, started, failure);
    if let Err(err) = &result {
        report_failure(&obj, &ctx, &target, err).await;
    }
    result
}

/// Requeue after a failed reconcile: whatever the backoff gate recorded, rounded up to 100 ms.
pub fn error_policy(obj: Arc<ClientVpnEndpoint>, _err: &Error, ctx: Arc<Context>) -> Action {
    ctx.runtime
        .retry_after(obj.uid(), ctx.settings.poll_interval)
}

async fn reconcile_once(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
    deleting: bool,
) -> Result<Action, Error> {
    let has_finalizer = obj.finalizers().iter().any(|f| f == FINALIZER);
    match (deleting, has_finalizer) {
        (true, false) => Ok(Action::await_change()),
        (true, true) => cleanup(obj, ctx, target).await,
        (false, false) => {
            // Go on in the same run: the finalizer is stored before anything exists in AWS.
            add_finalizer(ctx.cluster(), &target.handle, FINALIZER)
                .await
                .map_err(Error::AddFinalizer)?;
            apply(obj, ctx, target).await
        }
        (false, true) => apply(obj, ctx, target).await,
    }
}

async fn apply(
    original: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
) -> Result<Action, Error> {
    let resolved = match certificates::resolve(original, ctx, target).await? {
        Resolution::Ready(resolved) => resolved,
        Resolution::Waiting { reason, message } => {
            let health = Health::Reconciling { reason, message };
            write_health(ctx, original, target, &health).await?;
            return Ok(Action::requeue(ctx.settings.poll_interval));
        }
        Resolution::Refused { reason, message } => {
            return stall(
                ctx,
                original,
                target,
                EndpointFacts::of(original),
                reason,
                message,
            )
            .await;
        }
    };
    let handle = &target.handle;
    let metrics = &ctx.runtime.metrics;
    metrics.certificates_observed(&handle.namespace, &handle.name, &resolved.expiries());
    // From here on the spec carries the certificate ARNs.
    let obj = &resolved.object;
    let certified = |mut facts: EndpointFacts| {
        facts.certificates = resolved.statuses.clone();
        facts
    };
    let Some(observed) = observe(obj, ctx, target, Scope::Steady).await? else {
        return Ok(Action::requeue(ctx.settings.resync_interval));
    };
    let observation = &observed.observation;
    let mut wanted = wanted(obj, ctx, target);
    wanted.certificate_revision = resolved.revision();
    let Plan { steps, outcome } = plan(&wanted, observation);
    let poll = Action::requeue(ctx.settings.poll_interval);
    match outcome {
        Outcome::Creating { recreate_of } => {
            if let Some(old) = &recreate_of {
                report::recreating(ctx, target, old).await;
            }
            let Some(created) = execute_all(ctx, target, "", &steps).await? else {
                return Ok(poll);
            };
            let health = Health::Reconciling {
                reason: "Created",
                message: format!("created AWS endpoint {}", created.id),
            };
            let region = target.region()?;
            let mut facts = certified(EndpointFacts::created(&created, region));
            facts.applied_tag_keys = obj.spec.tags.keys().cloned().collect();
            write(ctx, obj, target, facts, &health).await?;
            report::created(ctx, target, &created.id, region).await;
            Ok(poll)
        }
        Outcome::Observed {
            endpoint,
            adopted,
            health,
            deferred,
        } => {
            ctx.memory.owns(&target.uid, &endpoint.id);
            if adopted {
                report::adopted(ctx, target, &endpoint.id).await;
            }
            report::announce(ctx, target, &steps, &health).await;
            if !steps.is_empty() {
                ctx.memory.forget(&target.uid);
            }
            execute_all(ctx, target, &endpoint.id, &steps).await?;
            ctx.runtime
                .metrics
                .endpoint_observed(&target.uid, Some(&endpoint.status_code));
            let applied_keys = obj.spec.tags.keys().cloned().collect();
            let facts = certified(EndpointFacts::observed(
                &endpoint,
                target.region()?,
                &observation.children,
                applied_keys,
            ));
            write(ctx, obj, target, facts, &health).await?;
            let busy = !steps.is_empty() || matches!(health, Health::Reconciling { .. });
            remember(
                ctx,
                target,
                obj.metadata.generation,
                &endpoint,
                &observed,
                busy,
            );
            Ok(if deferred > 0 {
                // Rules and routes finish in seconds: start the held-back ones soon.
                Action::requeue(ctx.settings.poll_interval.min(DEFERRED_POLL))
            } else if busy {
                poll
            } else {
                Action::requeue(requeue_for(&endpoint, &ctx.settings))
            })
        }
        Outcome::AwaitingVisibility { endpoint_id } => {
            let health = Health::Reconciling {
                reason: "AwaitingVisibility",
                message: format!("AWS does not list endpoint {endpoint_id} yet"),
            };
            write(ctx, obj, target, certified(EndpointFacts::of(obj)), &health).await?;
            Ok(poll)
        }
        Outcome::Stalled { reason, message } => {
            let facts = certified(EndpointFacts::of(obj));
            stall(ctx, obj, target, facts, reason, message).await
        }
        Outcome::Deleting { .. } | Outcome::TearingDown { .. } | Outcome::Released { .. } => {
            Ok(poll)
        }
    }
}

async fn cleanup(obj: &ClientVpnEndpoint, ctx: &Context, target: &Target) -> Result<Action, Error> {
    let observation = match obj.spec.deletion_policy {
        DeletionPolicy::Retain => Observation::default(),
        DeletionPolicy::Delete => observe(obj, ctx, target, Scope::Fresh)
            .await?
            .map(|observed| observed.observation)
            .unwrap_or_default(),
    };
    let wanted = wanted(obj, ctx, target);
    let Plan { steps, outcome } = plan(&wanted, &observation);
    if !steps.is_empty() {
        let endpoint_id = match &outcome {
            Outcome::TearingDown { endpoint_id, .. } => endpoint_id.as_str(),
            _ => "",
        };
        execute_all(ctx, target, endpoint_id, &steps).await?;
        report::deleting(ctx, target, &steps).await;
    }
    let poll = Action::requeue(ctx.settings.poll_interval);
    match outcome {
        Outcome::Released { retained } => {
            let recorded = obj
                .status
                .as_ref()
                .and_then(|s| s.client_vpn_endpoint_id.as_deref());
            report::released(ctx, target, retained, recorded).await;
            certificates::release(obj, ctx, target).await?;
            remove_finalizer(ctx.cluster(), &target.handle, FINALIZER)
                .await
                .map_err(Error::RemoveFinalizer)?;
            let metrics = &ctx.runtime.metrics;
            metrics.endpoint_forgotten(&target.uid);
            metrics.certificates_observed(&target.handle.namespace, &target.handle.name, &[]);
            ctx.memory.released(&target.uid);
            Ok(Action::await_change())
        }
        Outcome::Deleting { endpoint_ids } => {
            let message = format!("waiting for AWS to delete {}", endpoint_ids.join(", "));
            write_deleting(ctx, obj, target, message).await?;
            Ok(poll)
        }
        Outcome::TearingDown {
            endpoint_id,
            waiting_for,
        } => {
            let message = format!("before deleting {endpoint_id}: {waiting_for}");
            write_deleting(ctx, obj, target, message).await?;
            Ok(poll)
        }
        _ => Ok(poll),
    }
}

/// Stalled: record it (and say so once), then look again only after the resync interval.
async fn stall(
    ctx: &Context,
    obj: &ClientVpnEndpoint,
    target: &Target,
    facts: EndpointFacts,
    reason: &str,
    message: String,
) -> Result<Action, Error> {
    let health = Health::Stalled {
        reason: reason.to_string(),
        message: message.clone(),
    };
    if write(ctx, obj, target, facts, &health).await? {
        report::stalled(ctx, target, reason, message).await;
    }
    Ok(Action::requeue(ctx.settings.resync_interval))
}

/// What the object asks for, with the operator's settings planning needs.
fn wanted(obj: &ClientVpnEndpoint, ctx: &Context, target: &Target) -> Desired {
    let mut wanted = desired(obj, &target.uid, &ctx.settings.cluster_name);
    wanted.operations_limit = ctx.settings.operations_limit;
    wanted
}

/// How soon to look again when the operations limit held children back (at most the poll
/// interval): AWS finishes rules and routes in seconds, so the next ones can start then.
pub const DEFERRED_POLL: Duration = Duration::from_secs(1);

/// How soon to look again at a settled endpoint: soon while AWS is mid-transition.
fn requeue_for(endpoint: &ObservedEndpoint, settings: &Settings) -> Duration {
    match endpoint.status_code.as_str() {
        status_code::PENDING | status_code::DELETING => settings.poll_interval,
        _ => settings.resync_interval,
    }
}

/// Retryable failures in a row (passes that changed nothing) before a Warning event is
/// published; until then the `Ready` condition alone carries the error.
pub const WARN_AFTER_FAILURES: u32 = 3;

/// The Warning event reason of retryable failures that keep coming back.
pub const RETRYING_REASON: &str = "RetryingAfterErrors";

/// Put a failure on the object: conditions (Stalled for terminal errors and quotas) and a
/// Warning event. A quota refusal says which quota, how much of it is used, and what to do,
/// and its slow retries add no event while the condition already says the same. Retryable
/// failures (throttling, AWS server errors, timeouts) are usually gone by the next pass: they
/// show in the condition at once, and in one Warning event series per object (a fixed note,
/// so repeats count up one series) only after [`WARN_AFTER_FAILURES`] stuck passes in a row.
async fn report_failure(obj: &ClientVpnEndpoint, ctx: &Context, target: &Target, err: &Error) {
    let (message, event) = match (err.quota(), err.kind()) {
        (Some(quota), _) => {
            let used = quota_used(obj, ctx, target, quota).await;
            let used = used.as_ref().map(|(n, place)| (*n, place.as_str()));
            let advice = quota.explain(used, ctx.settings.delays.quota_retry);
            let repeated = stalled_message(obj).is_some_and(|m| m.starts_with(&advice));
            let message = format!("{advice} {}", err.report());
            let event = (err.category(), message.clone());
            (message, (!repeated).then_some(event))
        }
        (None, ErrorKind::Retryable | ErrorKind::NotFound) => {
            let stuck = ctx.runtime.backoffs.failures(&target.uid) >= WARN_AFTER_FAILURES;
            let note = format!(
                "{} keeps failing with retryable errors; retrying with backoff (the Ready \
                 condition shows the latest error)",
                retry_subject(err)
            );
            // One reason for every retryable category, so throttling, 5xx and not-found
            // answers of one object share a single series.
            (err.report(), stuck.then_some((RETRYING_REASON, note)))
        }
        (None, _) => (err.report(), Some((err.category(), err.report()))),
    };
    warn!(category = err.category(), error = %message, "reconcile failed");
    let health = match err.kind() {
        ErrorKind::Terminal | ErrorKind::Quota => Health::Stalled {
            reason: err.category().to_string(),
            message,
        },
        ErrorKind::Retryable | ErrorKind::NotFound => Health::Reconciling {
            reason: err.category(),
            message,
        },
    };
    if !matches!(err, Error::PatchStatus(_))
        && let Err(patch_err) = write_health(ctx, obj, target, &health).await
    {
        warn!(error = %patch_err.report(), "recording the failure in status failed");
    }
    if let Some((reason, note)) = event {
        report::failed(ctx, target, reason, note).await;
    }
}

/// What kept failing, in a retryable failure's event.
fn retry_subject(err: &Error) -> &'static str {
    match err {
        Error::Aws(_) => "AWS",
        Error::Issue(_) | Error::Issued(_) => "Issuing a certificate",
        _ => "The Kubernetes API",
    }
}

/// The message of the object's `Stalled=True` condition, if it has one.
fn stalled_message(obj: &ClientVpnEndpoint) -> Option<&str> {
    let conditions = &obj.status.as_ref()?.conditions;
    conditions
        .iter()
        .find(|c| c.type_ == condition::STALLED && c.status == "True")
        .map(|c| c.message.as_str())
}

/// How much of `quota` is used, when the operator can tell: endpoints in the region's listing,
/// or the rules and routes the object's status last showed.
async fn quota_used(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
    quota: &Quota,
) -> Option<(usize, String)> {
    let status = obj.status.as_ref();
    match quota.counted {
        Counted::EndpointsInRegion => {
            let region = target.region().ok()?;
            let count = ctx.inventory.live_count(ctx.cloud.as_ref(), region).await;
            Some((count.ok()?, format!("endpoints in {region}")))
        }
        Counted::AuthorizationRules => status.map(|s| {
            let n = s.authorization_rules.len();
            (n, "authorization rules on this endpoint".into())
        }),
        Counted::Routes => status.map(|s| (s.routes.len(), "routes on this endpoint".into())),
        Counted::Nothing => None,
    }
}
