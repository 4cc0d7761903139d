//! Status: endpoint facts and health → `ClientVpnEndpointStatus` (pure), and its write, only
//! when it differs from what the object has.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use super::plan::{Children, Health};
use super::{Context, Error, Target};
use crate::api::{
    AuthorizationRuleStatus, CertificateOrigin, CertificateStatus, ClientVpnEndpoint,
    ClientVpnEndpointStatus, EndpointStatus, RouteStatus, TargetNetworkStatus, condition,
};
use crate::cloud::{ChildState, CreatedEndpoint, ObservedEndpoint, status_code};
use crate::runtime::conditions::{Conditions, Standing};
use crate::runtime::{StatusWrite, write_status};

/// Write the status for these facts and health when it differs from the object's; true when
/// something was written.
pub async fn write(
    ctx: &Context,
    obj: &ClientVpnEndpoint,
    target: &Target,
    facts: EndpointFacts,
    health: &Health,
) -> Result<bool, Error> {
    // The revocation list and connection count belong to the users controller (its own field
    // manager): never compared or written here.
    let previous = ClientVpnEndpointStatus {
        revocation_list: None,
        connections: None,
        ..obj.status.clone().unwrap_or_default()
    };
    let now = Time(Timestamp::now());
    let next = compute_status(&previous, facts, health, obj.metadata.generation, &now);
    write_status(ctx.cluster(), &target.handle, &previous, &next)
        .await
        .map(|written| written != StatusWrite::Unchanged)
        .map_err(Error::PatchStatus)
}

/// Keep the facts, change the health.
pub async fn write_health(
    ctx: &Context,
    obj: &ClientVpnEndpoint,
    target: &Target,
    health: &Health,
) -> Result<bool, Error> {
    write(ctx, obj, target, EndpointFacts::of(obj), health).await
}

/// Deletion in progress: AWS status `deleting` and what is being waited for.
pub async fn write_deleting(
    ctx: &Context,
    obj: &ClientVpnEndpoint,
    target: &Target,
    message: String,
) -> Result<bool, Error> {
    let mut facts = EndpointFacts::of(obj);
    facts.status_code = Some(status_code::DELETING.into());
    let health = Health::Reconciling {
        reason: "Deleting",
        message,
    };
    write(ctx, obj, target, facts, &health).await
}

/// Facts about the endpoint to record in status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointFacts {
    pub id: Option<String>,
    pub dns_name: Option<String>,
    pub status_code: Option<String>,
    pub status_message: Option<String>,
    pub self_service_portal_url: Option<String>,
    pub creation_time: Option<String>,
    pub region: Option<String>,
    pub target_networks: Vec<TargetNetworkStatus>,
    pub authorization_rules: Vec<AuthorizationRuleStatus>,
    pub routes: Vec<RouteStatus>,
    pub applied_tag_keys: Vec<String>,
    /// Set by the reconcile from the certificates it resolved (empty from `observed`/`created`).
    pub certificates: Vec<CertificateStatus>,
}

impl EndpointFacts {
    /// Facts from a Describe of the endpoint and its children.
    pub fn observed(
        endpoint: &ObservedEndpoint,
        region: &str,
        children: &Children,
        applied_tag_keys: Vec<String>,
    ) -> Self {
        Self {
            id: Some(endpoint.id.clone()),
            dns_name: endpoint.dns_name.clone(),
            status_code: Some(endpoint.status_code.clone()).filter(|c| !c.is_empty()),
            status_message: endpoint.status_message.clone(),
            self_service_portal_url: endpoint.self_service_portal_url.clone(),
            creation_time: endpoint.creation_time.clone(),
            region: Some(region.to_string()),
            target_networks: children
                .networks
                .iter()
                .filter(|n| n.is_live())
                .map(|n| TargetNetworkStatus {
                    subnet_id: n.subnet_id.clone(),
                    association_id: n.association_id.clone(),
                    status: n.state.as_str().to_string(),
                })
                .collect(),
            authorization_rules: children
                .rules
                .iter()
                .map(|r| AuthorizationRuleStatus {
                    target_network_cidr: r.key.target_network_cidr.clone(),
                    access_group_id: r.key.access_group_id.clone(),
                    status: r.state.as_str().to_string(),
                })
                .collect(),
            routes: children
                .routes
                .iter()
                .filter(|r| r.is_managed())
                .map(|r| RouteStatus {
                    destination_cidr_block: r.key.destination_cidr_block.clone(),
                    target_vpc_subnet_id: r.key.target_subnet_id.clone(),
                    status: r.state.as_str().to_string(),
                })
                .collect(),
            applied_tag_keys,
            certificates: Vec::new(),
        }
    }

    /// Facts from a Create answer.
    pub fn created(endpoint: &CreatedEndpoint, region: &str) -> Self {
        Self {
            id: Some(endpoint.id.clone()),
            dns_name: endpoint.dns_name.clone(),
            status_code: endpoint.status_code.clone(),
            status_message: endpoint.status_message.clone(),
            region: Some(region.to_string()),
            ..Default::default()
        }
    }

    /// Keep what the object's status already says (no new facts this pass).
    pub fn of(obj: &ClientVpnEndpoint) -> Self {
        let status = obj.status.clone().unwrap_or_default();
        let aws = status.status.clone().unwrap_or_default();
        Self {
            id: status.client_vpn_endpoint_id.clone(),
            dns_name: status.dns_name.clone(),
            status_code: aws.code,
            status_message: aws.message,
            self_service_portal_url: status.self_service_portal_url.clone(),
            creation_time: status.creation_time.clone(),
            region: status.region.clone(),
            target_networks: status.target_networks.clone(),
            authorization_rules: status.authorization_rules.clone(),
            routes: status.routes.clone(),
            applied_tag_keys: status.applied_tag_keys.clone(),
            certificates: status.certificates.clone(),
        }
    }
}

/// The status to write: the facts, the generation they describe, and conditions merged with the
/// previous ones (a condition keeps its `lastTransitionTime` unless its status flips).
pub fn compute_status(
    previous: &ClientVpnEndpointStatus,
    facts: EndpointFacts,
    health: &Health,
    generation: Option<i64>,
    now: &Time,
) -> ClientVpnEndpointStatus {
    let has_status = facts.status_code.is_some() || facts.status_message.is_some();
    let status = has_status.then_some(EndpointStatus {
        code: facts.status_code,
        message: facts.status_message,
    });
    let expiring = expiring_soon(&facts.certificates, now);
    ClientVpnEndpointStatus {
        client_vpn_endpoint_id: facts.id,
        dns_name: facts.dns_name,
        status,
        self_service_portal_url: facts.self_service_portal_url,
        creation_time: facts.creation_time,
        region: facts.region,
        target_networks: facts.target_networks,
        authorization_rules: facts.authorization_rules,
        routes: facts.routes,
        applied_tag_keys: facts.applied_tag_keys,
        certificates: facts.certificates,
        revocation_list: None,
        connections: None,
        observed_generation: generation,
        conditions: conditions(&previous.conditions, health, expiring, generation, now),
    }
}

/// Which certificates expire within [`condition::EXPIRY_WARNING_DAYS`] of `now`, if any.
fn expiring_soon(certificates: &[CertificateStatus], now: &Time) -> Option<String> {
    let horizon = now.0.as_second() + condition::EXPIRY_WARNING_DAYS * 86_400;
    let soon: Vec<String> = certificates
        .iter()
        .filter(|c| c.source != CertificateOrigin::SameAsServer)
        .filter_map(|c| {
            let not_after = c.not_after.as_deref()?;
            let at: Timestamp = not_after.parse().ok()?;
            let place = c.secret_name.as_deref().or(c.arn.as_deref()).unwrap_or("?");
            (at.as_second() <= horizon).then(|| {
                format!(
                    "the {:?} certificate ({place}) expires at {not_after}",
                    c.role
                )
            })
        })
        .collect();
    (!soon.is_empty()).then(|| soon.join("; "))
}

fn conditions(
    previous: &[Condition],
    health: &Health,
    expiring: Option<String>,
    generation: Option<i64>,
    now: &Time,
) -> Vec<Condition> {
    let builder = Conditions {
        previous,
        generation,
        now,
    };
    let (standing, reason, message) = match health {
        Health::Ready { reason, message } => (Standing::Ready, *reason, message),
        Health::NotReady { reason, message } => (Standing::NotReady, *reason, message),
        Health::Reconciling { reason, message } => (Standing::Reconciling, *reason, message),
        Health::Stalled { reason, message } => (Standing::Stalled, reason.as_str(), message),
    };
    let mut conditions = builder.standing(standing, reason, message);
    if let Some(message) = expiring {
        let type_ = condition::CERTIFICATE_EXPIRING_SOON;
        conditions.push(builder.make(type_, true, type_, &message));
    }
    conditions
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn at(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).expect("valid timestamp"))
    }

    fn facts() -> EndpointFacts {
        EndpointFacts {
            id: Some("cvpn-endpoint-0123456789abcdef0".into()),
            dns_name: Some(
                "*.cvpn-endpoint-0123456789abcdef0.prod.clientvpn.us-east-1.amazonaws.com".into(),
            ),
            status_code: Some("pending-associate".into()),
            region: Some("us-east-1".into()),
            ..Default::default()
        }
    }

    #[test]
    fn reconciling_sets_ready_false_and_reconciling_true() {
        let health = Health::Reconciling {
            reason: "Creating",
            message: "creating".into(),
        };
        let status = compute_status(&Default::default(), facts(), &health, Some(3), &at(10));
        let summary: Vec<(&str, &str)> = status
            .conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(summary, vec![("Ready", "False"), ("Reconciling", "True")]);
        assert!(
            status
                .conditions
                .iter()
                .all(|c| c.observed_generation == Some(3))
        );
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(
            status.status.and_then(|s| s.code).as_deref(),
            Some("pending-associate")
        );
    }

    #[test]
    fn transition_time_is_kept_unless_the_status_flips() {
        let stalled = Health::Stalled {
            reason: "AwsTerminal".into(),
            message: "bad".into(),
        };
        let first = compute_status(&Default::default(), facts(), &stalled, Some(1), &at(10));
        let again = compute_status(&first, facts(), &stalled, Some(1), &at(20));
        assert_eq!(
            again, first,
            "same health later: nothing changes, so nothing is written"
        );

        let ready = Health::Ready {
            reason: "Available",
            message: "ok".into(),
        };
        let flipped = compute_status(&again, facts(), &ready, Some(1), &at(30));
        assert_eq!(
            flipped.conditions.len(),
            1,
            "Stalled disappears once it is no longer true"
        );
        assert_eq!(flipped.conditions[0].last_transition_time, at(30));
    }

    #[test]
    fn health_follows_the_aws_status_code() {
        assert!(matches!(Health::of_code("available"), Health::Ready { .. }));
        assert!(matches!(
            Health::of_code("pending-associate"),
            Health::NotReady { .. }
        ));
        assert!(matches!(
            Health::of_code("pending"),
            Health::Reconciling { .. }
        ));
    }

    #[test]
    fn a_certificate_within_thirty_days_of_expiry_sets_expiring_soon() {
        let day = 86_400;
        let now = at(1_000 * day);
        let certificate = |days_left: i64, source: CertificateOrigin| CertificateStatus {
            role: crate::api::CertificateRole::Server,
            source,
            arn: Some("arn:aws:acm:us-east-1:123456789012:certificate/s".into()),
            secret_name: Some("vpn-server".into()),
            subject: None,
            serial: None,
            not_after: Some(at((1_000 + days_left) * day).0.to_string()),
            key_algorithm: None,
        };
        let ready = Health::Ready {
            reason: "Available",
            message: "ok".into(),
        };
        let expiring = |certificates: Vec<CertificateStatus>| {
            let facts = EndpointFacts {
                certificates,
                ..facts()
            };
            compute_status(&Default::default(), facts, &ready, Some(1), &now)
                .conditions
                .into_iter()
                .find(|c| c.type_ == condition::CERTIFICATE_EXPIRING_SOON)
        };
        assert_eq!(
            expiring(vec![certificate(31, CertificateOrigin::Secret)]),
            None
        );
        let soon = expiring(vec![certificate(30, CertificateOrigin::Secret)]).expect("set");
        assert_eq!(soon.status, "True");
        assert!(soon.message.contains("vpn-server"), "{}", soon.message);
        assert_eq!(
            expiring(vec![certificate(-1, CertificateOrigin::SameAsServer)]),
            None,
            "the same certificate is not reported twice"
        );
    }
}
