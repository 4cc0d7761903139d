//! The AWS quotas the operator can run into: which one a refusal names, and what to tell the
//! person who has to act on it. Values from the Client VPN and ACM quota pages (see
//! `docs/quotas.md`).

use std::time::Duration;

/// What the operator can count to say how close the account is to a quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    /// Client VPN endpoints in the object's region.
    EndpointsInRegion,
    /// Authorization rules on the object's endpoint.
    AuthorizationRules,
    /// Routes on the object's endpoint.
    Routes,
    /// Nothing the operator keeps a count of.
    Nothing,
}

/// One AWS quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Short, fixed name: the `quota` label of `clientvpn_operator_quota_exceeded_total`.
    pub key: &'static str,
    /// What is limited, as AWS's quota page names it.
    pub name: &'static str,
    /// AWS's default value.
    pub default: u32,
    /// The Service Quotas code to request an increase with; `None` when not adjustable.
    pub increase_code: Option<(&'static str, &'static str)>,
    /// What the operator counts for the message.
    pub counted: Counted,
}

/// The error codes that mean "a quota is reached", and the quota each one names.
const QUOTAS: &[(&str, Quota)] = &[
    (
        "ClientVpnEndpointLimitExceeded",
        Quota {
            key: "endpoints_per_region",
            name: "Client VPN endpoints per Region",
            default: 5,
            increase_code: Some(("ec2", "L-8EA77D34")),
            counted: Counted::EndpointsInRegion,
        },
    ),
    (
        "ClientVpnAuthorizationRuleLimitExceeded",
        Quota {
            key: "authorization_rules_per_endpoint",
            name: "Authorization rules per Client VPN endpoint",
            default: 200,
            increase_code: Some(("ec2", "L-9A1BC94B")),
            counted: Counted::AuthorizationRules,
        },
    ),
    (
        "ClientVpnRouteLimitExceeded",
        Quota {
            key: "routes_per_association",
            name: "Routes per Client VPN endpoint target network association",
            default: 100,
            increase_code: Some(("ec2", "L-401D78F7")),
            counted: Counted::Routes,
        },
    ),
    (
        "ClientVpnCertificateRevocationListLimitExceeded",
        Quota {
            key: "crl_entries",
            name: "Entries in a client certificate revocation list",
            default: 20_000,
            increase_code: None,
            counted: Counted::Nothing,
        },
    ),
    (
        // ACM's code: EC2 uses `LimitExceededException` only as a throttling code elsewhere.
        "LimitExceededException",
        Quota {
            key: "acm_imported_certificates",
            name: "ACM imported certificates (per account and Region; 5,000 imports a year)",
            default: 2_500,
            increase_code: Some(("acm", "Imported certificates")),
            counted: Counted::Nothing,
        },
    ),
];

/// The quota an AWS error code says is reached, if it is one of [`QUOTAS`].
pub fn of(code: &str) -> Option<&'static Quota> {
    QUOTAS.iter().find(|(c, _)| *c == code).map(|(_, q)| q)
}

/// Every quota the operator knows (for registering the metric's series).
pub fn all() -> impl Iterator<Item = &'static Quota> {
    QUOTAS.iter().map(|(_, q)| q)
}

impl Quota {
    /// What to tell the person who has to act: the quota, how much is used when the operator
    /// knows (`count`, where), what to do, and when the operator looks again.
    pub fn explain(&self, count: Option<(usize, &str)>, retry_every: Duration) -> String {
        let used = match count {
            Some((n, place)) => format!(" ({n} {place}, AWS default {})", self.default),
            None => format!(" (AWS default {})", self.default),
        };
        let remedy = match self.increase_code {
            Some((service, code)) => format!(
                "free some, or request an increase in Service Quotas (service {service}, \
                 quota {code})"
            ),
            None => "it cannot be raised: free some".to_string(),
        };
        format!(
            "AWS quota reached: {}{used}; {remedy}. The operator retries every {}.",
            self.name,
            short(retry_every)
        )
    }
}

/// `300 s` as `5m`, `3600 s` as `1h`, otherwise seconds.
fn short(duration: Duration) -> String {
    match duration.as_secs() {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_codes_name_their_quota_and_others_none() {
        let endpoints = of("ClientVpnEndpointLimitExceeded").expect("known");
        assert_eq!(endpoints.key, "endpoints_per_region");
        assert_eq!(endpoints.counted, Counted::EndpointsInRegion);
        assert_eq!(
            of("ClientVpnRouteLimitExceeded").map(|q| q.key),
            Some("routes_per_association")
        );
        assert_eq!(of("ConcurrentMutationLimitExceeded"), None);
        assert_eq!(of("RequestLimitExceeded"), None);
        assert_eq!(of("ClientVpnTerminateConnectionsLimitExceeded"), None);
    }

    #[test]
    fn the_explanation_names_the_quota_the_count_and_the_remedy() {
        let endpoints = of("ClientVpnEndpointLimitExceeded").expect("known");
        let text = endpoints.explain(
            Some((5, "endpoints in us-east-1")),
            Duration::from_secs(300),
        );
        assert_eq!(
            text,
            "AWS quota reached: Client VPN endpoints per Region (5 endpoints in us-east-1, AWS \
             default 5); free some, or request an increase in Service Quotas (service ec2, quota \
             L-8EA77D34). The operator retries every 5m."
        );
        let crl = of("ClientVpnCertificateRevocationListLimitExceeded").expect("known");
        let text = crl.explain(None, Duration::from_secs(90));
        assert!(text.contains("(AWS default 20000)"), "{text}");
        assert!(text.contains("it cannot be raised"), "{text}");
        assert!(text.ends_with("retries every 90s."), "{text}");
    }
}
