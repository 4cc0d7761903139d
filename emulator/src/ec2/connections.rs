//! Describe / Terminate client connections. Sessions come from simulated clients
//! (`POST /_emulator/connections`); terminating one takes the terminate delay, and ended
//! sessions stay listed for 60 minutes.

use super::children::{Child, LISTING_PARAMS, Lifecycle, Listing};
use super::error::Ec2Error;
use super::query::Params;
use super::xml::Xml;
use super::{Ctx, FilterField, endpoint_mut};
use crate::clock::format_connection_time;
use crate::state::{Connection, ConnectionState, Region};

pub const DESCRIBE_PARAMS: &[&str] = LISTING_PARAMS;
pub const TERMINATE_PARAMS: &[&str] = &["ClientVpnEndpointId", "ConnectionId", "Username"];

/// Sessions one `Username` may terminate at once (documented limit).
const MAX_TERMINATED_PER_USER: usize = 5;

pub fn describe(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let (listing, ep) = Listing::read::<Connection>(ctx, region, p)?;
    let endpoint_id = listing.endpoint_id;
    let timestamp = format_connection_time(ctx.now.wall);
    Ok(listing.answer(&ep.connections, "connections", |x, c| {
        x.text("clientVpnEndpointId", endpoint_id);
        x.text("timestamp", &timestamp);
        x.text("connectionId", &c.connection_id);
        x.opt_text("username", c.username.as_deref());
        x.text("connectionEstablishedTime", &c.connection_established_time);
        for (name, value) in [
            ("ingressBytes", c.ingress_bytes),
            ("egressBytes", c.egress_bytes),
            ("ingressPackets", c.ingress_packets),
            ("egressPackets", c.egress_packets),
        ] {
            x.text(name, &value.to_string());
        }
        x.opt_text("clientIp", c.client_ip.as_deref());
        x.text("commonName", &c.common_name);
        x.status("status", c.status.as_str(), None);
        x.opt_text("connectionEndTime", c.connection_end_time.as_deref());
    }))
}

impl Child for Connection {
    const FILTERS: &'static [FilterField<Self>] = &[
        ("connection-id", |c| Some(c.connection_id.as_str())),
        ("username", |c| c.username.as_deref()),
    ];
}

pub fn terminate(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let connection_id = p.non_empty("ConnectionId");
    let username = p.non_empty("Username");
    let ep = endpoint_mut(region, endpoint_id)?;
    let targets: Vec<usize> = match (connection_id, username) {
        (None, None) => {
            return Err(Ec2Error::new(
                "MissingParameter",
                "You must specify either ConnectionId or Username.",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(Ec2Error::combination(
                "Specify either ConnectionId or Username, not both.",
            ));
        }
        (Some(id), None) => {
            let position = ep.connections.iter().position(|c| c.connection_id == id);
            vec![position.ok_or_else(|| {
                Ec2Error::new(
                    "InvalidClientVpnConnection.IdNotFound",
                    format!(
                        "The connection ID '{id}' does not exist for Client VPN endpoint {endpoint_id}."
                    ),
                )
            })?]
        }
        (None, Some(user)) => {
            let active: Vec<usize> = (0..ep.connections.len())
                .filter(|&i| {
                    let c = &ep.connections[i];
                    c.username.as_deref() == Some(user) && c.status == ConnectionState::Active
                })
                .collect();
            if active.is_empty() {
                return Err(Ec2Error::new(
                    "InvalidClientVpnConnection.UserNotFound",
                    format!("The specified user does not have an active connection: {user}"),
                ));
            }
            if active.len() > MAX_TERMINATED_PER_USER {
                return Err(Ec2Error::new(
                    "ClientVpnTerminateConnectionsLimitExceeded",
                    format!(
                        "The user {user} has {} active connections; at most {MAX_TERMINATED_PER_USER} can be terminated by username.",
                        active.len()
                    ),
                ));
            }
            active
        }
    };
    ctx.proceed()?;
    let due = ctx.due_in(Connection::delay(&ctx.timing));
    let ep = endpoint_mut(region, endpoint_id)?;
    let mut x = Xml::new();
    x.text("clientVpnEndpointId", endpoint_id);
    x.opt_text("username", username);
    x.list("connectionStatuses", targets, |x, i| {
        let c = &mut ep.connections[i];
        let previous = c.status;
        // Only an active session changes; one already ending is reported as it is.
        if previous == ConnectionState::Active {
            c.start_leaving(due);
        }
        x.text("connectionId", &c.connection_id);
        x.status("previousStatus", previous.as_str(), None);
        x.status("currentStatus", c.status.as_str(), None);
    });
    Ok(x.into_string())
}
