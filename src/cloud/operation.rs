//! The AWS actions the operator calls (EC2 Client VPN and ACM): one table, from which the metric `operation` label,
//! [`CloudError::operation`](super::CloudError) and the lookup of the SDK's operation name (in the
//! per-attempt interceptor) all come.

/// Declares [`Operation`] from `Variant => sdk_crate::sdk_module` rows. Each row is checked
/// against its SDK at compile time (the SDK's operation type `operation::<module>::<Variant>`
/// must exist), so a name here is always the one the SDK puts in its `Metadata`.
macro_rules! operations {
    ($($(#[$doc:meta])* $variant:ident => $sdk:ident::$module:ident,)*) => {
        /// One AWS action. [`Operation::name`] is AWS's action name, the metric label.
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
            /// The SDK crate that calls it: `aws_sdk_ec2` or `aws_sdk_acm`.
            pub const fn sdk(self) -> &'static str {
                match self {
                    $(Operation::$variant => stringify!($sdk),)*
                }
            }
        }

        // The compile-time check that every row names an SDK operation.
        const _: () = {
            $(let _ = ::std::marker::PhantomData::<$sdk::operation::$module::$variant>;)*
        };
    };
}

operations! {
    CreateClientVpnEndpoint => aws_sdk_ec2::create_client_vpn_endpoint,
    /// Both the single-endpoint describe and every page of the region listing.
    DescribeClientVpnEndpoints => aws_sdk_ec2::describe_client_vpn_endpoints,
    DeleteClientVpnEndpoint => aws_sdk_ec2::delete_client_vpn_endpoint,
    ModifyClientVpnEndpoint => aws_sdk_ec2::modify_client_vpn_endpoint,
    CreateTags => aws_sdk_ec2::create_tags,
    DeleteTags => aws_sdk_ec2::delete_tags,
    DescribeClientVpnTargetNetworks => aws_sdk_ec2::describe_client_vpn_target_networks,
    AssociateClientVpnTargetNetwork => aws_sdk_ec2::associate_client_vpn_target_network,
    DisassociateClientVpnTargetNetwork => aws_sdk_ec2::disassociate_client_vpn_target_network,
    ApplySecurityGroupsToClientVpnTargetNetwork => aws_sdk_ec2::apply_security_groups_to_client_vpn_target_network,
    DescribeClientVpnAuthorizationRules => aws_sdk_ec2::describe_client_vpn_authorization_rules,
    AuthorizeClientVpnIngress => aws_sdk_ec2::authorize_client_vpn_ingress,
    RevokeClientVpnIngress => aws_sdk_ec2::revoke_client_vpn_ingress,
    DescribeClientVpnRoutes => aws_sdk_ec2::describe_client_vpn_routes,
    CreateClientVpnRoute => aws_sdk_ec2::create_client_vpn_route,
    DeleteClientVpnRoute => aws_sdk_ec2::delete_client_vpn_route,
    ExportClientVpnClientConfiguration => aws_sdk_ec2::export_client_vpn_client_configuration,
    // Client access (ClientVpnUser): the revocation list and the sessions.
    ImportClientVpnClientCertificateRevocationList => aws_sdk_ec2::import_client_vpn_client_certificate_revocation_list,
    ExportClientVpnClientCertificateRevocationList => aws_sdk_ec2::export_client_vpn_client_certificate_revocation_list,
    /// Every page of the listing.
    DescribeClientVpnConnections => aws_sdk_ec2::describe_client_vpn_connections,
    TerminateClientVpnConnections => aws_sdk_ec2::terminate_client_vpn_connections,
    // ACM: certificates the operator imports from Secrets or its managed CA.
    ImportCertificate => aws_sdk_acm::import_certificate,
    DescribeCertificate => aws_sdk_acm::describe_certificate,
    /// Every page of the listing used to find an import whose ARN was not recorded.
    ListCertificates => aws_sdk_acm::list_certificates,
    ListTagsForCertificate => aws_sdk_acm::list_tags_for_certificate,
    DeleteCertificate => aws_sdk_acm::delete_certificate,
}

/// AWS's throttling class of an action: EC2 gives each action a token bucket sized by its class
/// (see `docs/aws-limits.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallClass {
    /// `Describe*`, `Get*`, `List*` and the read-only `Export*` actions.
    NonMutating,
    /// Everything that changes something.
    Mutating,
}

impl Operation {
    /// The action's throttling class, from its name as AWS classifies actions.
    pub fn class(self) -> CallClass {
        let reads = ["Describe", "Get", "List", "Export"];
        if reads.iter().any(|verb| self.name().starts_with(verb)) {
            CallClass::NonMutating
        } else {
            CallClass::Mutating
        }
    }

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
            26,
            "the 21 Client VPN and 5 ACM calls the operator makes"
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

    #[test]
    fn reads_and_changes_are_told_apart_by_the_action_verb() {
        use CallClass::*;
        let classes = [
            (Operation::DescribeClientVpnEndpoints, NonMutating),
            (Operation::ExportClientVpnClientConfiguration, NonMutating),
            (Operation::ListCertificates, NonMutating),
            (Operation::CreateClientVpnEndpoint, Mutating),
            (Operation::AuthorizeClientVpnIngress, Mutating),
            (
                Operation::ImportClientVpnClientCertificateRevocationList,
                Mutating,
            ),
            (Operation::TerminateClientVpnConnections, Mutating),
        ];
        for (op, class) in classes {
            assert_eq!(op.class(), class, "{op}");
        }
    }
}
