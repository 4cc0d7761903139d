//! Hand-written AWS answers for plan tests: what DescribeClientVpnEndpoints reports for the
//! fixture object's endpoint right after creation (values from the API reference, never derived
//! from the code under test), and builders for children.

use std::collections::BTreeMap;

use super::model::{Children, Step};
use crate::api::{AuthorizationRuleSpec, ClientVpnEndpointSpec, RouteSpec, TargetNetworkSpec};
use crate::cloud::{
    AssociationState, AuthenticationFact, AuthorizationRule, EndpointSettings, FixedSettings,
    ObservedEndpoint, Route, RouteKey, RouteOrigin, RouteState, RuleKey, RuleState, TargetNetwork,
};

/// The fixture object's endpoint (`ClientVpnEndpoint::test()`) as AWS describes it: AWS's
/// defaults for everything the spec leaves out (port 443, 24 h sessions, disconnect on timeout,
/// udp, ipv4, no portal).
pub fn aws_endpoint(id: &str, code: &str, tags: BTreeMap<String, String>) -> ObservedEndpoint {
    ObservedEndpoint {
        id: id.into(),
        status_code: code.into(),
        tags,
        settings: EndpointSettings {
            server_certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/server".into(),
            vpn_port: 443,
            session_timeout_hours: 24,
            disconnect_on_session_timeout: true,
            self_service_portal: Some(false),
            ..Default::default()
        },
        fixed: FixedSettings {
            client_cidr_block: Some("10.100.0.0/22".into()),
            transport_protocol: "udp".into(),
            authentication: vec![AuthenticationFact {
                type_: "certificate-authentication".into(),
                reference: Some("arn:aws:acm:us-east-1:123456789012:certificate/root".into()),
                self_service_reference: None,
            }],
            endpoint_ip_address_type: "ipv4".into(),
            traffic_ip_address_type: "ipv4".into(),
        },
        ..Default::default()
    }
}

pub fn network(subnet: &str, code: &str) -> TargetNetwork {
    TargetNetwork {
        association_id: format!("cvpn-assoc-{subnet}"),
        subnet_id: subnet.into(),
        state: AssociationState::from_wire(code),
        ..Default::default()
    }
}

pub fn rule(cidr: &str, code: &str) -> AuthorizationRule {
    AuthorizationRule {
        key: RuleKey {
            target_network_cidr: cidr.into(),
            access_group_id: None,
        },
        description: None,
        state: RuleState::from_wire(code),
        status_message: None,
    }
}

pub fn route(cidr: &str, subnet: &str, origin: &str, code: &str) -> Route {
    Route {
        key: RouteKey {
            destination_cidr_block: cidr.into(),
            target_subnet_id: subnet.into(),
        },
        origin: RouteOrigin::from_wire(origin),
        description: None,
        state: RouteState::from_wire(code),
        status_message: None,
    }
}

/// A compact name for each step, for table rows.
pub fn names(steps: &[Step]) -> Vec<String> {
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

/// What AWS lists under an endpoint: its associations, authorization rules and routes.
pub fn aws_children(
    networks: Vec<TargetNetwork>,
    rules: Vec<AuthorizationRule>,
    routes: Vec<Route>,
) -> Children {
    Children {
        networks,
        rules,
        routes,
    }
}

/// The children most tests ask for in the spec: `subnet` associated, `10.0.0.0/16` authorized for
/// all groups (described `rule_description`), and a route `0.0.0.0/0` through `subnet`.
pub fn spec_children(
    spec: &mut ClientVpnEndpointSpec,
    subnet: &str,
    rule_description: Option<&str>,
) {
    spec.target_networks = vec![TargetNetworkSpec {
        subnet_id: subnet.into(),
    }];
    spec.authorization_rules = vec![AuthorizationRuleSpec {
        target_network_cidr: "10.0.0.0/16".into(),
        access_group_id: None,
        authorize_all_groups: Some(true),
        description: rule_description.map(str::to_string),
    }];
    spec.routes = vec![RouteSpec {
        destination_cidr_block: "0.0.0.0/0".into(),
        target_vpc_subnet_id: subnet.into(),
        description: None,
    }];
}
