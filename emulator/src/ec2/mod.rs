//! The EC2 protocol layer: the Query protocol on the wire (form-encoded `Action=…`, XML
//! answers, the EC2 error envelope) and the 21 Client VPN actions, one module per resource, plus
//! what they share (endpoint lookup, DryRun, ClientToken idempotency, the concurrency limit).

mod associations;
mod certificates;
mod children;
mod connections;
mod describe;
mod endpoint_params;
mod endpoints;
pub mod error;
mod export;
pub mod network;
pub mod query;
mod revocation;
mod routes;
mod rules;
mod tags;
mod wire;
pub mod xml;

use std::time::{Duration, Instant};

pub use error::Ec2Error;
pub use wire::Ec2;

use crate::clock::Now;
use crate::config::{Limits, Settings, Timing};
use crate::ids::Rng;
use crate::protocol::Call;
use crate::state::{Endpoint, EndpointState, IdempotencyRecord, Region, World};
pub(crate) use describe::{Filter, FilterField, Page, filters, seq_key};
use query::Params;

macro_rules! actions {
    ($($name:ident => $module:ident::$handler:ident($params:ident)),+ $(,)?) => {
        crate::protocol::action_enum! {
            /// An EC2 action the emulator implements.
            $($name),+
        }

        impl Action {
            /// Every parameter the action accepts, list indexes written as `#`.
            pub fn params(self) -> &'static [&'static str] {
                match self {
                    $(Action::$name => $module::$params),+
                }
            }

            fn run(self, ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
                match self {
                    $(Action::$name => $module::$handler(ctx, region, p)),+
                }
            }
        }
    };
}

actions! {
    CreateClientVpnEndpoint => endpoints::create(CREATE_PARAMS),
    DescribeClientVpnEndpoints => endpoints::describe(DESCRIBE_PARAMS),
    ModifyClientVpnEndpoint => endpoints::modify(MODIFY_PARAMS),
    DeleteClientVpnEndpoint => endpoints::delete(DELETE_PARAMS),
    AssociateClientVpnTargetNetwork => associations::associate(ASSOCIATE_PARAMS),
    DisassociateClientVpnTargetNetwork => associations::disassociate(DISASSOCIATE_PARAMS),
    DescribeClientVpnTargetNetworks => associations::describe(DESCRIBE_PARAMS),
    ApplySecurityGroupsToClientVpnTargetNetwork => associations::apply_security_groups(APPLY_SECURITY_GROUPS_PARAMS),
    AuthorizeClientVpnIngress => rules::authorize(AUTHORIZE_PARAMS),
    RevokeClientVpnIngress => rules::revoke(REVOKE_PARAMS),
    DescribeClientVpnAuthorizationRules => rules::describe(DESCRIBE_PARAMS),
    CreateClientVpnRoute => routes::create(CREATE_PARAMS),
    DeleteClientVpnRoute => routes::delete(DELETE_PARAMS),
    DescribeClientVpnRoutes => routes::describe(DESCRIBE_PARAMS),
    CreateTags => tags::create(CREATE_PARAMS),
    DeleteTags => tags::delete(DELETE_PARAMS),
    ExportClientVpnClientConfiguration => export::export(EXPORT_PARAMS),
    ImportClientVpnClientCertificateRevocationList => revocation::import(IMPORT_PARAMS),
    ExportClientVpnClientCertificateRevocationList => revocation::export(EXPORT_PARAMS),
    DescribeClientVpnConnections => connections::describe(DESCRIBE_PARAMS),
    TerminateClientVpnConnections => connections::terminate(TERMINATE_PARAMS),
}

/// Runs one action against the caller's region and returns the response body (the children of
/// `<{Action}Response>` after `<requestId>`).
pub fn execute(world: &mut World, call: &Call<Ec2>, now: Now) -> Result<String, Ec2Error> {
    let (caller, action, params) = (&call.caller, call.action, &call.input);
    params.check_allowed(action.params())?;
    let dry_run = params.bool("DryRun")?.unwrap_or(false);
    let (timing, limits, settings) = (world.timing, world.limits, world.settings);
    let (region, rng) = world.caller_region(caller, &now);
    let mut ctx = Ctx {
        action,
        account_id: &caller.account_id,
        region_name: &caller.region,
        now,
        timing,
        limits,
        settings,
        rng,
        dry_run,
        scheduled: None,
    };
    let result = action.run(&mut ctx, region, params);
    region.schedule(ctx.scheduled);
    result
}

/// What a handler knows about the request besides its parameters.
pub struct Ctx<'a> {
    pub action: Action,
    pub account_id: &'a str,
    pub region_name: &'a str,
    pub now: Now,
    pub timing: Timing,
    pub limits: Limits,
    pub settings: Settings,
    pub rng: &'a mut Rng,
    pub dry_run: bool,
    scheduled: Option<Instant>,
}

impl Ctx<'_> {
    /// Call once validation has passed: with `DryRun=true` this is where the request stops,
    /// with `DryRunOperation` (412) and no changes.
    pub fn proceed(&self) -> Result<(), Ec2Error> {
        if self.dry_run {
            Err(Ec2Error::dry_run())
        } else {
            Ok(())
        }
    }

    /// The instant a transition started now ends, remembered so the region wakes up for it.
    pub fn due_in(&mut self, delay: Duration) -> Instant {
        let at = self.now.after(delay);
        self.scheduled = Some(self.scheduled.map_or(at, |s| s.min(at)));
        at
    }
}

/// An endpoint that can be read (anything but `deleted`).
pub fn endpoint<'r>(region: &'r Region, id: &str) -> Result<&'r Endpoint, Ec2Error> {
    match region.endpoints.get(id) {
        Some(ep) if ep.status != EndpointState::Deleted => Ok(ep),
        _ => Err(Ec2Error::endpoint_not_found(id)),
    }
}

/// An endpoint that can be changed (not `deleting` or `deleted`).
pub fn endpoint_mut<'r>(region: &'r mut Region, id: &str) -> Result<&'r mut Endpoint, Ec2Error> {
    match region.endpoints.get_mut(id) {
        Some(ep) if ep.status == EndpointState::Deleting => Err(Ec2Error::incorrect_state(
            format!("The Client VPN endpoint {id} is being deleted."),
        )),
        Some(ep) if ep.status != EndpointState::Deleted => Ok(ep),
        _ => Err(Ec2Error::endpoint_not_found(id)),
    }
}

/// AWS's limit on changes in progress per endpoint: call right before a mutation starts a new
/// transition (not for replays or repeats of a change already under way).
pub fn check_concurrency(ep: &Endpoint, limits: &Limits) -> Result<(), Ec2Error> {
    if ep.operations_in_progress() >= limits.concurrent_operations_per_endpoint {
        return Err(Ec2Error::new(
            "ConcurrentMutationLimitExceeded",
            "Cannot initiate another change for this endpoint at this time. Please try again later.",
        ));
    }
    Ok(())
}

/// ClientToken idempotency: a repeated token with identical parameters returns the original
/// response without running `apply`; with different parameters it is
/// `IdempotentParameterMismatch`. Call after validation and [`Ctx::proceed`].
pub fn idempotent(
    ctx: &mut Ctx<'_>,
    region: &mut Region,
    p: &Params,
    apply: impl FnOnce(&mut Ctx<'_>, &mut Region) -> Result<String, Ec2Error>,
) -> Result<String, Ec2Error> {
    let token = p.non_empty("ClientToken");
    let Some(token) = token else {
        return apply(ctx, region);
    };
    if token.len() > 64 || !token.is_ascii() {
        return Err(Ec2Error::invalid_value(
            "ClientToken",
            token,
            "The token must be at most 64 ASCII characters.",
        ));
    }
    let fingerprint = p.fingerprint(&["Action", "Version", "DryRun", "ClientToken"]);
    let key = (ctx.action.name(), token.to_owned());
    if let Some(record) = region.idempotency.get(&key) {
        return if record.fingerprint == fingerprint {
            Ok(record.response.clone())
        } else {
            Err(Ec2Error::new(
                "IdempotentParameterMismatch",
                format!(
                    "The client token {token} was already used in a request with different parameters."
                ),
            ))
        };
    }
    let response = apply(ctx, region)?;
    region.idempotency.insert(
        key,
        IdempotencyRecord {
            fingerprint,
            response: response.clone(),
        },
    );
    Ok(response)
}

/// `<return>true</return>`, the body of actions that only acknowledge.
pub fn return_true() -> String {
    "<return>true</return>".to_owned()
}
