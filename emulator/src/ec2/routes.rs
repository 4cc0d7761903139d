//! Create / Delete / Describe Client VPN routes.

use super::children::{Child, LISTING_PARAMS, Listing, begin_removal, status_only};
use super::error::Ec2Error;
use super::network;
use super::query::Params;
use super::{Ctx, FilterField, check_concurrency, endpoint_mut, idempotent};
use crate::protocol::check_quota;
use crate::state::{AssociationState, Region, Route, RouteState};

pub const CREATE_PARAMS: &[&str] = &[
    "ClientVpnEndpointId",
    "DestinationCidrBlock",
    "TargetVpcSubnetId",
    "Description",
    "ClientToken",
];
pub const DELETE_PARAMS: &[&str] = &[
    "ClientVpnEndpointId",
    "TargetVpcSubnetId",
    "DestinationCidrBlock",
];
pub const DESCRIBE_PARAMS: &[&str] = LISTING_PARAMS;

const ADD_ROUTE: &str = "add-route";

pub fn create(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let cidr = network::parse_cidr("DestinationCidrBlock", p.required("DestinationCidrBlock")?)?
        .to_string();
    let subnet = p.non_empty("TargetVpcSubnetId");
    let description = p.get("Description").unwrap_or_default().to_owned();
    let ep = endpoint_mut(region, endpoint_id)?;
    let attachment = ep
        .transit_gateway_configuration
        .as_ref()
        .map(|t| t.transit_gateway_attachment_id.clone());
    let subnet = match (subnet, &attachment) {
        (Some(subnet), _) => subnet.to_owned(),
        (None, Some(_)) => String::new(),
        (None, None) => return Err(Ec2Error::missing("TargetVpcSubnetId")),
    };
    ctx.proceed()?;
    idempotent(ctx, region, p, |ctx, region| {
        let seq = region.next_seq();
        let ep = endpoint_mut(region, endpoint_id)?;
        if attachment.is_none() {
            let active = ep
                .associations
                .iter()
                .any(|a| a.target_network_id == subnet && a.status == AssociationState::Associated);
            if !active {
                return Err(Ec2Error::new(
                    "InvalidClientVpnActiveAssociationNotFound",
                    format!(
                        "Subnet {subnet} has no active association with Client VPN endpoint {endpoint_id}."
                    ),
                ));
            }
        }
        if ep
            .routes
            .iter()
            .any(|r| r.destination_cidr == cidr && r.target_subnet == subnet)
        {
            return Err(Ec2Error::new(
                "InvalidClientVpnDuplicateRoute",
                format!("The route {cidr} via {subnet} already exists on {endpoint_id}."),
            ));
        }
        let per_target = ep
            .routes
            .iter()
            .filter(|r| r.target_subnet == subnet && r.origin == ADD_ROUTE)
            .count();
        let limit = ctx.limits.routes_per_association;
        let full =
            format!("The target network {subnet} already has the maximum of {limit} routes.");
        check_quota(per_target, limit, "ClientVpnRouteLimitExceeded", full)?;
        check_concurrency(ep, &ctx.limits)?;
        ep.routes.push(Route {
            destination_cidr: cidr,
            target_subnet: subnet,
            kind: "Nat".to_owned(),
            origin: ADD_ROUTE.to_owned(),
            description,
            status: RouteState::Creating,
            transit_gateway_attachment_id: attachment,
            seq,
            due: Some(ctx.due_in(ctx.timing.route())),
        });
        Ok(status_only(RouteState::Creating.as_str()))
    })
}

pub fn delete(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let cidr = network::parse_cidr("DestinationCidrBlock", p.required("DestinationCidrBlock")?)?
        .to_string();
    let subnet = p.non_empty("TargetVpcSubnetId");
    let ep = endpoint_mut(region, endpoint_id)?;
    let matching: Vec<usize> = ep
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r.destination_cidr == cidr && subnet.is_none_or(|s| r.target_subnet == s))
        .map(|(i, _)| i)
        .collect();
    let position = match matching.as_slice() {
        [] => {
            return Err(Ec2Error::new(
                "InvalidClientVpnRouteNotFound",
                format!("The route {cidr} does not exist on {endpoint_id}."),
            ));
        }
        [position] => *position,
        [..] => {
            return Err(Ec2Error::invalid(format!(
                "Several routes to {cidr} exist on {endpoint_id}; specify TargetVpcSubnetId."
            )));
        }
    };
    let route = &ep.routes[position];
    if route.origin != ADD_ROUTE {
        return Err(Ec2Error::invalid(format!(
            "The route {cidr} via {} was created by a target network association and cannot be deleted; disassociate the target network instead.",
            route.target_subnet
        )));
    }
    begin_removal(ctx, ep, |ep| &mut ep.routes, position)?;
    Ok(status_only(RouteState::Deleting.as_str()))
}

pub fn describe(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let (listing, ep) = Listing::read::<Route>(ctx, region, p)?;
    let endpoint_id = listing.endpoint_id;
    Ok(listing.answer(&ep.routes, "routes", |x, r| {
        x.text("clientVpnEndpointId", endpoint_id);
        x.text("destinationCidr", &r.destination_cidr);
        x.text("targetSubnet", &r.target_subnet);
        x.text("type", &r.kind);
        x.text("origin", &r.origin);
        x.status("status", r.status.as_str(), None);
        x.text("description", &r.description);
        x.opt_text(
            "transitGatewayAttachmentId",
            r.transit_gateway_attachment_id.as_deref(),
        );
    }))
}

impl Child for Route {
    const FILTERS: &'static [FilterField<Self>] = &[
        ("destination-cidr", |r| Some(r.destination_cidr.as_str())),
        ("origin", |r| Some(r.origin.as_str())),
        ("target-subnet", |r| Some(r.target_subnet.as_str())),
    ];
}
