//! Who is calling: access key and region from the SigV4 `Authorization` header, and the
//! deterministic account id derived from the access key. Signatures are not verified.

use axum::http::HeaderMap;

use crate::error::Ec2Error;
use crate::ids::fnv1a64;

/// The caller's identity as far as the emulator cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key: String,
    pub account_id: String,
    pub region: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/REGION/ec2/aws4_request, SignedHeaders=…, Signature=…`.
pub fn caller(headers: &HeaderMap) -> Result<Caller, Ec2Error> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(Ec2Error::new(
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        ));
    };
    let value = value.to_str().map_err(|_| incomplete())?;
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or_else(incomplete)?;
    let credential = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))
        .ok_or_else(incomplete)?;
    let mut scope = credential.split('/');
    let (Some(access_key), Some(_date), Some(region), Some(service), Some("aws4_request")) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(incomplete());
    };
    if access_key.is_empty() || region.is_empty() {
        return Err(incomplete());
    }
    if service != "ec2" {
        return Err(Ec2Error::new(
            "SignatureDoesNotMatch",
            format!("Credential should be scoped to correct service: 'ec2', not '{service}'."),
        ));
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

fn incomplete() -> Ec2Error {
    Ec2Error::new(
        "IncompleteSignature",
        "Authorization header requires 'Credential' of the form AKID/date/region/ec2/aws4_request.",
    )
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
        ))
        .unwrap();
        assert_eq!(c.access_key, "AKIDTEST");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.account_id.len(), 12);
        assert_eq!(c.account_id, account_id("AKIDTEST"));
    }

    #[test]
    fn missing_or_malformed_headers() {
        assert_eq!(caller(&HeaderMap::new()).unwrap_err().code(), "AuthFailure");
        assert_eq!(
            caller(&headers("Bearer x")).unwrap_err().code(),
            "IncompleteSignature"
        );
        assert_eq!(
            caller(&headers(
                "AWS4-HMAC-SHA256 Credential=AK/d/r/s3/aws4_request"
            ))
            .unwrap_err()
            .code(),
            "SignatureDoesNotMatch"
        );
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
