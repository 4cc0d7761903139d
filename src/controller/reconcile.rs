//! One reconcile: gate → observe → plan → act → status.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::controller::Action;
use tracing::{info, instrument, warn};

use super::act::execute;
use super::backoff::Attempt;
use super::cluster::Notice;
use super::diff::disruptive_fields;
use super::lifecycle::describe_steps;
use super::memory::{
    EndpointSource, Remembered, endpoint_source, fingerprint, listing_is_current, reusable_children,
};
use super::plan::{Children, Desired, Observation, Outcome, Plan, Step, plan};
use super::status::{EndpointFacts, Health, compute_status};
use super::{Context, Error};
use crate::api::{ADOPT_ANNOTATION, ClientVpnEndpoint, DeletionPolicy, FINALIZER, condition, tags};
use crate::cloud::{CreateEndpoint, ErrorKind, ObservedEndpoint, status_code};
use crate::metrics::ReconcileResult;

/// Reconcile one object. Failures are reported on the object (status + Warning event) and
/// returned so the controller logs them; the backoff gate keeps retries slow.
#[instrument(skip_all, fields(object = %format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())))]
pub async fn reconcile(obj: Arc<ClientVpnEndpoint>, ctx: Arc<Context>) -> Result<Action, Error> {
    let uid = obj.uid().ok_or(Error::MissingMetadata("metadata.uid"))?;
    let attempt = Attempt {
        generation: obj.metadata.generation,
        deleting: obj.metadata.deletion_timestamp.is_some(),
    };
    if let Some(wait) = ctx.backoffs.wait(&uid, attempt, Instant::now()) {
        return Ok(Action::requeue(wait));
    }
    let started = Instant::now();
    let result = reconcile_once(&obj, &ctx, &uid, attempt.deleting).await;
    match &result {
        Ok(_) => {
            ctx.backoffs.clear(&uid);
            ctx.metrics
                .reconcile_finished(ReconcileResult::Success, started.elapsed());
        }
        Err(err) => {
            ctx.backoffs
                .failed(&uid, attempt, err.kind(), Instant::now());
            ctx.metrics
                .reconcile_finished(ReconcileResult::Error, started.elapsed());
            ctx.metrics.reconcile_error(err.category());
            report_failure(&obj, &ctx, err).await;
        }
    }
    result
}

/// Requeue after a failed reconcile: whatever the backoff gate recorded, rounded up to 100 ms.
pub fn error_policy(obj: Arc<ClientVpnEndpoint>, _err: &Error, ctx: Arc<Context>) -> Action {
    let wait = obj
        .uid()
        .and_then(|uid| ctx.backoffs.remaining(&uid, Instant::now()))
        .unwrap_or(ctx.settings.poll_interval);
    let tenths = wait.as_millis().div_ceil(100).max(1);
    Action::requeue(Duration::from_millis(
        u64::try_from(tenths * 100).unwrap_or(u64::MAX),
    ))
}

async fn reconcile_once(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    uid: &str,
    deleting: bool,
) -> Result<Action, Error> {
    let has_finalizer = obj.finalizers().iter().any(|f| f == FINALIZER);
    match (deleting, has_finalizer) {
        (true, false) => Ok(Action::await_change()),
        (true, true) => cleanup(obj, ctx, uid).await,
        (false, false) => {
            // Go on in the same run: the finalizer is stored before anything exists in AWS.
            ctx.cluster
                .add_finalizer(obj)
                .await
                .map_err(Error::AddFinalizer)?;
            apply(obj, ctx, uid).await
        }
        (false, true) => apply(obj, ctx, uid).await,
    }
}

fn desired(obj: &ClientVpnEndpoint, uid: &str, cluster_name: &str) -> Desired {
    Desired {
        uid: uid.to_string(),
        deleting: obj.metadata.deletion_timestamp.is_some(),
        deletion_policy: obj.spec.deletion_policy,
        spec: obj.spec.clone(),
        generation: obj.metadata.generation,
        wanted_tags: creation_tags(obj, uid, cluster_name),
    }
}

/// The region of the object: fixed by status once an endpoint exists, else spec, else default.
fn region(obj: &ClientVpnEndpoint, ctx: &Context) -> Result<String, Error> {
    obj.status
        .as_ref()
        .and_then(|s| s.region.clone())
        .or_else(|| obj.spec.region.clone())
        .or_else(|| ctx.settings.default_region.clone())
        .ok_or(Error::MissingRegion)
}

/// Status shows the current generation applied with nothing in progress.
fn settled(obj: &ClientVpnEndpoint) -> bool {
    obj.status.as_ref().is_some_and(|s| {
        s.observed_generation == obj.metadata.generation
            && !s.conditions.iter().any(|c| {
                (c.type_ == condition::RECONCILING || c.type_ == condition::STALLED)
                    && c.status == "True"
            })
    })
}

/// An observation, and when the endpoint and its children were described (`None`: the endpoint
/// came from the region listing, the children from memory).
struct Observed {
    observation: Observation,
    endpoint_described_at: Option<tokio::time::Instant>,
    children_described_at: Option<tokio::time::Instant>,
}

/// How much an observation may take from memory and the region inventory.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Settled objects read the inventory; children are described only when needed.
    Steady,
    /// Describe everything (deleting objects).
    Fresh,
}

/// Find the object's endpoint (status ID, else adoption annotation, else the ID the operator
/// just created, else UID tag), its children, and the client-configuration ConfigMap. `None`
/// when the object is settled and the operator's own last look is newer than the region
/// listing (never for [`Scope::Fresh`]).
async fn observe(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    region: &str,
    uid: &str,
    scope: Scope,
) -> Result<Option<Observed>, Error> {
    let status = obj.status.clone().unwrap_or_default();
    let remembered = match scope {
        Scope::Steady => ctx.memory.get(uid),
        Scope::Fresh => None,
    };
    let adopt_id = obj.annotations().get(ADOPT_ANNOTATION).cloned();
    // The status write after a create may not have reached this copy of the object yet.
    let recorded_id = status
        .client_vpn_endpoint_id
        .clone()
        .or_else(|| remembered.as_ref().map(|r| r.endpoint_id.clone()));
    let lookup_id = recorded_id.clone().or_else(|| adopt_id.clone());
    let generation = obj.metadata.generation;
    let object_settled = settled(obj);
    let mut endpoint_described_at = None;
    let by_id = match &lookup_id {
        Some(id) => {
            let settled_on = (scope == Scope::Steady && object_settled)
                .then_some(status.client_vpn_endpoint_id.as_deref())
                .flatten()
                .filter(|_| status.creation_time.is_some());
            let source = endpoint_source(remembered.as_ref(), id, generation, settled_on);
            let known = match source {
                EndpointSource::Inventory => {
                    let (listed, listed_at) = ctx
                        .inventory
                        .endpoint(ctx.cloud.as_ref(), region, id)
                        .await?;
                    if !listing_is_current(remembered.as_ref(), listed_at) {
                        // The operator's own last look is newer: nothing to learn until the
                        // next listing.
                        return Ok(None);
                    }
                    listed
                }
                EndpointSource::Describe => None,
            };
            match known {
                Some(endpoint) => Some(endpoint),
                // Not listed (deleted, or newer than the listing), or not settled: ask AWS.
                None => {
                    endpoint_described_at = Some(tokio::time::Instant::now());
                    ctx.cloud.describe_endpoint(region, id).await?
                }
            }
        }
        None => None,
    };
    let by_id_is_live = by_id.as_ref().is_some_and(|e| !e.is_going_away());
    let by_tag = if by_id_is_live {
        Vec::new()
    } else {
        let mut tagged = ctx
            .inventory
            .tagged(ctx.cloud.as_ref(), region, tags::UID, uid)
            .await?;
        // What was just described is newer than any listing.
        tagged.retain(|e| by_id.as_ref().is_none_or(|d| d.id != e.id));
        tagged
    };
    let mut observation = Observation {
        recorded_was_seen: status.creation_time.is_some(),
        recorded_id,
        by_id,
        by_tag,
        adopt_id,
        applied_tag_keys: status.applied_tag_keys.clone(),
        settled: object_settled,
        ..Default::default()
    };
    let mut children_described_at = None;
    if let [endpoint] = observation.live().as_slice() {
        let id = endpoint.id.clone();
        let known = reusable_children(
            remembered.as_ref(),
            endpoint,
            generation,
            ctx.settings.children_resync_interval,
            tokio::time::Instant::now(),
        );
        observation.children = match known {
            Some(children) => children,
            None => {
                children_described_at = Some(tokio::time::Instant::now());
                Children {
                    networks: ctx.cloud.describe_target_networks(region, &id).await?,
                    rules: ctx.cloud.describe_authorization_rules(region, &id).await?,
                    routes: ctx.cloud.describe_routes(region, &id).await?,
                }
            }
        };
    }
    if let Some(config) = &obj.spec.client_configuration {
        let namespace = obj.namespace().unwrap_or_default();
        observation.config_map_fingerprint = ctx
            .cluster
            .config_map_fingerprint(&namespace, &config.config_map_name)
            .await
            .map_err(Error::ReadConfigMap)?;
    }
    Ok(Some(Observed {
        observation,
        endpoint_described_at,
        children_described_at,
    }))
}

/// Remember a settled object so its next check reads the inventory; forget a busy one so its
/// next check describes it.
fn remember(
    ctx: &Context,
    obj: &ClientVpnEndpoint,
    uid: &str,
    endpoint: &ObservedEndpoint,
    observed: &Observed,
    busy: bool,
) {
    if busy {
        ctx.memory.forget(uid);
        return;
    }
    let previous = ctx.memory.get(uid);
    let children_seen_at = observed
        .children_described_at
        .or_else(|| previous.as_ref().map(|r| r.children_seen_at))
        .unwrap_or_else(tokio::time::Instant::now);
    ctx.memory.settled(
        uid,
        Remembered {
            endpoint_id: endpoint.id.clone(),
            generation: obj.metadata.generation,
            endpoint: Some(fingerprint(endpoint)),
            endpoint_described_at: observed
                .endpoint_described_at
                .or_else(|| previous.as_ref().and_then(|r| r.endpoint_described_at)),
            children: observed.observation.children.clone(),
            children_seen_at,
        },
    );
}

async fn apply(obj: &ClientVpnEndpoint, ctx: &Context, uid: &str) -> Result<Action, Error> {
    let region = region(obj, ctx)?;
    let Some(observed) = observe(obj, ctx, &region, uid, Scope::Steady).await? else {
        return Ok(Action::requeue(ctx.settings.resync_interval));
    };
    let observation = &observed.observation;
    let Plan { steps, outcome } = plan(&desired(obj, uid, &ctx.settings.cluster_name), observation);
    if let Some(Step::Create { client_token }) = steps.first() {
        return create(obj, ctx, &region, uid, client_token.clone(), &outcome).await;
    }
    match outcome {
        Outcome::Observed {
            endpoint,
            adopted,
            health,
        } => {
            if adopted {
                let note = format!(
                    "took over AWS endpoint {} (found by tag or adoption annotation)",
                    endpoint.id
                );
                ctx.cluster
                    .publish(obj, Notice::normal("Adopted", "FindEndpoint", note))
                    .await;
            }
            announce(obj, ctx, &steps, &health).await;
            if !steps.is_empty() {
                ctx.memory.forget(uid);
            }
            for step in &steps {
                execute(obj, ctx, &region, &endpoint.id, step).await?;
            }
            ctx.metrics
                .endpoint_observed(uid, Some(&endpoint.status_code));
            let applied_keys = obj.spec.tags.keys().cloned().collect();
            let facts =
                EndpointFacts::observed(&endpoint, &region, &observation.children, applied_keys);
            write_status(obj, ctx, facts, &health).await?;
            let busy = !steps.is_empty() || matches!(health, Health::Reconciling { .. });
            remember(ctx, obj, uid, &endpoint, &observed, busy);
            Ok(Action::requeue(if busy {
                ctx.settings.poll_interval
            } else {
                requeue_for(&endpoint, &ctx.settings)
            }))
        }
        Outcome::AwaitingVisibility { endpoint_id } => {
            let health = Health::Reconciling {
                reason: "AwaitingVisibility",
                message: format!("AWS does not list endpoint {endpoint_id} yet"),
            };
            write_status(obj, ctx, previous_facts(obj), &health).await?;
            Ok(Action::requeue(ctx.settings.poll_interval))
        }
        Outcome::Stalled { reason, message } => {
            let health = Health::Stalled {
                reason: reason.to_string(),
                message: message.clone(),
            };
            if write_status(obj, ctx, previous_facts(obj), &health).await? {
                ctx.cluster
                    .publish(obj, Notice::warning(reason, "Reconcile", message))
                    .await;
            }
            Ok(Action::requeue(ctx.settings.resync_interval))
        }
        Outcome::Creating { .. }
        | Outcome::Deleting { .. }
        | Outcome::TearingDown { .. }
        | Outcome::Released { .. } => Ok(Action::requeue(ctx.settings.poll_interval)),
    }
}

/// Events before changes: drift corrections and updates, and a warning when live VPN
/// connections will drop.
async fn announce(obj: &ClientVpnEndpoint, ctx: &Context, steps: &[Step], health: &Health) {
    let acting: Vec<Step> = steps
        .iter()
        .filter(|s| !matches!(s, Step::ExportClientConfiguration { .. }))
        .cloned()
        .collect();
    if acting.is_empty() {
        return;
    }
    for step in &acting {
        if let Step::Modify(change) = step {
            let fields = disruptive_fields(change);
            if !fields.is_empty() {
                let note = format!(
                    "changing {} drops live VPN connections; applying now",
                    fields.join(", ")
                );
                ctx.cluster
                    .publish(
                        obj,
                        Notice::warning("DisruptiveChange", "ModifyEndpoint", note),
                    )
                    .await;
            }
        }
    }
    let summary = describe_steps(&acting);
    let notice = match health {
        Health::Reconciling {
            reason: "DriftCorrected",
            ..
        } => Notice::warning(
            "DriftCorrected",
            "Reconcile",
            format!("AWS differed from the spec; correcting: {summary}"),
        ),
        _ => Notice::normal("Updating", "Reconcile", summary),
    };
    ctx.cluster.publish(obj, notice).await;
}

/// Create the endpoint and record its ID at once, before anything else can fail.
async fn create(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    region: &str,
    uid: &str,
    client_token: String,
    outcome: &Outcome,
) -> Result<Action, Error> {
    if let Outcome::Creating {
        recreate_of: Some(old),
    } = outcome
    {
        let note =
            format!("AWS endpoint {old} was deleted outside the operator; creating a new one");
        ctx.cluster
            .publish(
                obj,
                Notice::warning("EndpointDeletedOutOfBand", "CreateEndpoint", note),
            )
            .await;
    }
    let request = CreateEndpoint {
        spec: obj.spec.clone(),
        client_token,
        tags: creation_tags(obj, uid, &ctx.settings.cluster_name),
    };
    let created = match ctx.cloud.create_endpoint(region, &request).await {
        Ok(created) => created,
        Err(mut err) if err.code == "IdempotentParameterMismatch" => {
            // Our token was used with another spec: an endpoint of this object exists that the
            // region listing did not show yet. List again and retry soon.
            ctx.inventory.invalidate(region).await;
            err.kind = ErrorKind::Retryable;
            return Err(err.into());
        }
        Err(err) => return Err(err.into()),
    };
    ctx.memory
        .created(uid, &created.id, obj.metadata.generation);
    info!(endpoint = %created.id, %region, "created endpoint");
    let health = Health::Reconciling {
        reason: "Created",
        message: format!("created AWS endpoint {}", created.id),
    };
    let mut facts = EndpointFacts::created(&created, region);
    facts.applied_tag_keys = obj.spec.tags.keys().cloned().collect();
    write_status(obj, ctx, facts, &health).await?;
    let note = format!("created AWS endpoint {} in {region}", created.id);
    ctx.cluster
        .publish(obj, Notice::normal("Created", "CreateEndpoint", note))
        .await;
    Ok(Action::requeue(ctx.settings.poll_interval))
}

/// The user's tags plus the ownership tags (which win).
pub fn creation_tags(
    obj: &ClientVpnEndpoint,
    uid: &str,
    cluster_name: &str,
) -> BTreeMap<String, String> {
    let mut all = obj.spec.tags.clone();
    all.insert(tags::UID.into(), uid.into());
    all.insert(tags::NAMESPACE.into(), obj.namespace().unwrap_or_default());
    all.insert(tags::NAME.into(), obj.name_any());
    all.insert(tags::CLUSTER.into(), cluster_name.into());
    all
}

async fn cleanup(obj: &ClientVpnEndpoint, ctx: &Context, uid: &str) -> Result<Action, Error> {
    let observation = match obj.spec.deletion_policy {
        DeletionPolicy::Retain => Observation::default(),
        DeletionPolicy::Delete => {
            let region = region(obj, ctx)?;
            observe(obj, ctx, &region, uid, Scope::Fresh)
                .await?
                .map(|observed| observed.observation)
                .unwrap_or_default()
        }
    };
    let Plan { steps, outcome } =
        plan(&desired(obj, uid, &ctx.settings.cluster_name), &observation);
    if !steps.is_empty() {
        let region = region(obj, ctx)?;
        let target = match &outcome {
            Outcome::TearingDown { endpoint_id, .. } => endpoint_id.clone(),
            _ => String::new(),
        };
        for step in &steps {
            execute(obj, ctx, &region, &target, step).await?;
        }
        let note = describe_steps(&steps);
        ctx.cluster
            .publish(obj, Notice::normal("Deleting", "DeleteEndpoint", note))
            .await;
    }
    match outcome {
        Outcome::Released { retained } => {
            let note = match (
                retained,
                obj.status
                    .as_ref()
                    .and_then(|s| s.client_vpn_endpoint_id.clone()),
            ) {
                (true, Some(id)) => {
                    format!("deletionPolicy is Retain: AWS endpoint {id} is left in place")
                }
                (true, None) => "deletionPolicy is Retain: nothing in AWS was touched".to_string(),
                (false, _) => "AWS reports the endpoint gone".to_string(),
            };
            let reason = if retained { "Retained" } else { "Deleted" };
            ctx.cluster
                .publish(obj, Notice::normal(reason, "RemoveFinalizer", note))
                .await;
            ctx.cluster
                .remove_finalizer(obj)
                .await
                .map_err(Error::RemoveFinalizer)?;
            ctx.metrics.endpoint_forgotten(uid);
            ctx.memory.forget(uid);
            Ok(Action::await_change())
        }
        Outcome::Deleting { endpoint_ids } => {
            let message = format!("waiting for AWS to delete {}", endpoint_ids.join(", "));
            write_deleting(obj, ctx, message).await?;
            Ok(Action::requeue(ctx.settings.poll_interval))
        }
        Outcome::TearingDown {
            endpoint_id,
            waiting_for,
        } => {
            write_deleting(
                obj,
                ctx,
                format!("before deleting {endpoint_id}: {waiting_for}"),
            )
            .await?;
            Ok(Action::requeue(ctx.settings.poll_interval))
        }
        _ => Ok(Action::requeue(ctx.settings.poll_interval)),
    }
}

async fn write_deleting(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    message: String,
) -> Result<bool, Error> {
    let mut facts = previous_facts(obj);
    facts.status_code = Some(status_code::DELETING.into());
    let health = Health::Reconciling {
        reason: "Deleting",
        message,
    };
    write_status(obj, ctx, facts, &health).await
}

/// How soon to look again at a settled endpoint: soon while AWS is mid-transition.
fn requeue_for(endpoint: &ObservedEndpoint, settings: &super::Settings) -> Duration {
    match endpoint.status_code.as_str() {
        status_code::PENDING | status_code::DELETING => settings.poll_interval,
        _ => settings.resync_interval,
    }
}

fn previous_facts(obj: &ClientVpnEndpoint) -> EndpointFacts {
    EndpointFacts::from_status(&obj.status.clone().unwrap_or_default())
}

/// Write status when it differs from what the object has; true when something was written.
async fn write_status(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    facts: EndpointFacts,
    health: &Health,
) -> Result<bool, Error> {
    let previous = obj.status.clone().unwrap_or_default();
    let now = Time(Timestamp::now());
    let next = compute_status(&previous, facts, health, obj.metadata.generation, &now);
    if next == previous {
        return Ok(false);
    }
    ctx.cluster
        .patch_status(obj, &next)
        .await
        .map_err(Error::PatchStatus)?;
    Ok(true)
}

/// Put a failure on the object: conditions (Stalled for terminal errors) and a Warning event.
async fn report_failure(obj: &ClientVpnEndpoint, ctx: &Context, err: &Error) {
    let message = err.report();
    warn!(category = err.category(), error = %message, "reconcile failed");
    let health = match err.kind() {
        ErrorKind::Terminal => Health::Stalled {
            reason: err.category().to_string(),
            message: message.clone(),
        },
        ErrorKind::Retryable | ErrorKind::NotFound => Health::Reconciling {
            reason: err.category(),
            message: message.clone(),
        },
    };
    if !matches!(err, Error::PatchStatus(_))
        && let Err(patch_err) = write_status(obj, ctx, previous_facts(obj), &health).await
    {
        warn!(error = %patch_err.report(), "recording the failure in status failed");
    }
    ctx.cluster
        .publish(obj, Notice::warning(err.category(), "Reconcile", message))
        .await;
}
