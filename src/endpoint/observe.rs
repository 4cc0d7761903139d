//! Observe: what is there for this object. The endpoint comes from status, else the ID the
//! operator created or saw (memory), else the adoption annotation, else the UID tag; a settled
//! object reads it from the shared region listing, anything else describes it. Children are
//! described only when memory cannot stand for them. Then the client-configuration ConfigMap.

use kube::ResourceExt;
use tokio::time::Instant;

use super::memory::{
    EndpointSource, Remembered, endpoint_source, fingerprint, listing_is_current, reusable_children,
};
use super::plan::{Children, Observation};
use super::{Context, Error, Target};
use crate::api::{ADOPT_ANNOTATION, ClientVpnEndpoint, condition, tags};
use crate::cloud::ObservedEndpoint;

/// An observation, and when the endpoint and its children were described (`None`: the endpoint
/// came from the region listing, the children from memory).
pub struct Observed {
    pub observation: Observation,
    endpoint_described_at: Option<Instant>,
    children_described_at: Option<Instant>,
}

/// How much an observation may take from memory and the region inventory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Settled objects read the inventory; children are described only when needed.
    Steady,
    /// Describe everything (deleting objects).
    Fresh,
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

/// Observe the object's endpoint, children and ConfigMap. `None` when the object is settled and
/// the operator's own last look is newer than the region listing (never for [`Scope::Fresh`]):
/// nothing to learn until the next listing.
pub async fn observe(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
    scope: Scope,
) -> Result<Option<Observed>, Error> {
    let started = Instant::now();
    let region = target.region()?;
    let status = obj.status.clone().unwrap_or_default();
    let remembered = match scope {
        Scope::Steady => ctx.memory.get(&target.uid),
        Scope::Fresh => None,
    };
    let adopt_id = obj.annotations().get(ADOPT_ANNOTATION).cloned();
    // The status write after a create may not have reached this copy of the object yet, not
    // even when the copy says it is being deleted.
    let recorded_id = status
        .client_vpn_endpoint_id
        .clone()
        .or_else(|| ctx.memory.owned(&target.uid));
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
            let known = match endpoint_source(remembered.as_ref(), id, generation, settled_on) {
                EndpointSource::Inventory => {
                    let (listed, listed_at) = ctx
                        .inventory
                        .endpoint(ctx.cloud.as_ref(), region, id)
                        .await?;
                    if !listing_is_current(remembered.as_ref(), listed_at) {
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
                    endpoint_described_at = Some(Instant::now());
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
        // Deleting with no ID known: a create may have reached AWS after the last listing (its
        // answer lost, or sent by an operator that stopped before recording it). Only a listing
        // newer than this look can tell.
        let listed_after = (scope == Scope::Fresh && lookup_id.is_none()).then_some(started);
        let mut tagged = ctx
            .inventory
            .tagged(
                ctx.cloud.as_ref(),
                region,
                tags::UID,
                &target.uid,
                listed_after,
            )
            .await?;
        // What was just described, found or not, is newer than any listing: a listing taken
        // before the endpoint was deleted must not bring it back.
        let described = match (&by_id, endpoint_described_at) {
            (Some(endpoint), _) => Some(endpoint.id.as_str()),
            (None, Some(_)) => lookup_id.as_deref(),
            (None, None) => None,
        };
        tagged.retain(|e| described != Some(e.id.as_str()));
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
            Instant::now(),
        );
        observation.children = match known {
            Some(children) => children,
            None => {
                children_described_at = Some(Instant::now());
                match describe_children(ctx, region, &id).await {
                    Ok(children) => children,
                    Err(err) => {
                        // An endpoint from an older listing that is gone by now: list again.
                        if err.is_not_found() {
                            ctx.inventory.invalidate(region).await;
                        }
                        return Err(err.into());
                    }
                }
            }
        };
    }
    if let Some(config) = &obj.spec.client_configuration {
        observation.config_map_fingerprint = ctx
            .cluster()
            .config_map_fingerprint(&target.handle.namespace, &config.config_map_name)
            .await
            .map_err(Error::ReadConfigMap)?;
    }
    Ok(Some(Observed {
        observation,
        endpoint_described_at,
        children_described_at,
    }))
}

async fn describe_children(
    ctx: &Context,
    region: &str,
    id: &str,
) -> Result<Children, crate::cloud::CloudError> {
    Ok(Children {
        networks: ctx.cloud.describe_target_networks(region, id).await?,
        rules: ctx.cloud.describe_authorization_rules(region, id).await?,
        routes: ctx.cloud.describe_routes(region, id).await?,
    })
}

/// Remember a settled object so its next check reads the inventory; forget a busy one so its
/// next check describes it.
pub fn remember(
    ctx: &Context,
    target: &Target,
    generation: Option<i64>,
    endpoint: &ObservedEndpoint,
    observed: &Observed,
    busy: bool,
) {
    if busy {
        ctx.memory.forget(&target.uid);
        return;
    }
    let previous = ctx.memory.get(&target.uid);
    let children_seen_at = observed
        .children_described_at
        .or_else(|| previous.as_ref().map(|r| r.children_seen_at))
        .unwrap_or_else(Instant::now);
    ctx.memory.settled(
        &target.uid,
        Remembered {
            endpoint_id: endpoint.id.clone(),
            generation,
            endpoint: Some(fingerprint(endpoint)),
            endpoint_described_at: observed
                .endpoint_described_at
                .or_else(|| previous.as_ref().and_then(|r| r.endpoint_described_at)),
            children: observed.observation.children.clone(),
            children_seen_at,
        },
    );
}
