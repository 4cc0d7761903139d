//! The heart of reconcile: pure functions from what is wanted and what AWS shows to the steps
//! to take and the state to report. No I/O, no clock, no kube or AWS SDK types.
//!
//! `model` is the vocabulary; `desired` turns the spec into the normalized endpoint (the only
//! place that reads the spec); `settings` and `children` compare; `live` plans an existing
//! endpoint; this module decides between create, converge, adopt, stall and delete.

mod children;
mod describe;
mod desired;
mod live;
mod model;
mod settings;

pub use children::{DEFAULT_OPERATIONS_LIMIT, TokenScope, child_token, fnv1a, teardown};
pub use describe::describe_steps;
pub use desired::{desired, endpoint as desired_endpoint, ownership_tags};
pub use live::config_fingerprint;
pub use model::*;
pub use settings::{changed_fields, disruptive_fields};

use crate::api::{DeletionPolicy, tags};
use crate::cloud::ObservedEndpoint;
use live::plan_live;
use settings::fixed_mismatches;

/// Decide what to do for one object.
pub fn plan(desired: &Desired, observed: &Observation) -> Plan {
    if desired.deleting {
        plan_cleanup(desired, observed)
    } else {
        plan_apply(desired, observed)
    }
}

fn plan_apply(desired: &Desired, observed: &Observation) -> Plan {
    let live = observed.live();
    if live.len() > 1 {
        let ids = live
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Plan::report(Outcome::Stalled {
            reason: "DuplicateEndpoints",
            message: format!(
                "several AWS endpoints carry this object's UID tag ({ids}); delete all but one in AWS"
            ),
        });
    }
    if let Some(endpoint) = live.first() {
        return plan_existing(desired, observed, endpoint);
    }
    if observed.recorded_id.is_none()
        && let Some(id) = &observed.adopt_id
    {
        return Plan::report(Outcome::Stalled {
            reason: "AdoptionTargetNotFound",
            message: format!(
                "AWS endpoint {id} named by the clientvpn.io/adopt-endpoint-id annotation does not exist"
            ),
        });
    }
    match &observed.recorded_id {
        None => Plan {
            steps: vec![create(desired, desired.uid.clone())],
            outcome: Outcome::Creating { recreate_of: None },
        },
        Some(id) if !observed.recorded_was_seen && observed.by_id.is_none() => {
            Plan::report(Outcome::AwaitingVisibility {
                endpoint_id: id.clone(),
            })
        }
        Some(id) if desired.deletion_policy == DeletionPolicy::Retain => {
            Plan::report(Outcome::Stalled {
                reason: "EndpointDeletedOutOfBand",
                message: format!(
                    "AWS endpoint {id} was deleted outside the operator; deletionPolicy is Retain, so it is not recreated (set deletionPolicy: Delete to recreate it)"
                ),
            })
        }
        Some(id) => Plan {
            steps: vec![create(desired, recreate_token(&desired.uid, id))],
            outcome: Outcome::Creating {
                recreate_of: Some(id.clone()),
            },
        },
    }
}

/// An endpoint exists: refuse a foreign or incompatible adoption, else converge it.
fn plan_existing(desired: &Desired, observed: &Observation, endpoint: &ObservedEndpoint) -> Plan {
    let by_annotation = observed.recorded_id.is_none()
        && observed.adopt_id.as_deref() == Some(endpoint.id.as_str());
    if by_annotation {
        if let Some(owner) = endpoint
            .tags
            .get(tags::UID)
            .filter(|owner| **owner != desired.uid)
        {
            return Plan::report(Outcome::Stalled {
                reason: "OwnedByAnotherObject",
                message: format!(
                    "AWS endpoint {} is already owned by object UID {owner} (tag {}); refusing to take it over",
                    endpoint.id,
                    tags::UID
                ),
            });
        }
        let mismatched = fixed_mismatches(&desired.endpoint.fixed, &endpoint.fixed);
        if !mismatched.is_empty() {
            return Plan::report(Outcome::Stalled {
                reason: "ImmutableFieldMismatch",
                message: format!(
                    "AWS endpoint {} differs from the spec in fields AWS cannot change: {}; make the spec match AWS to adopt it",
                    endpoint.id,
                    mismatched.join(", ")
                ),
            });
        }
    }
    let adopted = observed.recorded_id.as_deref() != Some(endpoint.id.as_str());
    let live = plan_live(desired, observed, endpoint);
    Plan {
        steps: live.steps,
        outcome: Outcome::Observed {
            endpoint: Box::new(endpoint.clone()),
            adopted,
            health: live.health,
            deferred: live.deferred,
        },
    }
}

fn plan_cleanup(desired: &Desired, observed: &Observation) -> Plan {
    if desired.deletion_policy == DeletionPolicy::Retain {
        return Plan::report(Outcome::Released { retained: true });
    }
    let live = observed.live();
    if let Some(first) = live.first() {
        let teardown = teardown(&observed.children, desired.operations_limit);
        if let Some(waiting_for) = teardown.removing {
            return Plan {
                steps: teardown.steps,
                outcome: Outcome::TearingDown {
                    endpoint_id: first.id.clone(),
                    waiting_for,
                },
            };
        }
        return Plan {
            steps: live
                .iter()
                .map(|e| Step::Delete {
                    endpoint_id: e.id.clone(),
                })
                .collect(),
            outcome: Outcome::Deleting {
                endpoint_ids: live.iter().map(|e| e.id.clone()).collect(),
            },
        };
    }
    let deleting = observed.deleting_ids();
    if deleting.is_empty() {
        Plan::report(Outcome::Released { retained: false })
    } else {
        Plan::report(Outcome::Deleting {
            endpoint_ids: deleting,
        })
    }
}

/// The create step: the normalized endpoint with this token and the ownership tags.
fn create(desired: &Desired, client_token: String) -> Step {
    Step::Create(Box::new(
        desired
            .endpoint
            .create_request(client_token, desired.wanted_tags.clone()),
    ))
}

/// Idempotency token for re-creating an endpoint deleted out of band. The original token (the
/// UID) would return the deleted endpoint, so the token also names the endpoint it replaces:
/// deterministic, so a crash mid-recreate cannot make a second one. At most 64 characters.
pub fn recreate_token(uid: &str, replaced_id: &str) -> String {
    let suffix = replaced_id.trim_start_matches("cvpn-endpoint-");
    let mut token = format!("{uid}-{suffix}");
    token.truncate(64);
    token
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
