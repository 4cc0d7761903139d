//! Tests of the child listings' items (the create request is tested from the spec in
//! `endpoint::plan::desired_tests`).

use aws_config::{BehaviorVersion, Region};

use super::*;

/// The endpoint ID the tests describe and modify.
pub(super) const ID: &str = "cvpn-endpoint-0123456789abcdef0";

pub(super) fn client() -> aws_sdk_ec2::Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

#[test]
fn target_networks_are_read() {
    let associating = ec2::AssociationStatus::builder()
        .code(ec2::AssociationStatusCode::Associating)
        .message("working")
        .build();
    let network = ec2::TargetNetwork::builder()
        .association_id("cvpn-assoc-0123456789abcdef0")
        .vpc_id("vpc-0123456789abcdef0")
        .target_network_id("subnet-0123456789abcdef1")
        .client_vpn_endpoint_id(ID)
        .status(associating)
        .security_groups("sg-0123456789abcdef2")
        .security_groups("sg-0123456789abcdef1")
        .build();
    assert_eq!(
        target_network(&network),
        TargetNetwork {
            association_id: "cvpn-assoc-0123456789abcdef0".into(),
            subnet_id: "subnet-0123456789abcdef1".into(),
            vpc_id: Some("vpc-0123456789abcdef0".into()),
            state: AssociationState::Associating,
            status_message: Some("working".into()),
            security_group_ids: vec!["sg-0123456789abcdef1".into(), "sg-0123456789abcdef2".into()],
        }
    );
}

#[test]
fn authorization_rules_key_on_cidr_and_group() {
    let rule = |group: Option<&str>, access_all: Option<bool>| {
        let status = ec2::ClientVpnAuthorizationRuleStatus::builder()
            .code(ec2::ClientVpnAuthorizationRuleStatusCode::Active)
            .build();
        authorization_rule(
            &ec2::AuthorizationRule::builder()
                .client_vpn_endpoint_id(ID)
                .destination_cidr("10.1.0.0/16")
                .set_group_id(group.map(str::to_string))
                .set_access_all(access_all)
                .description("")
                .status(status)
                .build(),
        )
    };
    // (groupId, accessAll) → access_group_id in the key
    let rows: &[(Option<&str>, Option<bool>, Option<&str>)] = &[
        (Some("admins"), Some(false), Some("admins")),
        (Some("admins"), None, Some("admins")),
        (None, Some(true), None),
        (Some(""), Some(true), None),
    ];
    for (group, access_all, want) in rows {
        let got = rule(*group, *access_all);
        assert_eq!(
            got.key,
            RuleKey {
                target_network_cidr: "10.1.0.0/16".into(),
                access_group_id: want.map(str::to_string),
            },
            "groupId {group:?}, accessAll {access_all:?}"
        );
        assert_eq!(got.description, None, "empty description is none");
        assert_eq!(got.state, RuleState::Active);
        assert_eq!(got.status_message, None);
    }
}

#[test]
fn routes_key_on_destination_and_subnet() {
    let creating = ec2::ClientVpnRouteStatus::builder()
        .code(ec2::ClientVpnRouteStatusCode::Creating)
        .build();
    let described = ec2::ClientVpnRoute::builder()
        .client_vpn_endpoint_id(ID)
        .destination_cidr("10.1.0.0/16")
        .target_subnet("subnet-0123456789abcdef1")
        .r#type("Nat")
        .origin("associate")
        .description("Default Route")
        .status(creating)
        .build();
    assert_eq!(
        route(&described),
        Route {
            key: RouteKey {
                destination_cidr_block: "10.1.0.0/16".into(),
                target_subnet_id: "subnet-0123456789abcdef1".into(),
            },
            origin: RouteOrigin::Associate,
            description: Some("Default Route".into()),
            state: RouteState::Creating,
            status_message: None,
        }
    );
}
