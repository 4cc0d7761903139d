//! AWS errors, classified once into what the controller should do about them.

use super::quota;
use crate::metrics::outcome;

/// What the controller does about a failed AWS call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is wrong or not allowed: stop and report until the spec changes.
    Terminal,
    /// Throttling, server errors, timeouts, transient states: retry with backoff.
    Retryable,
    /// The resource does not exist.
    NotFound,
    /// An AWS quota is reached: stall and retry slowly, as the quota can be raised (or room
    /// made) outside the operator.
    Quota,
}

impl ErrorKind {
    /// Bounded label for metrics and event reasons.
    pub fn category(self) -> &'static str {
        match self {
            Self::Terminal => "AwsTerminal",
            Self::Retryable => "AwsRetryable",
            Self::NotFound => "AwsNotFound",
            Self::Quota => "QuotaExceeded",
        }
    }

    /// The metric `outcome` label of a call that failed this way (one of `metrics::outcome`).
    pub fn outcome(self) -> &'static str {
        match self {
            Self::NotFound => outcome::NOT_FOUND,
            // A refusal like any other terminal one; `clientvpn_operator_quota_exceeded` names it.
            Self::Terminal | Self::Quota => outcome::TERMINAL,
            Self::Retryable => outcome::RETRYABLE,
        }
    }
}

/// The metric `outcome` label of a call's result: `success`, or the error's kind.
pub fn outcome_of<T>(result: &Result<T, CloudError>) -> &'static str {
    match result {
        Ok(_) => outcome::SUCCESS,
        Err(err) => err.kind.outcome(),
    }
}

/// A failed EC2 call, with AWS's code, message and request ID when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct CloudError {
    /// The EC2 action, e.g. `CreateClientVpnEndpoint`.
    pub operation: &'static str,
    /// AWS's error code, or a local one (`DispatchFailure`, `Timeout`, …) when no answer came.
    pub code: String,
    /// AWS's message, verbatim.
    pub message: String,
    /// AWS request ID (from the `x-amzn-RequestId` header), for support cases.
    pub request_id: Option<String>,
    /// What to do about it.
    pub kind: ErrorKind,
}

impl CloudError {
    /// An error from an AWS answer, classified by its code and HTTP status.
    pub fn from_service(
        operation: &'static str,
        code: &str,
        message: &str,
        http_status: Option<u16>,
        request_id: Option<String>,
    ) -> Self {
        Self {
            operation,
            code: code.to_string(),
            message: message.to_string(),
            request_id,
            kind: classify(code, http_status),
        }
    }

    /// An error where no usable answer came back (connection, timeout, parse failure): retryable.
    pub fn transport(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        Self {
            operation,
            code: code.to_string(),
            message: message.into(),
            request_id: None,
            kind: ErrorKind::Retryable,
        }
    }

    /// True when AWS refused the call because the account or region is over its request rate.
    pub fn is_throttling(&self) -> bool {
        THROTTLING_CODES.contains(&self.code.as_str())
    }

    /// The quota AWS says is reached, if this is a quota refusal.
    pub fn quota(&self) -> Option<&'static quota::Quota> {
        if self.kind == ErrorKind::Quota {
            quota::of(&self.code)
        } else {
            None
        }
    }

    /// True when AWS says the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// Codes with which AWS says "too many requests".
const THROTTLING_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "EC2ThrottledException",
];

/// Other codes that mean "try again later" although they are not HTTP 5xx.
const RETRYABLE_CODES: &[&str] = &[
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServerInternal",
    "Unavailable",
    "ServiceUnavailable",
    "IncorrectState",
    "ConcurrentMutationLimitExceeded",
    // The endpoint still has associations (teardown in progress) or has none yet.
    "ClientVpnEndpointAssociationExists",
    "InvalidClientVpnActiveAssociationNotFound",
    // ACM: the certificate is still in use (an endpoint going away releases it).
    "ResourceInUseException",
    "RequestInProgressException",
];

/// Classify an AWS error code (and HTTP status, when known) into what the controller should do.
///
/// Not-found codes first, then the known transient ones, then the quotas of [`quota`]; any other
/// 4xx (validation, `IdempotentParameterMismatch`, `UnauthorizedOperation`, duplicates) is
/// terminal; 5xx and unknown statuses are retryable.
pub fn classify(code: &str, http_status: Option<u16>) -> ErrorKind {
    // A subnet that does not exist is a mistake in the spec, not a resource that went away.
    if code == "InvalidClientVpnSubnetId.NotFound" {
        return ErrorKind::Terminal;
    }
    let not_found = code == "ResourceNotFoundException"
        || code.ends_with(".NotFound")
        || (code.ends_with("NotFound") && code != "InvalidClientVpnActiveAssociationNotFound");
    if not_found {
        return ErrorKind::NotFound;
    }
    if THROTTLING_CODES.contains(&code) || RETRYABLE_CODES.contains(&code) {
        return ErrorKind::Retryable;
    }
    if quota::of(code).is_some() {
        return ErrorKind::Quota;
    }
    match http_status {
        Some(status) if status >= 500 => ErrorKind::Retryable,
        Some(status) if (400..500).contains(&status) => ErrorKind::Terminal,
        _ if code.starts_with("Invalid")
            || code.starts_with("Missing")
            || code.ends_with("LimitExceeded")
            || code == "IdempotentParameterMismatch"
            || code == "UnauthorizedOperation"
            || code == "AuthFailure" =>
        {
            ErrorKind::Terminal
        }
        _ => ErrorKind::Retryable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_gets_its_class() {
        use ErrorKind::*;
        let table: &[(&str, Option<u16>, ErrorKind)] = &[
            ("InvalidClientVpnEndpointId.NotFound", Some(400), NotFound),
            ("InvalidClientVpnAssociationIdNotFound", Some(400), NotFound),
            (
                "InvalidClientVpnEndpointAuthorizationRuleNotFound",
                Some(400),
                NotFound,
            ),
            ("InvalidClientVpnRouteNotFound", Some(400), NotFound),
            ("InvalidClientVpnSubnetId.NotFound", Some(400), Terminal),
            (
                "InvalidClientVpnActiveAssociationNotFound",
                Some(400),
                Retryable,
            ),
            ("ClientVpnEndpointAssociationExists", Some(400), Retryable),
            ("IncorrectState", Some(400), Retryable),
            ("RequestLimitExceeded", Some(503), Retryable),
            ("RequestLimitExceeded", None, Retryable),
            ("InternalError", Some(500), Retryable),
            ("ServiceUnavailable", Some(503), Retryable),
            ("SomethingNew", Some(502), Retryable),
            ("SomethingNew", None, Retryable),
            ("InvalidParameterValue", Some(400), Terminal),
            ("InvalidParameterCombination", Some(400), Terminal),
            ("MissingParameter", Some(400), Terminal),
            ("UnknownParameter", Some(400), Terminal),
            ("IdempotentParameterMismatch", Some(400), Terminal),
            ("UnauthorizedOperation", Some(403), Terminal),
            ("AuthFailure", Some(401), Terminal),
            ("ClientVpnEndpointLimitExceeded", Some(400), Quota),
            ("ClientVpnEndpointLimitExceeded", None, Quota),
            ("ClientVpnAuthorizationRuleLimitExceeded", Some(400), Quota),
            ("ClientVpnRouteLimitExceeded", Some(400), Quota),
            ("LimitExceededException", Some(400), Quota),
            (
                "ClientVpnTerminateConnectionsLimitExceeded",
                Some(400),
                Terminal,
            ),
            ("InvalidClientVpnDuplicateRoute", Some(400), Terminal),
            ("InvalidClientVpnDuplicateAuthorizationRule", None, Terminal),
            ("InvalidClientVpnSubnetId.DuplicateAz", Some(400), Terminal),
        ];
        for (code, status, want) in table {
            assert_eq!(
                classify(code, *status),
                *want,
                "{code} with HTTP {status:?}"
            );
        }
    }

    #[test]
    fn results_become_bounded_outcome_labels() {
        let error = |code: &str, status| {
            Err::<(), _>(CloudError::from_service(
                "DescribeClientVpnEndpoints",
                code,
                "m",
                Some(status),
                None,
            ))
        };
        let rows = [
            (Ok(()), "success"),
            (error("RequestLimitExceeded", 503), "retryable"),
            (
                error("InvalidClientVpnEndpointId.NotFound", 400),
                "not_found",
            ),
            (error("InvalidParameterValue", 400), "terminal"),
            (error("ClientVpnEndpointLimitExceeded", 400), "terminal"),
            (
                Err(CloudError::transport("DeleteTags", "Timeout", "t")),
                "retryable",
            ),
        ];
        for (result, want) in rows {
            assert_eq!(outcome_of(&result), want, "{result:?}");
            assert!(crate::metrics::outcome::ALL.contains(&want));
        }
    }

    #[test]
    fn transport_failures_are_retryable_and_keep_the_message() {
        let err = CloudError::transport(
            "DescribeClientVpnEndpoints",
            "DispatchFailure",
            "connection refused",
        );
        assert_eq!(err.kind, ErrorKind::Retryable);
        assert_eq!(
            err.to_string(),
            "DescribeClientVpnEndpoints: DispatchFailure: connection refused"
        );
    }
}
