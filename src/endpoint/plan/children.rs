//! One ordered reconciler for an endpoint's children. Removals go routes → rules →
//! associations (a later kind waits until the earlier one is gone); additions go associations →
//! rules (once any association is active) → routes (once their subnet is associated).
//! Teardown is reconciling to nothing. Every child step starts an operation AWS keeps in
//! progress, and AWS takes at most 10 per endpoint: a pass starts only as many as the operator's
//! limit leaves room for beside what AWS is still working on; the rest wait for a later pass.
//! Pure.

use super::model::{Children, Step, WantedChildren};
use crate::cloud::{AssociationState, ChildState};

/// What to do about the children in this pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChildSteps {
    /// Removals of the current stage, then additions, in execution order.
    pub steps: Vec<Step>,
    /// While removals are under way: what is being waited for (e.g. `deleting 2 route(s)`).
    pub removing: Option<String>,
    /// Wanted children that cannot be created yet (waiting for an association).
    pub blocked: usize,
    /// Steps left for a later pass: the endpoint has no room for more operations in progress.
    pub deferred: usize,
}

/// Operations in progress per endpoint the operator allows itself by default: below AWS's 10
/// (`ConcurrentMutationLimitExceeded`), leaving room for a person at the console.
pub const DEFAULT_OPERATIONS_LIMIT: usize = 8;

/// Operations AWS has in progress on the endpoint: children in a transitional state.
pub fn in_progress(children: &Children) -> usize {
    transitional(children).len()
}

impl ChildSteps {
    /// Keep as many steps as `limit` leaves room for beside the operations in progress.
    fn paced(mut self, children: &Children, limit: usize) -> Self {
        let room = limit.saturating_sub(in_progress(children));
        if self.steps.len() > room {
            self.deferred = self.steps.len() - room;
            self.steps.truncate(room);
        }
        self
    }
}

/// Bring the children to `wanted`, at most `limit` operations in progress on the endpoint.
/// Child tokens are scoped to the object, the endpoint and the generation (see
/// [`child_token`]).
pub fn reconcile_children(
    wanted: &WantedChildren,
    children: &Children,
    scope: &TokenScope,
    limit: usize,
) -> ChildSteps {
    let (mut steps, removing) = removals(wanted, children);
    let (additions, blocked) = additions(wanted, children, scope);
    steps.extend(additions);
    ChildSteps {
        steps,
        removing,
        blocked,
        deferred: 0,
    }
    .paced(children, limit)
}

/// Teardown before deleting an endpoint: reconcile to nothing. `removing` is `None` once
/// nothing is left, and the endpoint itself may be deleted.
pub fn teardown(children: &Children, limit: usize) -> ChildSteps {
    let nothing = WantedChildren::default();
    reconcile_children(&nothing, children, &TokenScope::default(), limit)
}

/// The first removal stage that has something to remove: its steps (skipping what AWS is
/// already removing) and what it waits for.
fn removals(wanted: &WantedChildren, children: &Children) -> (Vec<Step>, Option<String>) {
    let routes: Vec<_> = children
        .routes
        .iter()
        .filter(|r| r.is_managed() && !wanted.routes.contains_key(&r.key))
        .collect();
    if !routes.is_empty() {
        let steps = routes
            .iter()
            .filter(|r| !r.state.is_going_away())
            .map(|r| Step::DeleteRoute {
                route: r.key.clone(),
            })
            .collect();
        return (steps, Some(format!("deleting {} route(s)", routes.len())));
    }
    let rules: Vec<_> = children
        .rules
        .iter()
        .filter(|r| !wanted.rules.contains_key(&r.key))
        .collect();
    if !rules.is_empty() {
        let steps = rules
            .iter()
            .filter(|r| !r.state.is_going_away())
            .map(|r| Step::Revoke {
                rule: r.key.clone(),
            })
            .collect();
        let waiting = format!("revoking {} authorization rule(s)", rules.len());
        return (steps, Some(waiting));
    }
    let networks: Vec<_> = children
        .networks
        .iter()
        .filter(|n| n.is_live() && !wanted.networks.contains(&n.subnet_id))
        .collect();
    if networks.is_empty() {
        return (Vec::new(), None);
    }
    let steps = networks
        .iter()
        .filter(|n| !n.state.is_going_away())
        .map(|n| Step::Disassociate {
            association_id: n.association_id.clone(),
        })
        .collect();
    let waiting = format!("disassociating {} target network(s)", networks.len());
    (steps, Some(waiting))
}

/// Create what the spec adds, and count what has to wait for an association.
fn additions(
    wanted: &WantedChildren,
    children: &Children,
    scope: &TokenScope,
) -> (Vec<Step>, usize) {
    let associated = |subnet: &str| {
        children
            .networks
            .iter()
            .any(|n| n.subnet_id == subnet && n.state == AssociationState::Associated)
    };
    let any_associated = children
        .networks
        .iter()
        .any(|n| n.state == AssociationState::Associated);
    let mut steps = Vec::new();
    let mut blocked = 0;
    for subnet in &wanted.networks {
        if !children
            .networks
            .iter()
            .any(|n| n.is_live() && n.subnet_id == *subnet)
        {
            steps.push(Step::Associate {
                subnet_id: subnet.clone(),
                client_token: scope.token("assoc", subnet),
            });
        }
    }
    for (rule, description) in &wanted.rules {
        if children.rules.iter().any(|r| r.key == *rule) {
            continue;
        }
        if !any_associated {
            blocked += 1;
            continue;
        }
        let group = rule.access_group_id.as_deref().unwrap_or("*");
        steps.push(Step::Authorize {
            client_token: scope.token("rule", &format!("{}|{group}", rule.target_network_cidr)),
            rule: rule.clone(),
            description: description.clone(),
        });
    }
    for (route, description) in &wanted.routes {
        if children
            .routes
            .iter()
            .any(|r| r.is_managed() && r.key == *route)
        {
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
            client_token: scope.token("route", &key),
            route: route.clone(),
            description: description.clone(),
        });
    }
    (steps, blocked)
}

/// Children AWS is still working on, e.g. `subnet-1 associating`.
pub fn transitional(children: &Children) -> Vec<String> {
    let networks = children
        .networks
        .iter()
        .filter(|n| n.state.is_transitional())
        .map(|n| format!("{} {}", n.subnet_id, n.state.as_str()));
    let rules = children
        .rules
        .iter()
        .filter(|r| r.state.is_transitional())
        .map(|r| format!("rule {} {}", r.key.target_network_cidr, r.state.as_str()));
    let routes = children
        .routes
        .iter()
        .filter(|r| r.is_managed() && r.state.is_transitional())
        .map(|r| {
            format!(
                "route {} {}",
                r.key.destination_cidr_block,
                r.state.as_str()
            )
        });
    networks.chain(rules).chain(routes).collect()
}

/// Children AWS gave up on, with AWS's message.
pub fn failed(children: &Children) -> Vec<String> {
    let message = |m: &Option<String>| m.clone().unwrap_or_default();
    let networks = children
        .networks
        .iter()
        .filter(|n| n.state.is_failed())
        .map(|n| {
            let why = message(&n.status_message);
            format!("association of {} failed: {why}", n.subnet_id)
        });
    let rules = children
        .rules
        .iter()
        .filter(|r| r.state.is_failed())
        .map(|r| {
            let why = message(&r.status_message);
            format!("rule {} failed: {why}", r.key.target_network_cidr)
        });
    let routes = children
        .routes
        .iter()
        .filter(|r| r.is_managed() && r.state.is_failed())
        .map(|r| {
            let why = message(&r.status_message);
            format!("route {} failed: {why}", r.key.destination_cidr_block)
        });
    networks.chain(rules).chain(routes).collect()
}

/// What a child's idempotency token is derived from, besides the child itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenScope {
    /// The object's UID.
    pub uid: String,
    /// The endpoint the child belongs to: a recreated endpoint gets new tokens.
    pub endpoint_id: String,
    /// The spec generation: re-adding a removed child is not answered with the old one.
    pub generation: i64,
}

impl TokenScope {
    /// The token of child `key` of `kind`.
    pub fn token(&self, kind: &str, key: &str) -> String {
        child_token(&self.uid, &self.endpoint_id, kind, key, self.generation)
    }
}

/// Idempotency token for a child: stable for one endpoint and spec generation (a retry after a
/// crash reuses it); new for a recreated endpoint (AWS remembers tokens long after the endpoint
/// is gone) and once the spec changes. At most 64 characters.
pub fn child_token(uid: &str, endpoint_id: &str, kind: &str, key: &str, generation: i64) -> String {
    format!(
        "{kind}-{:016x}",
        fnv1a(&[uid, endpoint_id, kind, key, &generation.to_string()])
    )
}

/// 64-bit FNV-1a over the parts, with a separator: stable across releases and platforms.
pub fn fnv1a(parts: &[&str]) -> u64 {
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
#[path = "children_tests.rs"]
mod tests;
