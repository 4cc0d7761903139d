//! Associate / Disassociate / Describe target networks, and ApplySecurityGroups.

use super::children::{Child, LISTING_PARAMS, Listing, begin_removal};
use super::error::Ec2Error;
use super::network;
use super::query::{Params, concat};
use super::xml::Xml;
use super::{Ctx, FilterField, check_concurrency, endpoint_mut, idempotent};
use crate::state::{Association, AssociationState, Endpoint, Region};

pub const ASSOCIATE_PARAMS: &[&str] = &[
    "ClientVpnEndpointId",
    "SubnetId",
    "ClientToken",
    "AvailabilityZone",
    "AvailabilityZoneId",
];
pub const DISASSOCIATE_PARAMS: &[&str] = &["ClientVpnEndpointId", "AssociationId"];
pub const DESCRIBE_PARAMS: &[&str] =
    &concat::<{ LISTING_PARAMS.len() + 1 }>(LISTING_PARAMS, &["AssociationIds.#"]);
pub const APPLY_SECURITY_GROUPS_PARAMS: &[&str] =
    &["ClientVpnEndpointId", "VpcId", "SecurityGroupId.#"];

/// Where an association lands: a subnet (VPC endpoints) or an AZ (transit-gateway endpoints).
enum Target {
    Subnet {
        id: String,
        subnet: network::Subnet,
    },
    Zone {
        name: Option<String>,
        id: Option<String>,
    },
}

pub fn associate(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let subnet_id = p.non_empty("SubnetId");
    let zone = p.non_empty("AvailabilityZone");
    let zone_id = p.non_empty("AvailabilityZoneId");
    let ep = endpoint_mut(region, endpoint_id)?;
    let target = if ep.is_transit_gateway() {
        match (subnet_id, zone, zone_id) {
            (Some(_), _, _) => {
                return Err(Ec2Error::combination(
                    "A transit gateway Client VPN endpoint is associated with an AvailabilityZone or AvailabilityZoneId, not a SubnetId.",
                ));
            }
            (None, None, None) => return Err(Ec2Error::missing("AvailabilityZone")),
            (None, Some(_), Some(_)) => {
                return Err(Ec2Error::combination(
                    "Specify either AvailabilityZone or AvailabilityZoneId, not both.",
                ));
            }
            (None, name, id) => Target::Zone {
                name: name.map(str::to_owned),
                id: id.map(str::to_owned),
            },
        }
    } else {
        if zone.is_some() || zone_id.is_some() {
            return Err(Ec2Error::combination(
                "AvailabilityZone and AvailabilityZoneId apply to transit gateway Client VPN endpoints only.",
            ));
        }
        let id = subnet_id.ok_or_else(|| Ec2Error::missing("SubnetId"))?;
        Target::Subnet {
            id: id.to_owned(),
            subnet: network::subnet(id, ctx.region_name)?,
        }
    };
    ctx.proceed()?;
    idempotent(ctx, region, p, |ctx, region| {
        let seq = region.next_seq();
        let ep = endpoint_mut(region, endpoint_id)?;
        let association_id = ctx.rng.resource_id("cvpn-assoc-");
        let association = match target {
            Target::Subnet { id, subnet } => {
                check_subnet(ep, &id, &subnet, ctx.region_name)?;
                check_concurrency(ep, &ctx.limits)?;
                if ep.vpc_id.is_none() {
                    ep.security_group_ids = vec![network::default_security_group(&subnet.vpc_id)];
                    ep.vpc_id = Some(subnet.vpc_id.clone());
                }
                Association {
                    association_id: association_id.clone(),
                    vpc_cidr: Some(network::vpc_cidr(&subnet.vpc_id).to_string()),
                    vpc_id: Some(subnet.vpc_id),
                    target_network_id: id,
                    status: AssociationState::Associating,
                    security_groups: ep.security_group_ids.clone(),
                    availability_zones: Vec::new(),
                    availability_zone_ids: Vec::new(),
                    seq,
                    due: None,
                    was_associated: false,
                }
            }
            Target::Zone { name, id } => {
                let duplicate = ep.associations.iter().any(|a| {
                    name.as_ref()
                        .is_some_and(|n| a.availability_zones.contains(n))
                        || id
                            .as_ref()
                            .is_some_and(|i| a.availability_zone_ids.contains(i))
                });
                if duplicate {
                    return Err(Ec2Error::new(
                        "InvalidClientVpnDuplicateAssociationException",
                        "The availability zone is already associated with the Client VPN endpoint.",
                    ));
                }
                check_concurrency(ep, &ctx.limits)?;
                let tgw = ep
                    .transit_gateway_configuration
                    .as_ref()
                    .map(|t| t.transit_gateway_id.clone())
                    .unwrap_or_default();
                Association {
                    association_id: association_id.clone(),
                    vpc_cidr: None,
                    vpc_id: None,
                    target_network_id: tgw,
                    status: AssociationState::Associating,
                    security_groups: Vec::new(),
                    availability_zones: name.into_iter().collect(),
                    availability_zone_ids: id.into_iter().collect(),
                    seq,
                    due: None,
                    was_associated: false,
                }
            }
        };
        let mut association = association;
        association.due = Some(ctx.due_in(ctx.timing.association()));
        ep.associations.push(association);
        let mut x = Xml::new();
        x.text("associationId", &association_id);
        x.status("status", AssociationState::Associating.as_str(), None);
        Ok(x.into_string())
    })
}

/// The association rules for a subnet: not twice, same VPC, one per AZ, no CIDR overlap.
fn check_subnet(
    ep: &Endpoint,
    subnet_id: &str,
    subnet: &network::Subnet,
    region: &str,
) -> Result<(), Ec2Error> {
    if ep
        .associations
        .iter()
        .any(|a| a.target_network_id == subnet_id)
    {
        return Err(Ec2Error::new(
            "InvalidClientVpnDuplicateAssociationException",
            format!(
                "The subnet {subnet_id} is already associated with Client VPN endpoint {}.",
                ep.client_vpn_endpoint_id
            ),
        ));
    }
    if let Some(vpc) = &ep.vpc_id
        && *vpc != subnet.vpc_id
    {
        return Err(Ec2Error::invalid(format!(
            "The subnet {subnet_id} is in {}, but Client VPN endpoint {} uses {vpc}.",
            subnet.vpc_id, ep.client_vpn_endpoint_id
        )));
    }
    let same_zone = ep.associations.iter().find(|a| {
        a.vpc_id.is_some()
            && network::subnet(&a.target_network_id, region)
                .is_ok_and(|other| other.availability_zone == subnet.availability_zone)
    });
    if let Some(other) = same_zone {
        return Err(Ec2Error::new(
            "InvalidClientVpnSubnetId.DuplicateAz",
            format!(
                "Subnet {subnet_id} is in availability zone {}, which already has associated subnet {}.",
                subnet.availability_zone, other.target_network_id
            ),
        ));
    }
    if let Some(client) = &ep.client_cidr_block
        && let Ok(client) = client.parse()
    {
        let vpc = network::vpc_cidr(&subnet.vpc_id);
        if network::overlaps(&client, &vpc) {
            return Err(Ec2Error::new(
                "InvalidClientVpnSubnetId.OverlappingCidr",
                format!(
                    "The client CIDR block {client} overlaps with the CIDR {vpc} of {} (subnet {subnet_id}).",
                    subnet.vpc_id
                ),
            ));
        }
    }
    Ok(())
}

pub fn disassociate(
    ctx: &mut Ctx<'_>,
    region: &mut Region,
    p: &Params,
) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let association_id = p.required("AssociationId")?;
    let ep = endpoint_mut(region, endpoint_id)?;
    let position = ep
        .associations
        .iter()
        .position(|a| a.association_id == association_id)
        .ok_or_else(|| association_not_found(association_id))?;
    begin_removal(ctx, ep, |ep| &mut ep.associations, position)?;
    let mut x = Xml::new();
    x.text("associationId", association_id);
    x.status("status", AssociationState::Disassociating.as_str(), None);
    Ok(x.into_string())
}

pub fn describe(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let (listing, ep) = Listing::read::<Association>(ctx, region, p)?;
    let endpoint_id = listing.endpoint_id;
    let ids = p.list("AssociationIds");
    if let Some(missing) = ids
        .iter()
        .find(|id| !ep.associations.iter().any(|a| a.association_id == **id))
    {
        return Err(association_not_found(missing));
    }
    let requested = ep
        .associations
        .iter()
        .filter(|a| ids.is_empty() || ids.contains(&a.association_id));
    Ok(
        listing.answer(requested, "clientVpnTargetNetworks", |x, a| {
            x.text("associationId", &a.association_id);
            x.opt_text("vpcId", a.vpc_id.as_deref());
            x.text("targetNetworkId", &a.target_network_id);
            x.text("clientVpnEndpointId", endpoint_id);
            x.status("status", a.status.as_str(), None);
            x.string_list("securityGroups", &a.security_groups);
            if !a.availability_zones.is_empty() {
                x.string_list("availabilityZoneSet", &a.availability_zones);
            }
            if !a.availability_zone_ids.is_empty() {
                x.string_list("availabilityZoneIdSet", &a.availability_zone_ids);
            }
        }),
    )
}

impl Child for Association {
    const FILTERS: &'static [FilterField<Self>] = &[
        ("association-id", |a| Some(a.association_id.as_str())),
        ("target-network-id", |a| Some(a.target_network_id.as_str())),
        ("vpc-id", |a| a.vpc_id.as_deref()),
    ];
}

pub fn apply_security_groups(
    ctx: &mut Ctx<'_>,
    region: &mut Region,
    p: &Params,
) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let vpc_id = p.required("VpcId")?;
    network::check_vpc_id(vpc_id)?;
    let too_many = "At most five security groups can be applied.";
    let groups = p.required_list("SecurityGroupId", 5, too_many)?;
    for group in &groups {
        network::check_security_group_id(group)?;
    }
    let ep = endpoint_mut(region, endpoint_id)?;
    if ep.is_transit_gateway() {
        return Err(Ec2Error::combination(
            "Security groups cannot be applied to a transit gateway Client VPN endpoint.",
        ));
    }
    if let Some(current) = &ep.vpc_id
        && current != vpc_id
    {
        return Err(Ec2Error::invalid(format!(
            "The VPC {vpc_id} does not match the VPC {current} of Client VPN endpoint {endpoint_id}."
        )));
    }
    ctx.proceed()?;
    // Applying security groups is instant here, so it never stays in progress, but it is refused
    // while the endpoint is at its limit.
    check_concurrency(ep, &ctx.limits)?;
    ep.vpc_id = Some(vpc_id.to_owned());
    for association in &mut ep.associations {
        association.security_groups = groups.clone();
    }
    ep.security_group_ids = groups;
    let mut x = Xml::new();
    x.string_list("securityGroupIds", &ep.security_group_ids);
    Ok(x.into_string())
}

fn association_not_found(id: &str) -> Ec2Error {
    Ec2Error::new(
        "InvalidClientVpnAssociationIdNotFound",
        format!("The association ID '{id}' does not exist"),
    )
}
