//! ListCertificates: status and `Includes` filters (with ACM's default key-type filter),
//! `MaxItems`/`NextToken` pagination, optional sorting.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::error::AcmError;
use super::input::Input;
use crate::state::{Certificate, Region};

const STATUSES: &[&str] = &[
    "PENDING_VALIDATION",
    "ISSUED",
    "INACTIVE",
    "EXPIRED",
    "VALIDATION_TIMED_OUT",
    "REVOKED",
    "FAILED",
];
const KEY_TYPES: &[&str] = &[
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
];
/// Without `Includes.keyTypes` ACM lists only these, and only certificates with a domain.
const DEFAULT_KEY_TYPES: &[&str] = &["RSA_1024", "RSA_2048"];
/// At most this many names in `SubjectAlternativeNameSummaries`.
const SAN_SUMMARY: usize = 100;

/// The request's filters.
struct Query {
    statuses: Option<Vec<String>>,
    key_types: Option<Vec<String>>,
    extended_key_usage: Option<Vec<String>>,
    key_usage: Option<Vec<String>>,
    managed_by: Option<String>,
    export_option: Option<String>,
    origins: Option<Vec<String>>,
}

pub fn list(ctx: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
    let query = parse(input)?;
    let max = match input.int("MaxItems")? {
        None => None,
        Some(n) if (1..=1000).contains(&n) => Some(n as usize),
        Some(n) => {
            let constraint = if n < 1 {
                "Member must have value greater than or equal to 1"
            } else {
                "Member must have value less than or equal to 1000"
            };
            return Err(AcmError::validation(
                "MaxItems",
                Some(&n.to_string()),
                constraint,
            ));
        }
    };
    let after = match input.string("NextToken")? {
        None => None,
        Some(token) => Some(decode_token(token).ok_or_else(invalid_args)?),
    };
    let descending = sort_order(input)?;
    let mut matching: Vec<&Certificate> = region
        .certificates
        .values()
        .filter(|c| query.matches(c, ctx))
        .collect();
    matching.sort_by_key(|c| c.seq);
    if descending {
        matching.reverse();
    }
    let start = match after {
        None => 0,
        Some(seq) => matching
            .iter()
            .position(|c| c.seq == seq)
            .map_or(matching.len(), |i| i + 1),
    };
    let rest = &matching[start.min(matching.len())..];
    let page = &rest[..max.unwrap_or(rest.len()).min(rest.len())];
    let summaries: Vec<Value> = page.iter().map(|c| summary(c, region, ctx)).collect();
    let mut out = Map::new();
    out.insert("CertificateSummaryList".into(), json!(summaries));
    if page.len() < rest.len()
        && let Some(last) = page.last()
    {
        out.insert("NextToken".into(), json!(encode_token(last.seq)));
    }
    Ok(Value::Object(out).to_string())
}

fn parse(input: &Input) -> Result<Query, AcmError> {
    let statuses = input.strings("CertificateStatuses")?;
    check_enum("CertificateStatuses", statuses.as_deref(), STATUSES)?;
    let includes = input.structure("Includes")?.unwrap_or_default();
    let key_types = includes.strings("keyTypes")?;
    check_enum("Includes.keyTypes", key_types.as_deref(), KEY_TYPES)?;
    Ok(Query {
        statuses,
        key_types,
        extended_key_usage: includes.strings("extendedKeyUsage")?,
        key_usage: includes.strings("keyUsage")?,
        managed_by: includes.string("managedBy")?.map(str::to_owned),
        export_option: includes.string("exportOption")?.map(str::to_owned),
        origins: input.strings("CertificateKeyPairOrigins")?,
    })
}

fn check_enum(member: &str, values: Option<&[String]>, allowed: &[&str]) -> Result<(), AcmError> {
    if let Some(bad) = values
        .into_iter()
        .flatten()
        .find(|v| !allowed.contains(&v.as_str()))
    {
        return Err(AcmError::validation(
            member,
            Some(bad),
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        ));
    }
    Ok(())
}

/// `SortBy` (`CREATED_AT`) and `SortOrder` come together; true = descending.
fn sort_order(input: &Input) -> Result<bool, AcmError> {
    match (input.string("SortBy")?, input.string("SortOrder")?) {
        (None, None) => Ok(false),
        (Some("CREATED_AT"), Some("ASCENDING")) => Ok(false),
        (Some("CREATED_AT"), Some("DESCENDING")) => Ok(true),
        (Some(_), None) | (None, Some(_)) => Err(invalid_args()),
        (Some(by), Some(order)) => {
            let (member, value, allowed) = if by != "CREATED_AT" {
                ("SortBy", by, "[CREATED_AT]")
            } else {
                ("SortOrder", order, "[ASCENDING, DESCENDING]")
            };
            Err(AcmError::validation(
                member,
                Some(value),
                &format!("Member must satisfy enum value set: {allowed}"),
            ))
        }
    }
}

fn invalid_args() -> AcmError {
    AcmError::new(
        "InvalidArgsException",
        "One or more of request parameters specified is not valid.",
    )
}

impl Query {
    fn matches(&self, c: &Certificate, ctx: &Ctx<'_>) -> bool {
        let d = &c.details;
        let status_ok = self
            .statuses
            .as_ref()
            .is_none_or(|s| s.iter().any(|s| s == d.status(ctx.now.wall)));
        let key_ok = match &self.key_types {
            Some(types) => types.contains(&d.key_type),
            None => DEFAULT_KEY_TYPES.contains(&d.key_type.as_str()) && d.domain_name.is_some(),
        };
        let eku_names = names_or(
            d.extended_key_usages
                .as_ref()
                .map(|u| u.iter().map(|u| u.name.clone()).collect()),
            "NONE",
        );
        let eku_ok = self
            .extended_key_usage
            .as_ref()
            .is_none_or(|wanted| wanted.iter().any(|w| eku_names.contains(w)));
        let ku_names = names_or(d.key_usages.clone(), "ANY");
        let ku_ok = self
            .key_usage
            .as_ref()
            .is_none_or(|wanted| wanted.iter().any(|w| ku_names.contains(w)));
        // Imported certificates are not managed by a service, not exportable, customer-provided.
        let managed_ok = self.managed_by.is_none();
        let export_ok = self
            .export_option
            .as_deref()
            .is_none_or(|o| o == "DISABLED");
        let origin_ok = self
            .origins
            .as_ref()
            .is_none_or(|o| o.iter().any(|o| o == "CUSTOMER_PROVIDED"));
        status_ok && key_ok && eku_ok && ku_ok && managed_ok && export_ok && origin_ok
    }
}

/// The names of a certificate's (extended) key usages; `absent` when it has no such extension.
fn names_or(names: Option<Vec<String>>, absent: &str) -> Vec<String> {
    names.unwrap_or_else(|| vec![absent.to_owned()])
}

fn summary(c: &Certificate, region: &Region, ctx: &Ctx<'_>) -> Value {
    let d = &c.details;
    let mut s = Map::new();
    s.insert("CertificateArn".into(), json!(c.arn));
    if let Some(domain) = &d.domain_name {
        s.insert("DomainName".into(), json!(domain));
        let sans: Vec<&String> = d
            .subject_alternative_names
            .iter()
            .take(SAN_SUMMARY)
            .collect();
        s.insert("SubjectAlternativeNameSummaries".into(), json!(sans));
    }
    s.insert(
        "HasAdditionalSubjectAlternativeNames".into(),
        json!(d.subject_alternative_names.len() > SAN_SUMMARY),
    );
    s.insert("Status".into(), json!(d.status(ctx.now.wall)));
    s.insert("Type".into(), json!("IMPORTED"));
    s.insert("KeyAlgorithm".into(), json!(d.key_algorithm));
    s.insert(
        "KeyUsages".into(),
        json!(names_or(d.key_usages.clone(), "ANY")),
    );
    let eku = d
        .extended_key_usages
        .as_ref()
        .map(|u| u.iter().map(|u| u.name.clone()).collect());
    s.insert("ExtendedKeyUsages".into(), json!(names_or(eku, "NONE")));
    s.insert(
        "InUse".into(),
        json!(!region.certificate_users(&c.arn).is_empty()),
    );
    s.insert("RenewalEligibility".into(), json!("INELIGIBLE"));
    s.insert("NotBefore".into(), json!(d.not_before));
    s.insert("NotAfter".into(), json!(d.not_after));
    let imported = c
        .imported_at
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    s.insert("ImportedAt".into(), json!(imported as f64 / 1000.0));
    s.insert(
        "CertificateKeyPairOrigin".into(),
        json!("CUSTOMER_PROVIDED"),
    );
    Value::Object(s)
}

fn encode_token(seq: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("acm-list:{seq}"))
}

fn decode_token(token: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("acm-list:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("garbage"), None);
        assert_eq!(
            decode_token(&base64::engine::general_purpose::STANDARD.encode("x:1")),
            None
        );
    }
}
