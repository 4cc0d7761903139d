//! Authorize / Revoke / Describe authorization rules (AuthorizeClientVpnIngress & co).

use super::children::{Child, LISTING_PARAMS, Listing, begin_removal, status_only};
use super::error::Ec2Error;
use super::network;
use super::query::Params;
use super::{Ctx, FilterField, check_concurrency, endpoint_mut, idempotent};
use crate::protocol::check_quota;
use crate::state::{Region, Rule, RuleState};

pub const AUTHORIZE_PARAMS: &[&str] = &[
    "ClientVpnEndpointId",
    "TargetNetworkCidr",
    "AccessGroupId",
    "AuthorizeAllGroups",
    "Description",
    "ClientToken",
];
pub const REVOKE_PARAMS: &[&str] = &[
    "ClientVpnEndpointId",
    "TargetNetworkCidr",
    "AccessGroupId",
    "RevokeAllGroups",
];
pub const DESCRIBE_PARAMS: &[&str] = LISTING_PARAMS;

/// Who a rule is for: one access group or everybody.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Grantee {
    Group(String),
    All,
}

impl Grantee {
    fn parse(p: &Params, all_key: &str) -> Result<Self, Ec2Error> {
        let group = p.non_empty("AccessGroupId");
        match (group, p.bool(all_key)?.unwrap_or(false)) {
            (Some(_), true) => Err(Ec2Error::combination(format!(
                "You cannot specify both AccessGroupId and {all_key}."
            ))),
            (Some(group), false) => Ok(Self::Group(group.to_owned())),
            (None, true) => Ok(Self::All),
            (None, false) => Err(Ec2Error::new(
                "MissingParameter",
                "You must specify either access-group-id or authorize-all-groups",
            )),
        }
    }

    fn matches(&self, rule: &Rule) -> bool {
        match self {
            Self::All => rule.access_all,
            Self::Group(group) => !rule.access_all && rule.group_id == *group,
        }
    }
}

pub fn authorize(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let cidr =
        network::parse_cidr("TargetNetworkCidr", p.required("TargetNetworkCidr")?)?.to_string();
    let grantee = Grantee::parse(p, "AuthorizeAllGroups")?;
    let description = p.get("Description").unwrap_or_default().to_owned();
    endpoint_mut(region, endpoint_id)?;
    ctx.proceed()?;
    idempotent(ctx, region, p, |ctx, region| {
        let seq = region.next_seq();
        let ep = endpoint_mut(region, endpoint_id)?;
        let rules = &ep.authorization_rules;
        if rules
            .iter()
            .any(|r| r.destination_cidr == cidr && grantee.matches(r))
        {
            return Err(Ec2Error::new(
                "InvalidClientVpnDuplicateAuthorizationRule",
                format!(
                    "An authorization rule for {cidr} and this access group already exists on {endpoint_id}."
                ),
            ));
        }
        let limit = ctx.limits.rules_per_endpoint;
        let full = format!(
            "Client VPN endpoint {endpoint_id} already has the maximum of {limit} authorization rules."
        );
        let used = rules.len();
        check_quota(used, limit, "ClientVpnAuthorizationRuleLimitExceeded", full)?;
        check_concurrency(ep, &ctx.limits)?;
        let (group_id, access_all) = match grantee {
            Grantee::Group(group) => (group, false),
            Grantee::All => (String::new(), true),
        };
        ep.authorization_rules.push(Rule {
            destination_cidr: cidr,
            group_id,
            access_all,
            description,
            status: RuleState::Authorizing,
            seq,
            due: Some(ctx.due_in(ctx.timing.rule())),
        });
        Ok(status_only(RuleState::Authorizing.as_str()))
    })
}

pub fn revoke(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let cidr =
        network::parse_cidr("TargetNetworkCidr", p.required("TargetNetworkCidr")?)?.to_string();
    let grantee = Grantee::parse(p, "RevokeAllGroups")?;
    let ep = endpoint_mut(region, endpoint_id)?;
    let position = ep
        .authorization_rules
        .iter()
        .position(|r| r.destination_cidr == cidr && grantee.matches(r))
        .ok_or_else(|| {
            Ec2Error::new(
                "InvalidClientVpnEndpointAuthorizationRuleNotFound",
                format!("No authorization rule for {cidr} and this access group exists on {endpoint_id}."),
            )
        })?;
    begin_removal(ctx, ep, |ep| &mut ep.authorization_rules, position)?;
    Ok(status_only(RuleState::Revoking.as_str()))
}

pub fn describe(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let (listing, ep) = Listing::read::<Rule>(ctx, region, p)?;
    let endpoint_id = listing.endpoint_id;
    Ok(
        listing.answer(&ep.authorization_rules, "authorizationRule", |x, r| {
            x.text("clientVpnEndpointId", endpoint_id);
            x.text("description", &r.description);
            x.text("groupId", &r.group_id);
            x.bool("accessAll", r.access_all);
            x.text("destinationCidr", &r.destination_cidr);
            x.status("status", r.status.as_str(), None);
        }),
    )
}

impl Child for Rule {
    const FILTERS: &'static [FilterField<Self>] = &[
        ("description", |r| Some(r.description.as_str())),
        ("destination-cidr", |r| Some(r.destination_cidr.as_str())),
        ("group-id", |r| Some(r.group_id.as_str())),
    ];
}
