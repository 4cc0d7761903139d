//! Who is connected. Every `--connections-interval`, one connection listing per endpoint that
//! has users (none for an endpoint without users); the endpoint's active total goes to its
//! status and the metrics, and only the users whose sessions changed are reconciled, so a quiet
//! fleet of thousands of users costs one AWS listing per endpoint and interval, not a reconcile
//! per user.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use futures::channel::mpsc::UnboundedSender;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use tracing::warn;

use super::view::EndpointView;
use super::{Context, Error, now_unix, patch_endpoint_access, rfc3339};
use crate::api::{ClientVpnEndpoint, ClientVpnUser, EndpointConnections, UserConnections};
use crate::cloud::Connection;
use crate::runtime::{ObjectHandle, ReconcileError};

/// Sessions by common name (the identity with certificate authentication); a name with only
/// ended sessions keeps its last connected time.
pub type ByUser = HashMap<String, UserConnections>;

/// The sessions of each common name in a listing. Pure.
pub fn by_user(connections: &[Connection]) -> ByUser {
    let mut users = ByUser::new();
    for connection in connections {
        let Some(cn) = &connection.common_name else {
            continue;
        };
        let entry = users.entry(cn.clone()).or_default();
        if connection.established > entry.last_connected_time {
            entry.last_connected_time = connection.established.clone();
        }
        if connection.is_active() {
            entry.active += 1;
            entry.client_ips.extend(connection.client_ip.clone());
        }
    }
    for entry in users.values_mut() {
        entry.client_ips.sort();
    }
    users
}

/// Active sessions in a listing.
pub fn active_total(by_user: &ByUser) -> u32 {
    by_user.values().map(|u| u.active).sum()
}

/// The common names whose sessions differ between two listings. Pure.
pub fn changed<'a>(before: &'a ByUser, after: &'a ByUser) -> BTreeSet<&'a str> {
    let differs = |(cn, now): (&'a String, &UserConnections), other: &ByUser| {
        (other.get(cn) != Some(now)).then_some(cn.as_str())
    };
    let gone = before.iter().filter_map(|e| differs(e, after));
    let new = after.iter().filter_map(|e| differs(e, before));
    gone.chain(new).collect()
}

/// Poll forever (until the task is aborted): each tick, every endpoint with users.
pub async fn run(ctx: Arc<Context>, trigger: UnboundedSender<ObjectRef<ClientVpnUser>>) {
    let mut tick = tokio::time::interval(ctx.connections.interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen: HashMap<String, Arc<ByUser>> = HashMap::new();
    loop {
        tick.tick().await;
        if !ctx.caches_ready().await {
            return;
        }
        let endpoints = endpoints_with_users(&ctx);
        seen.retain(|id, _| endpoints.iter().any(|(_, v)| v.id.as_deref() == Some(id)));
        for (endpoint, view) in endpoints {
            match poll(&ctx, &endpoint, &view, &mut seen).await {
                Ok(names) => notify(&ctx, &trigger, &endpoint, &names),
                Err(err) => warn!(
                    endpoint = %ObjectHandle::of(endpoint.as_ref()).key(),
                    error = %err.report(),
                    "listing the connections failed; trying again next interval"
                ),
            }
        }
    }
}

/// The endpoints that have users and an ID in AWS.
fn endpoints_with_users(ctx: &Context) -> Vec<(Arc<ClientVpnEndpoint>, EndpointView)> {
    let used: BTreeSet<(String, String)> = ctx
        .users
        .state()
        .iter()
        .map(|u| {
            (
                u.namespace().unwrap_or_default(),
                u.spec.endpoint_ref.name.clone(),
            )
        })
        .collect();
    used.iter()
        .filter_map(|(namespace, name)| ctx.endpoint(namespace, name))
        .map(|e| {
            let view = EndpointView::of(&e);
            (e, view)
        })
        .filter(|(_, view)| view.id.is_some() && view.region.is_some() && !view.deleting)
        .collect()
}

/// One endpoint: its listing (shared with the users' reconciles), the total in status and
/// metrics; the common names whose sessions changed since the last tick.
async fn poll(
    ctx: &Context,
    endpoint: &ClientVpnEndpoint,
    view: &EndpointView,
    seen: &mut HashMap<String, Arc<ByUser>>,
) -> Result<Vec<String>, Error> {
    let (Some(id), Some(region)) = (view.id.as_deref(), view.region.as_deref()) else {
        return Ok(Vec::new());
    };
    let (listing, _) = ctx.connections.get(ctx.access.as_ref(), region, id).await?;
    let handle = ObjectHandle::of(endpoint);
    let total = active_total(&listing.by_user);
    ctx.runtime
        .metrics
        .connections_observed(&handle.namespace, &handle.name, total);
    let written = endpoint
        .status
        .as_ref()
        .and_then(|s| s.connections.as_ref())
        .map(|c| c.active);
    if written != Some(total) {
        let value = EndpointConnections {
            active: total,
            observed_at: rfc3339(now_unix()),
        };
        patch_endpoint_access(ctx, &handle, "connections", &value).await?;
    }
    let empty = ByUser::new();
    let before = seen.get(id).map_or(&empty, |b| b.as_ref());
    let names = changed(before, &listing.by_user)
        .into_iter()
        .map(str::to_string)
        .collect();
    seen.insert(id.to_string(), listing.by_user.clone());
    Ok(names)
}

/// Reconcile the users of `endpoint` with these common names.
fn notify(
    ctx: &Context,
    trigger: &UnboundedSender<ObjectRef<ClientVpnUser>>,
    endpoint: &ClientVpnEndpoint,
    names: &[String],
) {
    if names.is_empty() {
        return;
    }
    let name = endpoint.name_any();
    for user in ctx.users.state().iter().filter(|u| {
        u.metadata.namespace == endpoint.metadata.namespace
            && u.spec.endpoint_ref.name == name
            && names.iter().any(|n| n == super::common_name(u))
    }) {
        let _ = trigger.unbounded_send(ObjectRef::from_obj(user.as_ref()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(cn: &str, status: &str, ip: &str, at: &str) -> Connection {
        Connection {
            connection_id: format!("cvpn-connection-{cn}-{ip}"),
            common_name: Some(cn.into()),
            client_ip: Some(ip.into()),
            status: Some(status.into()),
            established: Some(at.into()),
        }
    }

    #[test]
    fn sessions_are_summed_per_common_name_and_ended_ones_keep_the_last_connect() {
        let listing = [
            session("alice", "active", "10.0.0.3", "2026-12-03 10:00:00"),
            session("alice", "active", "10.0.0.2", "2026-12-03 11:00:00"),
            session("bob", "terminated", "10.0.0.4", "2026-12-03 09:00:00"),
        ];
        let users = by_user(&listing);
        assert_eq!(users["alice"].active, 2);
        assert_eq!(users["alice"].client_ips, ["10.0.0.2", "10.0.0.3"]);
        assert_eq!(
            users["alice"].last_connected_time.as_deref(),
            Some("2026-12-03 11:00:00")
        );
        assert_eq!(users["bob"].active, 0);
        assert!(users["bob"].client_ips.is_empty());
        assert_eq!(
            users["bob"].last_connected_time.as_deref(),
            Some("2026-12-03 09:00:00")
        );
        assert_eq!(active_total(&users), 2);
    }

    #[test]
    fn only_common_names_whose_sessions_changed_are_named() {
        let before = by_user(&[
            session("alice", "active", "10.0.0.2", "2026-12-03 10:00:00"),
            session("bob", "active", "10.0.0.3", "2026-12-03 10:00:00"),
            session("carol", "active", "10.0.0.4", "2026-12-03 10:00:00"),
        ]);
        let after = by_user(&[
            session("alice", "active", "10.0.0.2", "2026-12-03 10:00:00"),
            session("bob", "terminated", "10.0.0.3", "2026-12-03 10:00:00"),
            session("dave", "active", "10.0.0.5", "2026-12-03 10:05:00"),
        ]);
        let names: Vec<&str> = changed(&before, &after).into_iter().collect();
        assert_eq!(names, ["bob", "carol", "dave"]);
        assert!(changed(&after, &after).is_empty());
    }
}
