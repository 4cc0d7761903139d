//! Planning for an endpoint that exists: in-place updates, drift, tags, children, the client
//! configuration, and the health that follows. Pure.

use super::children::{TokenScope, failed, reconcile_children, transitional};
use super::describe::describe_steps;
use super::model::{Desired, Health, Observation, Step};
use super::settings::{security_groups_to_apply, settings_to_modify, tag_changes};
use crate::cloud::{ObservedEndpoint, status_code};

/// The plan for a live endpoint.
#[derive(Debug)]
pub struct LivePlan {
    /// Steps that bring it to the spec, in execution order.
    pub steps: Vec<Step>,
    /// The health that follows.
    pub health: Health,
    /// Children held back by the operations limit.
    pub deferred: usize,
}

/// Steps that bring a live endpoint to the spec, the resulting health, and how many children
/// wait for a free operation.
pub fn plan_live(
    desired: &Desired,
    observed: &Observation,
    endpoint: &ObservedEndpoint,
) -> LivePlan {
    if endpoint.status_code == status_code::PENDING {
        return LivePlan {
            steps: Vec::new(),
            health: Health::of_code(&endpoint.status_code),
            deferred: 0,
        };
    }
    let wanted = &desired.endpoint.settings;
    let mut steps = Vec::new();

    let change = settings_to_modify(wanted, &endpoint.settings);
    if !change.is_empty() {
        steps.push(Step::Modify(change));
    }
    if let Some((vpc_id, security_group_ids)) = security_groups_to_apply(wanted, &endpoint.settings)
    {
        steps.push(Step::ApplySecurityGroups {
            vpc_id,
            security_group_ids,
        });
    }
    let tags = tag_changes(
        &desired.wanted_tags,
        &observed.applied_tag_keys,
        &endpoint.tags,
    );
    if !tags.set.is_empty() {
        steps.push(Step::CreateTags(tags.set));
    }
    if !tags.remove.is_empty() {
        steps.push(Step::DeleteTags(tags.remove));
    }
    let settings_steps = steps.len();

    let scope = TokenScope {
        uid: desired.uid.clone(),
        endpoint_id: endpoint.id.clone(),
        generation: desired.generation.unwrap_or(0),
    };
    let limit = desired.operations_limit;
    let children = reconcile_children(&desired.children, &observed.children, &scope, limit);
    steps.extend(children.steps);

    if let Some(config_map_name) = &desired.config_map_name {
        let fingerprint = config_fingerprint(endpoint, &desired.certificate_revision);
        if observed.config_map_fingerprint.as_deref() != Some(fingerprint.as_str()) {
            steps.push(Step::ExportClientConfiguration {
                config_map_name: config_map_name.clone(),
                fingerprint,
            });
        }
    }

    let mut health = health(observed, endpoint, &steps, settings_steps, children.blocked);
    if children.deferred > 0
        && let Health::Reconciling { message, .. } = &mut health
    {
        message.push_str(&format!(
            "; {} more once AWS finishes some ({limit} operations in progress at most)",
            children.deferred
        ));
    }
    LivePlan {
        steps,
        health,
        deferred: children.deferred,
    }
}

fn health(
    observed: &Observation,
    endpoint: &ObservedEndpoint,
    steps: &[Step],
    settings_steps: usize,
    blocked: usize,
) -> Health {
    if steps.iter().any(Step::mutates_aws) {
        let what = describe_steps(steps);
        return if observed.settled && settings_steps > 0 {
            Health::Reconciling {
                reason: "DriftCorrected",
                message: format!("AWS drifted from the spec; correcting: {what}"),
            }
        } else {
            Health::Reconciling {
                reason: "Updating",
                message: format!("applying the spec: {what}"),
            }
        };
    }
    let waiting = transitional(&observed.children);
    if !waiting.is_empty() {
        return Health::Reconciling {
            reason: "WaitingForAws",
            message: format!("waiting for AWS: {}", waiting.join(", ")),
        };
    }
    let failures = failed(&observed.children);
    if !failures.is_empty() {
        return Health::Stalled {
            reason: "ChildFailed".into(),
            message: format!("AWS reports failures: {}", failures.join("; ")),
        };
    }
    if blocked > 0 {
        return Health::Reconciling {
            reason: "WaitingForAssociation",
            message: format!(
                "{blocked} rule(s) or route(s) wait for their target network to be associated"
            ),
        };
    }
    Health::of_code(&endpoint.status_code)
}

/// What the exported client configuration depends on.
pub fn config_fingerprint(endpoint: &ObservedEndpoint, certificate_revision: &str) -> String {
    let port = endpoint.settings.vpn_port.to_string();
    let mut parts = vec![
        endpoint.dns_name.as_deref().unwrap_or_default(),
        &port,
        &endpoint.fixed.transport_protocol,
        &endpoint.settings.server_certificate_arn,
    ];
    if !certificate_revision.is_empty() {
        parts.push(certificate_revision);
    }
    format!("{:016x}", super::children::fnv1a(&parts))
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
