//! Who is calling: access key and region from the SigV4 `Authorization` header, and the
//! deterministic account id derived from the access key. Signatures are not verified. Each
//! protocol layer turns an [`AuthError`] into its own error code.

use axum::http::HeaderMap;

use crate::ids::fnv1a64;

/// Why the `Authorization` header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no Authorization header")]
    Missing,
    #[error(
        "the Authorization header has no credential scope AKID/date/region/service/aws4_request"
    )]
    Incomplete,
    /// The credential scope names another service.
    #[error("credential scoped to service {found:?}, expected {expected:?}")]
    WrongService {
        expected: &'static str,
        found: String,
    },
}

/// How a protocol answers each [`AuthError`]: its error codes, and its wording for a request
/// without credentials.
pub struct Refusals {
    pub missing: &'static str,
    pub missing_message: &'static str,
    pub incomplete: &'static str,
    pub wrong_service: &'static str,
}

impl Refusals {
    /// EC2's (Query protocol) answers.
    pub const EC2: Self = Self {
        missing: "AuthFailure",
        missing_message: "AWS was not able to validate the provided access credentials",
        incomplete: "IncompleteSignature",
        wrong_service: "SignatureDoesNotMatch",
    };

    /// The answers of AWS JSON services (ACM).
    pub const JSON: Self = Self {
        missing: "MissingAuthenticationTokenException",
        missing_message: "Missing Authentication Token",
        incomplete: "IncompleteSignatureException",
        wrong_service: "InvalidSignatureException",
    };
}

impl AuthError {
    /// The error code (one of `refusals`) and message AWS answers this refusal with, for a
    /// request to `service`.
    pub fn answer(&self, service: &str, refusals: &Refusals) -> (&'static str, String) {
        match self {
            Self::Missing => (refusals.missing, refusals.missing_message.to_owned()),
            Self::Incomplete => (
                refusals.incomplete,
                format!(
                    "Authorization header requires 'Credential' of the form AKID/date/region/{service}/aws4_request."
                ),
            ),
            Self::WrongService { expected, found } => (
                refusals.wrong_service,
                format!(
                    "Credential should be scoped to correct service: '{expected}', not '{found}'."
                ),
            ),
        }
    }
}

/// The caller's identity as far as the emulator cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key: String,
    pub account_id: String,
    pub region: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/REGION/SERVICE/aws4_request, SignedHeaders=…,
/// Signature=…`, where SERVICE must be `service` (the signing name: `ec2`, `acm`).
pub fn caller(headers: &HeaderMap, service: &'static str) -> Result<Caller, AuthError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(AuthError::Missing);
    };
    let value = value.to_str().map_err(|_| AuthError::Incomplete)?;
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or(AuthError::Incomplete)?;
    let credential = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))
        .ok_or(AuthError::Incomplete)?;
    let mut scope = credential.split('/');
    let (Some(access_key), Some(_date), Some(region), Some(scope_service), Some("aws4_request")) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(AuthError::Incomplete);
    };
    if access_key.is_empty() || region.is_empty() {
        return Err(AuthError::Incomplete);
    }
    if scope_service != service {
        return Err(AuthError::WrongService {
            expected: service,
            found: scope_service.to_owned(),
        });
    }
    Ok(Caller {
        access_key: access_key.to_owned(),
        account_id: account_id(access_key),
        region: region.to_owned(),
    })
}

/// The 12-digit account id of an access key: FNV-1a 64 of the key, modulo 10^12, zero-padded.
pub fn account_id(access_key: &str) -> String {
    format!("{:012}", fnv1a64(access_key.as_bytes()) % 1_000_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", value.parse().unwrap());
        h
    }

    #[test]
    fn parses_credential_scope() {
        let c = caller(&headers(
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/eu-west-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        ), "ec2")
        .unwrap();
        assert_eq!(c.access_key, "AKIDTEST");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.account_id.len(), 12);
        assert_eq!(c.account_id, account_id("AKIDTEST"));
    }

    #[test]
    fn missing_or_malformed_headers() {
        assert_eq!(
            caller(&HeaderMap::new(), "ec2").unwrap_err(),
            AuthError::Missing
        );
        assert_eq!(
            caller(&headers("Bearer x"), "ec2").unwrap_err(),
            AuthError::Incomplete
        );
        let scoped = headers("AWS4-HMAC-SHA256 Credential=AK/d/r/acm/aws4_request");
        assert_eq!(
            caller(&scoped, "ec2").unwrap_err(),
            AuthError::WrongService {
                expected: "ec2",
                found: "acm".to_owned()
            }
        );
        assert_eq!(caller(&scoped, "acm").unwrap().region, "r");
    }

    #[test]
    fn account_ids_are_stable_and_distinct() {
        // Pinned: the README documents these values so tests in other languages can rely on them.
        assert_eq!(account_id("AKIDTEST"), "206580106948");
        assert_eq!(account_id("test"), "074686647077");
        assert_ne!(account_id("AKIDTEST"), account_id("AKIDOTHER"));
        assert!(account_id("").chars().all(|c| c.is_ascii_digit()));
    }
}
