//! Planning for an endpoint that exists: in-place updates, drift, tags, target networks,
//! authorization rules, routes, the client configuration, and ordered teardown. Pure.

use super::diff::{
    changed_fields, live_associations, managed_routes, security_groups_to_apply,
    settings_to_modify, tag_changes, wanted_routes, wanted_rules,
};
use super::plan::{Children, Desired, Observation, Step};
use super::status::Health;
use crate::cloud::{ObservedEndpoint, status_code};

/// The final state of an association.
const ASSOCIATED: &str = "associated";
const DISASSOCIATING: &str = "disassociating";
const REVOKING: &str = "revoking";
const DELETING: &str = "deleting";

/// Steps that bring a live endpoint to the spec, in execution order, and the resulting health.
pub fn plan_live(
    desired: &Desired,
    observed: &Observation,
    endpoint: &ObservedEndpoint,
) -> (Vec<Step>, Health) {
    if endpoint.status_code == status_code::PENDING {
        return (Vec::new(), Health::of_code(&endpoint.status_code));
    }
    let spec = &desired.spec;
    let children = &observed.children;
    let mut steps = Vec::new();

    let change = settings_to_modify(spec, &endpoint.settings);
    if !change.is_empty() {
        steps.push(Step::Modify(change));
    }
    if let Some((vpc_id, security_group_ids)) = security_groups_to_apply(spec, &endpoint.settings) {
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

    steps.extend(removals(desired, children));
    let additions = additions(desired, children);
    let blocked_additions = additions.blocked;
    steps.extend(additions.steps);

    if let Some(config) = &spec.client_configuration {
        let fingerprint = config_fingerprint(endpoint);
        if observed.config_map_fingerprint.as_deref() != Some(fingerprint.as_str()) {
            steps.push(Step::ExportClientConfiguration {
                config_map_name: config.config_map_name.clone(),
                fingerprint,
            });
        }
    }

    let health = health(
        observed,
        endpoint,
        &steps,
        settings_steps,
        blocked_additions,
    );
    (steps, health)
}

/// Remove what left the spec, in order: routes, then rules, then associations; a later kind
/// waits until the earlier one is gone.
fn removals(desired: &Desired, children: &Children) -> Vec<Step> {
    let wanted_subnets: Vec<&str> = desired
        .spec
        .target_networks
        .iter()
        .map(|t| t.subnet_id.as_str())
        .collect();
    let wanted_routes = wanted_routes(&desired.spec);
    let extra_routes: Vec<_> = managed_routes(&children.routes)
        .filter(|r| !wanted_routes.contains_key(&r.key))
        .collect();
    if !extra_routes.is_empty() {
        return extra_routes
            .into_iter()
            .filter(|r| r.status_code != DELETING)
            .map(|r| Step::DeleteRoute {
                route: r.key.clone(),
            })
            .collect();
    }
    let wanted_rules = wanted_rules(&desired.spec);
    let extra_rules: Vec<_> = children
        .rules
        .iter()
        .filter(|r| !wanted_rules.contains_key(&r.key))
        .collect();
    if !extra_rules.is_empty() {
        return extra_rules
            .into_iter()
            .filter(|r| r.status_code != REVOKING)
            .map(|r| Step::Revoke {
                rule: r.key.clone(),
            })
            .collect();
    }
    live_associations(&children.networks)
        .filter(|n| {
            !wanted_subnets.contains(&n.subnet_id.as_str()) && n.status_code != DISASSOCIATING
        })
        .map(|n| Step::Disassociate {
            association_id: n.association_id.clone(),
        })
        .collect()
}

struct Additions {
    steps: Vec<Step>,
    /// Wanted children that cannot be created yet (waiting for an association).
    blocked: usize,
}

/// Create what the spec adds: associations at once; rules once an association is active;
/// routes once their subnet is associated.
fn additions(desired: &Desired, children: &Children) -> Additions {
    let generation = desired.generation.unwrap_or(0);
    let associated = |subnet: &str| {
        children
            .networks
            .iter()
            .any(|n| n.subnet_id == subnet && n.status_code == ASSOCIATED)
    };
    let mut steps = Vec::new();
    let mut blocked = 0;
    for target in &desired.spec.target_networks {
        let present =
            live_associations(&children.networks).any(|n| n.subnet_id == target.subnet_id);
        if !present {
            steps.push(Step::Associate {
                subnet_id: target.subnet_id.clone(),
                client_token: child_token(&desired.uid, "assoc", &target.subnet_id, generation),
            });
        }
    }
    let any_associated = children
        .networks
        .iter()
        .any(|n| n.status_code == ASSOCIATED);
    for (rule, description) in wanted_rules(&desired.spec) {
        if children.rules.iter().any(|r| r.key == rule) {
            continue;
        }
        if !any_associated {
            blocked += 1;
            continue;
        }
        let key = format!(
            "{}|{}",
            rule.target_network_cidr,
            rule.access_group_id.as_deref().unwrap_or("*")
        );
        steps.push(Step::Authorize {
            client_token: child_token(&desired.uid, "rule", &key, generation),
            rule,
            description,
        });
    }
    for (route, description) in wanted_routes(&desired.spec) {
        if managed_routes(&children.routes).any(|r| r.key == route) {
            continue;
        }
        if !associated(&route.target_subnet_id) {
            blocked += 1;
            continue;
        }
        let key = format!(
            "{}|{}",
            route.destination_cidr_block, route.target_subnet_id
        );
        steps.push(Step::CreateRoute {
            client_token: child_token(&desired.uid, "route", &key, generation),
            route,
            description,
        });
    }
    Additions { steps, blocked }
}

fn health(
    observed: &Observation,
    endpoint: &ObservedEndpoint,
    steps: &[Step],
    settings_steps: usize,
    blocked: usize,
) -> Health {
    let acting = steps
        .iter()
        .filter(|s| !matches!(s, Step::ExportClientConfiguration { .. }))
        .count();
    if acting > 0 {
        let drift = observed.settled && settings_steps > 0;
        let what = describe_steps(steps);
        return if drift {
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
    let transitional = transitional_children(&observed.children);
    if !transitional.is_empty() {
        return Health::Reconciling {
            reason: "WaitingForAws",
            message: format!("waiting for AWS: {}", transitional.join(", ")),
        };
    }
    let failed = failed_children(&observed.children);
    if !failed.is_empty() {
        return Health::Stalled {
            reason: "ChildFailed".into(),
            message: format!("AWS reports failures: {}", failed.join("; ")),
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

/// A short, bounded summary of planned steps for messages and events.
pub fn describe_steps(steps: &[Step]) -> String {
    let parts: Vec<String> = steps
        .iter()
        .map(|step| match step {
            Step::Modify(change) => format!("modify {}", changed_fields(change).join(", ")),
            Step::ApplySecurityGroups { .. } => "apply security groups".into(),
            Step::CreateTags(tags) => format!(
                "set tags {}",
                tags.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            Step::DeleteTags(keys) => format!("remove tags {}", keys.join(", ")),
            Step::Associate { subnet_id, .. } => format!("associate {subnet_id}"),
            Step::Disassociate { association_id } => format!("disassociate {association_id}"),
            Step::Authorize { rule, .. } => format!("authorize {}", rule.target_network_cidr),
            Step::Revoke { rule } => format!("revoke {}", rule.target_network_cidr),
            Step::CreateRoute { route, .. } => {
                format!("add route {}", route.destination_cidr_block)
            }
            Step::DeleteRoute { route } => format!("delete route {}", route.destination_cidr_block),
            Step::ExportClientConfiguration {
                config_map_name, ..
            } => format!("export configuration to {config_map_name}"),
            Step::Create { .. } => "create endpoint".into(),
            Step::Delete { endpoint_id } => format!("delete {endpoint_id}"),
        })
        .collect();
    parts.join("; ")
}

fn transitional_children(children: &Children) -> Vec<String> {
    let networks = children
        .networks
        .iter()
        .filter(|n| matches!(n.status_code.as_str(), "associating" | DISASSOCIATING))
        .map(|n| format!("{} {}", n.subnet_id, n.status_code));
    let rules = children
        .rules
        .iter()
        .filter(|r| matches!(r.status_code.as_str(), "authorizing" | REVOKING))
        .map(|r| format!("rule {} {}", r.key.target_network_cidr, r.status_code));
    let routes = managed_routes(&children.routes)
        .filter(|r| matches!(r.status_code.as_str(), "creating" | DELETING))
        .map(|r| format!("route {} {}", r.key.destination_cidr_block, r.status_code));
    networks.chain(rules).chain(routes).collect()
}

fn failed_children(children: &Children) -> Vec<String> {
    let message = |m: &Option<String>| m.clone().unwrap_or_default();
    let networks = children
        .networks
        .iter()
        .filter(|n| n.status_code == "association-failed")
        .map(|n| {
            format!(
                "association of {} failed: {}",
                n.subnet_id,
                message(&n.status_message)
            )
        });
    let rules = children
        .rules
        .iter()
        .filter(|r| r.status_code == "failed")
        .map(|r| {
            format!(
                "rule {} failed: {}",
                r.key.target_network_cidr,
                message(&r.status_message)
            )
        });
    let routes = managed_routes(&children.routes)
        .filter(|r| r.status_code == "failed")
        .map(|r| {
            format!(
                "route {} failed: {}",
                r.key.destination_cidr_block,
                message(&r.status_message)
            )
        });
    networks.chain(rules).chain(routes).collect()
}

/// Teardown before deleting an endpoint: routes, then rules, then associations. Returns the
/// steps for this pass and, while something is still going away, what is being waited for;
/// `(empty, None)` means the endpoint itself may be deleted.
pub fn plan_teardown(children: &Children) -> (Vec<Step>, Option<String>) {
    let routes: Vec<_> = managed_routes(&children.routes).collect();
    if !routes.is_empty() {
        let steps = routes
            .iter()
            .filter(|r| r.status_code != DELETING)
            .map(|r| Step::DeleteRoute {
                route: r.key.clone(),
            })
            .collect();
        return (steps, Some(format!("deleting {} route(s)", routes.len())));
    }
    if !children.rules.is_empty() {
        let steps = children
            .rules
            .iter()
            .filter(|r| r.status_code != REVOKING)
            .map(|r| Step::Revoke {
                rule: r.key.clone(),
            })
            .collect();
        return (
            steps,
            Some(format!(
                "revoking {} authorization rule(s)",
                children.rules.len()
            )),
        );
    }
    let associations: Vec<_> = live_associations(&children.networks).collect();
    if !associations.is_empty() {
        let steps = associations
            .iter()
            .filter(|n| n.status_code != DISASSOCIATING)
            .map(|n| Step::Disassociate {
                association_id: n.association_id.clone(),
            })
            .collect();
        return (
            steps,
            Some(format!(
                "disassociating {} target network(s)",
                associations.len()
            )),
        );
    }
    (Vec::new(), None)
}

/// Idempotency token for a child: stable for one spec generation (a retry after a crash reuses
/// it), new once the spec changes (so re-adding a removed child is not answered with the old one).
pub fn child_token(uid: &str, kind: &str, key: &str, generation: i64) -> String {
    format!(
        "{kind}-{:016x}",
        fnv1a(&[uid, kind, key, &generation.to_string()])
    )
}

/// What the exported client configuration depends on.
pub fn config_fingerprint(endpoint: &ObservedEndpoint) -> String {
    let port = endpoint.settings.vpn_port.to_string();
    format!(
        "{:016x}",
        fnv1a(&[
            endpoint.dns_name.as_deref().unwrap_or_default(),
            &port,
            &endpoint.fixed.transport_protocol,
            &endpoint.settings.server_certificate_arn,
        ])
    )
}

/// 64-bit FNV-1a over the parts, with a separator: stable across releases and platforms.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AuthorizationRuleSpec, ClientVpnEndpoint, RouteSpec, TargetNetworkSpec};
    use crate::cloud::{AuthorizationRule, Route, RouteKey, RuleKey, TargetNetwork};
    use crate::controller::fixtures::as_created;

    const A: &str = "subnet-0000000000000000a";
    const B: &str = "subnet-0000000000000000b";

    fn network(subnet: &str, code: &str) -> TargetNetwork {
        TargetNetwork {
            association_id: format!("cvpn-assoc-{subnet}"),
            subnet_id: subnet.into(),
            status_code: code.into(),
            ..Default::default()
        }
    }

    fn rule(cidr: &str, code: &str) -> AuthorizationRule {
        AuthorizationRule {
            key: rule_key(cidr),
            description: None,
            status_code: code.into(),
            status_message: None,
        }
    }

    fn rule_key(cidr: &str) -> RuleKey {
        RuleKey {
            target_network_cidr: cidr.into(),
            access_group_id: None,
        }
    }

    fn route(cidr: &str, subnet: &str, origin: &str, code: &str) -> Route {
        Route {
            key: route_key(cidr, subnet),
            origin: origin.into(),
            description: None,
            status_code: code.into(),
            status_message: None,
        }
    }

    fn route_key(cidr: &str, subnet: &str) -> RouteKey {
        RouteKey {
            destination_cidr_block: cidr.into(),
            target_subnet_id: subnet.into(),
        }
    }

    /// Wanted: subnet A, rule 10.0.0.0/16 for all, route 0.0.0.0/0 via A.
    fn desired(with_children: bool) -> Desired {
        let mut spec = ClientVpnEndpoint::test().spec;
        if with_children {
            spec.target_networks = vec![TargetNetworkSpec {
                subnet_id: A.into(),
            }];
            spec.authorization_rules = vec![AuthorizationRuleSpec {
                target_network_cidr: "10.0.0.0/16".into(),
                access_group_id: None,
                authorize_all_groups: Some(true),
                description: None,
            }];
            spec.routes = vec![RouteSpec {
                destination_cidr_block: "0.0.0.0/0".into(),
                target_vpc_subnet_id: A.into(),
                description: None,
            }];
        }
        Desired {
            uid: "uid".into(),
            deleting: false,
            deletion_policy: spec.deletion_policy,
            spec,
            generation: Some(3),
            wanted_tags: Default::default(),
        }
    }

    fn endpoint(code: &str) -> ObservedEndpoint {
        let (settings, fixed) = as_created(&ClientVpnEndpoint::test().spec);
        ObservedEndpoint {
            id: "cvpn-endpoint-1".into(),
            status_code: code.into(),
            settings,
            fixed,
            ..Default::default()
        }
    }

    /// A compact name for each step, for table rows.
    fn names(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Associate { subnet_id, .. } => format!("associate {subnet_id}"),
                Step::Disassociate { association_id } => format!("disassociate {association_id}"),
                Step::Authorize { rule, .. } => format!("authorize {}", rule.target_network_cidr),
                Step::Revoke { rule } => format!("revoke {}", rule.target_network_cidr),
                Step::CreateRoute { route, .. } => {
                    format!("route+ {}", route.destination_cidr_block)
                }
                Step::DeleteRoute { route } => format!("route- {}", route.destination_cidr_block),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn children_table() {
        // (name, spec lists children, endpoint status, AWS children, steps, health reason)
        type Row<'a> = (&'a str, bool, &'a str, Children, &'a [&'a str], &'a str);
        let rows: Vec<Row> = vec![
            (
                "nothing yet: associate first, rules and routes wait",
                true,
                "pending-associate",
                Children::default(),
                &["associate subnet-0000000000000000a"],
                "Updating",
            ),
            (
                "associating: wait, no second associate",
                true,
                "pending-associate",
                Children {
                    networks: vec![network(A, "associating")],
                    ..Default::default()
                },
                &[],
                "WaitingForAws",
            ),
            (
                "associated: authorize and add the route",
                true,
                "available",
                Children {
                    networks: vec![network(A, "associated")],
                    ..Default::default()
                },
                &["authorize 10.0.0.0/16", "route+ 0.0.0.0/0"],
                "Updating",
            ),
            (
                "everything active: ready",
                true,
                "available",
                Children {
                    networks: vec![network(A, "associated")],
                    rules: vec![rule("10.0.0.0/16", "active")],
                    routes: vec![
                        route("10.1.0.0/16", A, "associate", "active"),
                        route("0.0.0.0/0", A, "add-route", "active"),
                    ],
                },
                &[],
                "Available",
            ),
            (
                "associate routes are never touched",
                false,
                "available",
                Children {
                    networks: vec![network(A, "associated")],
                    rules: vec![],
                    routes: vec![route("10.1.0.0/16", A, "associate", "active")],
                },
                &["disassociate cvpn-assoc-subnet-0000000000000000a"],
                "Updating",
            ),
            (
                "removed from spec: routes first",
                false,
                "available",
                Children {
                    networks: vec![network(A, "associated")],
                    rules: vec![rule("10.0.0.0/16", "active")],
                    routes: vec![route("0.0.0.0/0", A, "add-route", "active")],
                },
                &["route- 0.0.0.0/0"],
                "Updating",
            ),
            (
                "route deleting: rules wait",
                false,
                "available",
                Children {
                    networks: vec![network(A, "associated")],
                    rules: vec![rule("10.0.0.0/16", "active")],
                    routes: vec![route("0.0.0.0/0", A, "add-route", "deleting")],
                },
                &[],
                "WaitingForAws",
            ),
            (
                "routes gone: revoke rules",
                false,
                "available",
                Children {
                    networks: vec![network(A, "associated")],
                    rules: vec![rule("10.0.0.0/16", "active")],
                    routes: vec![],
                },
                &["revoke 10.0.0.0/16"],
                "Updating",
            ),
            (
                "another subnet wanted: associate it, keep A until replaced",
                true,
                "available",
                Children {
                    networks: vec![network(B, "associated")],
                    rules: vec![rule("10.0.0.0/16", "active")],
                    routes: vec![],
                },
                &[
                    "disassociate cvpn-assoc-subnet-0000000000000000b",
                    "associate subnet-0000000000000000a",
                ],
                "Updating",
            ),
            (
                "failed association: stalled with AWS's message",
                true,
                "pending-associate",
                Children {
                    networks: vec![network(A, "association-failed")],
                    ..Default::default()
                },
                &[],
                "ChildFailed",
            ),
        ];
        for (name, with_children, code, children, want, reason) in rows {
            let observed = Observation {
                children,
                ..Default::default()
            };
            let (steps, health) = plan_live(&desired(with_children), &observed, &endpoint(code));
            assert_eq!(names(&steps), want, "{name}");
            let got = match &health {
                Health::Ready { reason, .. }
                | Health::NotReady { reason, .. }
                | Health::Reconciling { reason, .. } => reason.to_string(),
                Health::Stalled { reason, .. } => reason.clone(),
            };
            assert_eq!(got, reason, "{name}");
        }
    }

    #[test]
    fn teardown_table() {
        let rows: Vec<(&str, Children, &[&str], bool)> = vec![
            (
                "routes first",
                Children {
                    networks: vec![network(A, "associated")],
                    rules: vec![rule("10.0.0.0/16", "active")],
                    routes: vec![
                        route("0.0.0.0/0", A, "add-route", "active"),
                        route("10.1.0.0/16", A, "associate", "active"),
                    ],
                },
                &["route- 0.0.0.0/0"],
                true,
            ),
            (
                "then rules",
                Children {
                    networks: vec![network(A, "associated")],
                    rules: vec![rule("10.0.0.0/16", "active")],
                    routes: vec![route("10.1.0.0/16", A, "associate", "active")],
                },
                &["revoke 10.0.0.0/16"],
                true,
            ),
            (
                "revoking: wait",
                Children {
                    networks: vec![network(A, "associated")],
                    rules: vec![rule("10.0.0.0/16", "revoking")],
                    routes: vec![],
                },
                &[],
                true,
            ),
            (
                "then associations",
                Children {
                    networks: vec![network(A, "associated")],
                    ..Default::default()
                },
                &["disassociate cvpn-assoc-subnet-0000000000000000a"],
                true,
            ),
            (
                "disassociating: wait",
                Children {
                    networks: vec![network(A, "disassociating")],
                    ..Default::default()
                },
                &[],
                true,
            ),
            (
                "nothing left: the endpoint may go",
                Children {
                    networks: vec![network(A, "disassociated")],
                    ..Default::default()
                },
                &[],
                false,
            ),
        ];
        for (name, children, want, waiting) in rows {
            let (steps, waiting_for) = plan_teardown(&children);
            assert_eq!(names(&steps), want, "{name}");
            assert_eq!(waiting_for.is_some(), waiting, "{name}");
        }
    }

    #[test]
    fn child_tokens_are_stable_per_generation_and_bounded() {
        let first = child_token("uid", "assoc", A, 3);
        assert_eq!(first, child_token("uid", "assoc", A, 3));
        assert_ne!(
            first,
            child_token("uid", "assoc", A, 4),
            "a new generation gets a new token"
        );
        assert_ne!(first, child_token("other", "assoc", A, 3));
        assert!(first.len() <= 64);
    }
}
