//! The heart of reconcile: a pure function from what is wanted and what AWS shows to the steps
//! to take and the state to report. No I/O, no clock.

use std::collections::BTreeMap;

use super::diff::fixed_mismatches;
use super::lifecycle::{plan_live, plan_teardown};
use super::status::Health;
use crate::api::{ClientVpnEndpointSpec, DeletionPolicy, tags};
use crate::cloud::{
    AuthorizationRule, ModifyEndpoint, ObservedEndpoint, Route, RouteKey, RuleKey, TargetNetwork,
    status_code,
};

/// What the object asks for, reduced to what planning needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    /// The object's UID: the idempotency token and the `clientvpn.io/uid` tag value.
    pub uid: String,
    /// True once the object has a deletion timestamp.
    pub deleting: bool,
    pub deletion_policy: DeletionPolicy,
    pub spec: ClientVpnEndpointSpec,
    /// `metadata.generation`: part of child idempotency tokens.
    pub generation: Option<i64>,
    /// Every tag the endpoint should carry: the user's plus the ownership tags.
    pub wanted_tags: BTreeMap<String, String>,
}

/// The children of one endpoint, as AWS reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Children {
    pub networks: Vec<TargetNetwork>,
    pub rules: Vec<AuthorizationRule>,
    pub routes: Vec<Route>,
}

/// What the operator found in AWS (and in the cluster) for this object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// Endpoint ID from the adoption annotation, if any.
    pub adopt_id: Option<String>,
    /// Children of the live endpoint (empty when there is none).
    pub children: Children,
    /// User tag keys the operator applied before (from status).
    pub applied_tag_keys: Vec<String>,
    /// Status shows this generation applied and nothing in progress: changes now are drift.
    pub settled: bool,
    /// Fingerprint on the client-configuration ConfigMap, if it exists.
    pub config_map_fingerprint: Option<String>,
    /// The endpoint ID recorded in status, if any.
    pub recorded_id: Option<String>,
    /// Whether status shows the recorded endpoint was described at least once (it existed).
    pub recorded_was_seen: bool,
    /// The recorded endpoint as AWS describes it; `None` when AWS says it does not exist.
    pub by_id: Option<ObservedEndpoint>,
    /// Endpoints tagged `clientvpn.io/uid=<uid>`, looked up when `by_id` is not live.
    pub by_tag: Vec<ObservedEndpoint>,
}

impl Observation {
    /// The live endpoints that belong to the object: the recorded one if it is live, otherwise
    /// every live endpoint carrying the object's UID tag.
    pub fn live(&self) -> Vec<&ObservedEndpoint> {
        match self.by_id.as_ref().filter(|e| !e.is_going_away()) {
            Some(endpoint) => vec![endpoint],
            None => self.by_tag.iter().filter(|e| !e.is_going_away()).collect(),
        }
    }

    /// IDs of the endpoints AWS is still deleting.
    fn deleting_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .by_id
            .iter()
            .chain(self.by_tag.iter())
            .filter(|e| e.status_code == status_code::DELETING)
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// One AWS mutation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `CreateClientVpnEndpoint` with this idempotency token.
    Create { client_token: String },
    /// `DeleteClientVpnEndpoint`.
    Delete { endpoint_id: String },
    /// `ModifyClientVpnEndpoint` with the fields that differ.
    Modify(ModifyEndpoint),
    /// `ApplySecurityGroupsToClientVpnTargetNetwork`.
    ApplySecurityGroups {
        vpc_id: String,
        security_group_ids: Vec<String>,
    },
    /// `CreateTags`.
    CreateTags(BTreeMap<String, String>),
    /// `DeleteTags` by key.
    DeleteTags(Vec<String>),
    /// `AssociateClientVpnTargetNetwork`.
    Associate {
        subnet_id: String,
        client_token: String,
    },
    /// `DisassociateClientVpnTargetNetwork`.
    Disassociate { association_id: String },
    /// `AuthorizeClientVpnIngress`.
    Authorize {
        rule: RuleKey,
        description: Option<String>,
        client_token: String,
    },
    /// `RevokeClientVpnIngress`.
    Revoke { rule: RuleKey },
    /// `CreateClientVpnRoute`.
    CreateRoute {
        route: RouteKey,
        description: Option<String>,
        client_token: String,
    },
    /// `DeleteClientVpnRoute`.
    DeleteRoute { route: RouteKey },
    /// Export the client configuration into the ConfigMap.
    ExportClientConfiguration {
        config_map_name: String,
        fingerprint: String,
    },
}

/// The state to report once the steps are done.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// An endpoint exists; the steps bring it to the spec. `adopted` when it was found by tag
    /// (the status write after create was lost) or taken over by annotation.
    Observed {
        endpoint: Box<ObservedEndpoint>,
        adopted: bool,
        health: Health,
    },
    /// The endpoint is being created by the planned step.
    Creating { recreate_of: Option<String> },
    /// The recorded endpoint is not visible yet (AWS is eventually consistent): look again soon.
    AwaitingVisibility { endpoint_id: String },
    /// Progress needs a human or a spec change.
    Stalled {
        reason: &'static str,
        message: String,
    },
    /// Deletion requested or in progress in AWS; keep the finalizer.
    Deleting { endpoint_ids: Vec<String> },
    /// Deleting the endpoint's routes, rules and associations first.
    TearingDown {
        endpoint_id: String,
        waiting_for: String,
    },
    /// Nothing left in AWS for this object (or it is retained): the finalizer may go.
    Released { retained: bool },
}

/// Steps to execute, in order, and the outcome to report after them.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub outcome: Outcome,
}

impl Plan {
    fn report(outcome: Outcome) -> Self {
        Self {
            steps: Vec::new(),
            outcome,
        }
    }
}

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
            steps: vec![Step::Create {
                client_token: desired.uid.clone(),
            }],
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
            steps: vec![Step::Create {
                client_token: recreate_token(&desired.uid, id),
            }],
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
        let mismatched = fixed_mismatches(&desired.spec, &endpoint.fixed);
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
    let (steps, health) = plan_live(desired, observed, endpoint);
    Plan {
        steps,
        outcome: Outcome::Observed {
            endpoint: Box::new(endpoint.clone()),
            adopted,
            health,
        },
    }
}

fn plan_cleanup(desired: &Desired, observed: &Observation) -> Plan {
    if desired.deletion_policy == DeletionPolicy::Retain {
        return Plan::report(Outcome::Released { retained: true });
    }
    let live = observed.live();
    if let Some(first) = live.first() {
        let (steps, waiting) = plan_teardown(&observed.children);
        if let Some(waiting_for) = waiting {
            return Plan {
                steps,
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
mod tests {
    use super::*;

    const UID: &str = "0b7e6c3e-1f0a-4c55-9d7e-2a4f3b1c9d00";

    use crate::api::ClientVpnEndpoint;
    use crate::controller::fixtures::as_created;

    /// An endpoint whose settings match the fixture spec, owned by the fixture object.
    fn endpoint(id: &str, code: &str) -> ObservedEndpoint {
        let (settings, fixed) = as_created(&ClientVpnEndpoint::test().spec);
        ObservedEndpoint {
            id: id.into(),
            status_code: code.into(),
            settings,
            fixed,
            tags: wanted_tags(),
            ..Default::default()
        }
    }

    fn wanted_tags() -> BTreeMap<String, String> {
        BTreeMap::from([(tags::UID.to_string(), UID.to_string())])
    }

    fn desired(deleting: bool, policy: DeletionPolicy) -> Desired {
        Desired {
            uid: UID.into(),
            deleting,
            deletion_policy: policy,
            spec: ClientVpnEndpoint::test().spec,
            generation: Some(1),
            wanted_tags: wanted_tags(),
        }
    }

    fn observed(
        recorded: Option<&str>,
        seen: bool,
        by_id: Option<ObservedEndpoint>,
        by_tag: Vec<ObservedEndpoint>,
    ) -> Observation {
        Observation {
            recorded_id: recorded.map(str::to_string),
            recorded_was_seen: seen,
            by_id,
            by_tag,
            ..Default::default()
        }
    }

    #[test]
    fn apply_table() {
        use DeletionPolicy::*;
        let a = || endpoint("cvpn-endpoint-0000000000000000a", "pending-associate");
        let b = || endpoint("cvpn-endpoint-0000000000000000b", "available");
        let gone = || endpoint("cvpn-endpoint-0000000000000000a", "deleted");
        let rows: Vec<(&str, DeletionPolicy, Observation, Plan)> = vec![
            (
                "nothing recorded, nothing tagged: create with the UID as token",
                Delete,
                observed(None, false, None, vec![]),
                Plan {
                    steps: vec![Step::Create {
                        client_token: UID.into(),
                    }],
                    outcome: Outcome::Creating { recreate_of: None },
                },
            ),
            (
                "recorded and live: report it, no calls",
                Delete,
                observed(Some(&a().id), true, Some(a()), vec![]),
                Plan::report(Outcome::Observed {
                    endpoint: Box::new(a()),
                    adopted: false,
                    health: Health::of_code(&a().status_code),
                }),
            ),
            (
                "status lost but tagged endpoint exists: adopt, never create",
                Delete,
                observed(None, false, None, vec![a()]),
                Plan::report(Outcome::Observed {
                    endpoint: Box::new(a()),
                    adopted: true,
                    health: Health::of_code(&a().status_code),
                }),
            ),
            (
                "tagged endpoints that are deleted are ignored",
                Delete,
                observed(None, false, None, vec![gone()]),
                Plan {
                    steps: vec![Step::Create {
                        client_token: UID.into(),
                    }],
                    outcome: Outcome::Creating { recreate_of: None },
                },
            ),
            (
                "two live tagged endpoints: stalled, no create",
                Delete,
                observed(None, false, None, vec![a(), b()]),
                Plan::report(Outcome::Stalled {
                    reason: "DuplicateEndpoints",
                    message: format!(
                        "several AWS endpoints carry this object's UID tag ({}, {}); delete all but one in AWS",
                        a().id,
                        b().id
                    ),
                }),
            ),
            (
                "recorded but never seen and not found: wait, do not create",
                Delete,
                observed(Some(&a().id), false, None, vec![]),
                Plan::report(Outcome::AwaitingVisibility {
                    endpoint_id: a().id,
                }),
            ),
            (
                "deleted out of band, Delete policy: recreate with a derived token",
                Delete,
                observed(Some(&a().id), true, Some(gone()), vec![gone()]),
                Plan {
                    steps: vec![Step::Create {
                        client_token: format!("{UID}-0000000000000000a"),
                    }],
                    outcome: Outcome::Creating {
                        recreate_of: Some(a().id),
                    },
                },
            ),
            (
                "vanished out of band (NotFound), Delete policy: recreate",
                Delete,
                observed(Some(&a().id), true, None, vec![]),
                Plan {
                    steps: vec![Step::Create {
                        client_token: format!("{UID}-0000000000000000a"),
                    }],
                    outcome: Outcome::Creating {
                        recreate_of: Some(a().id),
                    },
                },
            ),
            (
                "recreated endpoint found by tag after a crash: adopt it",
                Delete,
                observed(Some(&a().id), true, Some(gone()), vec![gone(), b()]),
                Plan::report(Outcome::Observed {
                    endpoint: Box::new(b()),
                    adopted: true,
                    health: Health::of_code(&b().status_code),
                }),
            ),
            (
                "deleted out of band, Retain policy: stalled, no create",
                Retain,
                observed(Some(&a().id), true, None, vec![]),
                Plan::report(Outcome::Stalled {
                    reason: "EndpointDeletedOutOfBand",
                    message: format!(
                        "AWS endpoint {} was deleted outside the operator; deletionPolicy is Retain, so it is not recreated (set deletionPolicy: Delete to recreate it)",
                        a().id
                    ),
                }),
            ),
        ];
        for (name, policy, observation, want) in rows {
            assert_eq!(plan(&desired(false, policy), &observation), want, "{name}");
        }
    }

    #[test]
    fn cleanup_table() {
        use DeletionPolicy::*;
        let a = || endpoint("cvpn-endpoint-0000000000000000a", "available");
        let deleting = || endpoint("cvpn-endpoint-0000000000000000a", "deleting");
        let deleted = || endpoint("cvpn-endpoint-0000000000000000a", "deleted");
        let rows: Vec<(&str, DeletionPolicy, Observation, Plan)> = vec![
            (
                "Retain: release without looking at AWS",
                Retain,
                observed(Some(&a().id), true, Some(a()), vec![]),
                Plan::report(Outcome::Released { retained: true }),
            ),
            (
                "live endpoint: delete it and keep the finalizer",
                Delete,
                observed(Some(&a().id), true, Some(a()), vec![]),
                Plan {
                    steps: vec![Step::Delete {
                        endpoint_id: a().id,
                    }],
                    outcome: Outcome::Deleting {
                        endpoint_ids: vec![a().id],
                    },
                },
            ),
            (
                "status lost: delete the endpoint found by tag",
                Delete,
                observed(None, false, None, vec![a()]),
                Plan {
                    steps: vec![Step::Delete {
                        endpoint_id: a().id,
                    }],
                    outcome: Outcome::Deleting {
                        endpoint_ids: vec![a().id],
                    },
                },
            ),
            (
                "AWS still deleting: wait, no second delete",
                Delete,
                observed(Some(&a().id), true, Some(deleting()), vec![deleting()]),
                Plan::report(Outcome::Deleting {
                    endpoint_ids: vec![a().id],
                }),
            ),
            (
                "AWS says deleted: release",
                Delete,
                observed(Some(&a().id), true, Some(deleted()), vec![deleted()]),
                Plan::report(Outcome::Released { retained: false }),
            ),
            (
                "AWS says not found and nothing tagged: release",
                Delete,
                observed(Some(&a().id), true, None, vec![]),
                Plan::report(Outcome::Released { retained: false }),
            ),
            (
                "never created: release",
                Delete,
                observed(None, false, None, vec![]),
                Plan::report(Outcome::Released { retained: false }),
            ),
        ];
        for (name, policy, observation, want) in rows {
            assert_eq!(plan(&desired(true, policy), &observation), want, "{name}");
        }
    }

    #[test]
    fn recreate_token_is_deterministic_and_bounded() {
        let token = recreate_token(UID, "cvpn-endpoint-0123456789abcdef0");
        assert_eq!(token, format!("{UID}-0123456789abcdef0"));
        assert!(token.len() <= 64);
        assert_eq!(recreate_token(&"u".repeat(80), "cvpn-endpoint-1").len(), 64);
    }
}
