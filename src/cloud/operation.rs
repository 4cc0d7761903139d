//! The EC2 actions the operator calls: one table, from which the metric `operation` label,
//! [`CloudError::operation`](super::CloudError) and the lookup of the SDK's operation name (in the
//! per-attempt interceptor) all come.

/// Declares [`Operation`] from `Variant => sdk_module` rows. Each row is checked against
/// aws-sdk-ec2 at compile time (the SDK's operation type `operation::<module>::<Variant>` must
/// exist), so a name here is always the one the SDK puts in its `Metadata`.
macro_rules! operations {
    ($($(#[$doc:meta])* $variant:ident => $module:ident,)*) => {
        /// One EC2 action. [`Operation::name`] is AWS's action name, the metric label.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($(#[$doc])* $variant,)*
        }

        impl Operation {
            /// Every operation, in table order.
            pub const ALL: &[Operation] = &[$(Operation::$variant,)*];

            /// AWS's action name, e.g. `CreateClientVpnEndpoint`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Operation::$variant => stringify!($variant),)*
                }
            }
        }

        // The compile-time check that every row names an SDK operation.
        const _: () = {
            $(let _ = ::std::marker::PhantomData::<aws_sdk_ec2::operation::$module::$variant>;)*
        };
    };
}

operations! {
    CreateClientVpnEndpoint => create_client_vpn_endpoint,
    /// Both the single-endpoint describe and every page of the region listing.
    DescribeClientVpnEndpoints => describe_client_vpn_endpoints,
    DeleteClientVpnEndpoint => delete_client_vpn_endpoint,
    ModifyClientVpnEndpoint => modify_client_vpn_endpoint,
    CreateTags => create_tags,
    DeleteTags => delete_tags,
    DescribeClientVpnTargetNetworks => describe_client_vpn_target_networks,
    AssociateClientVpnTargetNetwork => associate_client_vpn_target_network,
    DisassociateClientVpnTargetNetwork => disassociate_client_vpn_target_network,
    ApplySecurityGroupsToClientVpnTargetNetwork => apply_security_groups_to_client_vpn_target_network,
    DescribeClientVpnAuthorizationRules => describe_client_vpn_authorization_rules,
    AuthorizeClientVpnIngress => authorize_client_vpn_ingress,
    RevokeClientVpnIngress => revoke_client_vpn_ingress,
    DescribeClientVpnRoutes => describe_client_vpn_routes,
    CreateClientVpnRoute => create_client_vpn_route,
    DeleteClientVpnRoute => delete_client_vpn_route,
    ExportClientVpnClientConfiguration => export_client_vpn_client_configuration,
}

impl Operation {
    /// The operation with AWS's action name `name` (as in the SDK's `Metadata`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_aws_action_names_and_round_trip() {
        assert_eq!(
            Operation::ALL.len(),
            17,
            "the 17 Client VPN calls the operator makes"
        );
        assert_eq!(
            Operation::CreateClientVpnEndpoint.name(),
            "CreateClientVpnEndpoint"
        );
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
            assert_eq!(op.to_string(), op.name());
        }
        assert_eq!(Operation::from_name("DescribeInstances"), None);
    }
}
