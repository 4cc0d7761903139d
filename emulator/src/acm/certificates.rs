//! ImportCertificate (new or re-import into an ARN), DescribeCertificate, GetCertificate,
//! ListCertificates and DeleteCertificate.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::error::AcmError;
use super::input::Input;
use super::tags::{check_tag_count, parse_tags};
use super::x509::{self, Imported};
use super::{Ctx, certificate_arn, check_arn, find};
use crate::protocol::check_quota;
use crate::state::{Certificate, CertificateDetails, Region};

/// Blob sizes of the model: (member, maximum bytes).
const CERTIFICATE_MAX: usize = 32_768;
const PRIVATE_KEY_MAX: usize = 5_120;
const CHAIN_MAX: usize = 2_097_152;

/// `LimitExceededException` at the certificate quota.
const FULL: &str = "You have reached the maximum number of certificates. Delete certificates that aren't in use, or contact AWS Support to request an increase.";

pub fn import(ctx: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
    let certificate = blob(input, "Certificate", CERTIFICATE_MAX)?
        .ok_or_else(|| AcmError::missing("Certificate"))?;
    let private_key = blob(input, "PrivateKey", PRIVATE_KEY_MAX)?
        .ok_or_else(|| AcmError::missing("PrivateKey"))?;
    let chain = blob(input, "CertificateChain", CHAIN_MAX)?;
    let existing = match input.string("CertificateArn")? {
        Some(arn) => {
            check_arn(arn)?;
            Some(find(region, arn)?.arn.clone())
        }
        None => None,
    };
    let tags = parse_tags(input, "Tags")?;
    if existing.is_some() && tags.is_some() {
        return Err(AcmError::new(
            "ValidationException",
            "Tagging is not permitted on re-import.",
        ));
    }
    let imported = x509::import(&certificate, &private_key, chain.as_deref(), ctx.now.wall)?;
    match existing {
        Some(arn) => {
            let current = find(region, &arn)?;
            check_reimport(&current.details, &imported.details)?;
            let keep_tags = current.tags.clone();
            let seq = current.seq;
            region.certificates.insert(
                arn.clone(),
                stored(&arn, imported, keep_tags, ctx.now.wall, seq),
            );
            Ok(json!({"CertificateArn": arn}).to_string())
        }
        None => {
            let limit = ctx.limits.certificates_per_region;
            let used = region.certificates.len();
            check_quota(used, limit, "LimitExceededException", FULL)?;
            let tags: Vec<_> = tags.unwrap_or_default();
            check_tag_count(tags.len())?;
            let arn = format!(
                "arn:aws:acm:{}:{}:certificate/{}",
                ctx.region_name,
                ctx.account_id,
                ctx.rng.uuid_v4()
            );
            let seq = region.next_seq();
            let tags = tags.into_iter().collect();
            region
                .certificates
                .insert(arn.clone(), stored(&arn, imported, tags, ctx.now.wall, seq));
            Ok(json!({"CertificateArn": arn}).to_string())
        }
    }
}

fn blob(input: &Input, member: &str, max: usize) -> Result<Option<Vec<u8>>, AcmError> {
    let Some(bytes) = input.blob(member)? else {
        return Ok(None);
    };
    if bytes.is_empty() {
        return Err(AcmError::validation(
            member,
            None,
            "Member must have length greater than or equal to 1",
        ));
    }
    if bytes.len() > max {
        return Err(AcmError::validation(
            member,
            None,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(Some(bytes))
}

fn stored(
    arn: &str,
    imported: Imported,
    tags: std::collections::BTreeMap<String, Option<String>>,
    now: SystemTime,
    seq: u64,
) -> Certificate {
    Certificate {
        arn: arn.to_owned(),
        certificate_pem: imported.certificate_pem,
        chain_pem: imported.chain_pem,
        chain_der: imported.chain_der,
        certificate_der: imported.certificate_der,
        details: imported.details,
        tags,
        imported_at: now,
        seq,
    }
}

/// ACM's re-import rules: same key type and size, at least one domain if there was one, and
/// Key Usage / Extended Key Usage only ever grow (`keyEncipherment` may go on EC certificates,
/// client authentication may go).
fn check_reimport(old: &CertificateDetails, new: &CertificateDetails) -> Result<(), AcmError> {
    let refuse = |why: String| Err(AcmError::new("ValidationException", why));
    if old.key_type != new.key_type {
        return refuse(format!(
            "The key type and size of the certificate cannot be changed on re-import (the certificate has {}, the new one {}).",
            old.key_algorithm, new.key_algorithm
        ));
    }
    if old.domain_name.is_some() && new.domain_name.is_none() {
        return refuse(
            "You cannot remove all domain names from a certificate on re-import.".into(),
        );
    }
    let ec = new.key_type.starts_with("EC_");
    let old_ku = old.key_usages.as_deref();
    let new_ku = new.key_usages.as_deref();
    match (old_ku, new_ku) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return refuse(
                "The Key Usage extension must be present on re-import exactly when the existing certificate has it.".into(),
            );
        }
        (Some(old), Some(new)) => {
            if let Some(gone) = old
                .iter()
                .find(|u| !(new.contains(u) || ec && *u == "KEY_ENCIPHERMENT"))
            {
                return refuse(format!(
                    "The Key Usage {gone} cannot be removed on re-import."
                ));
            }
        }
    }
    match (&old.extended_key_usages, &new.extended_key_usages) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return refuse(
                "The Extended Key Usage extension must be present on re-import exactly when the existing certificate has it.".into(),
            );
        }
        (Some(old), Some(new)) => {
            if let Some(gone) = old.iter().find(|u| {
                u.name != "TLS_WEB_CLIENT_AUTHENTICATION" && !new.iter().any(|n| n.oid == u.oid)
            }) {
                return refuse(format!(
                    "The Extended Key Usage {} cannot be removed on re-import.",
                    gone.name
                ));
            }
        }
    }
    Ok(())
}

pub fn describe(ctx: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
    let arn = certificate_arn(input)?;
    let cert = find(region, arn)?;
    let d = &cert.details;
    let in_use_by: Vec<String> = region
        .certificate_users(arn)
        .iter()
        .map(|ep| {
            format!(
                "arn:aws:ec2:{}:{}:client-vpn-endpoint/{}",
                ctx.region_name, ctx.account_id, ep.client_vpn_endpoint_id
            )
        })
        .collect();
    let mut detail = Map::new();
    detail.insert("CertificateArn".into(), json!(cert.arn));
    if let Some(domain) = &d.domain_name {
        detail.insert("DomainName".into(), json!(domain));
        detail.insert(
            "SubjectAlternativeNames".into(),
            json!(d.subject_alternative_names),
        );
    }
    detail.insert("Serial".into(), json!(d.serial));
    detail.insert("Subject".into(), json!(d.subject));
    detail.insert("Issuer".into(), json!(d.issuer));
    detail.insert("ImportedAt".into(), epoch(cert.imported_at));
    detail.insert("Status".into(), json!(d.status(ctx.now.wall)));
    detail.insert("NotBefore".into(), json!(d.not_before));
    detail.insert("NotAfter".into(), json!(d.not_after));
    detail.insert("KeyAlgorithm".into(), json!(d.key_algorithm));
    detail.insert("SignatureAlgorithm".into(), json!(d.signature_algorithm));
    detail.insert("InUseBy".into(), json!(in_use_by));
    detail.insert("Type".into(), json!("IMPORTED"));
    detail.insert("RenewalEligibility".into(), json!("INELIGIBLE"));
    let key_usages: Vec<Value> = d
        .key_usages
        .iter()
        .flatten()
        .map(|name| json!({"Name": name}))
        .collect();
    detail.insert("KeyUsages".into(), json!(key_usages));
    let extended: Vec<Value> = d
        .extended_key_usages
        .iter()
        .flatten()
        .map(|u| json!({"Name": u.name, "OID": u.oid}))
        .collect();
    detail.insert("ExtendedKeyUsages".into(), json!(extended));
    detail.insert(
        "Options".into(),
        json!({"CertificateTransparencyLoggingPreference": "ENABLED"}),
    );
    detail.insert(
        "CertificateKeyPairOrigin".into(),
        json!("CUSTOMER_PROVIDED"),
    );
    Ok(json!({"Certificate": detail}).to_string())
}

/// Epoch seconds with milliseconds, as a JSON number.
fn epoch(time: SystemTime) -> Value {
    let millis = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    json!(millis as f64 / 1000.0)
}

pub fn get(_: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
    let arn = certificate_arn(input)?;
    let cert = find(region, arn)?;
    let mut out = Map::new();
    out.insert("Certificate".into(), json!(cert.certificate_pem));
    if let Some(chain) = &cert.chain_pem {
        out.insert("CertificateChain".into(), json!(chain));
    }
    Ok(Value::Object(out).to_string())
}

pub fn delete(ctx: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
    let arn = certificate_arn(input)?;
    find(region, arn)?;
    if !region.certificate_users(arn).is_empty() {
        return Err(AcmError::new(
            "ResourceInUseException",
            format!("Certificate {arn} in account {} is in use.", ctx.account_id),
        ));
    }
    region.certificates.remove(arn);
    Ok("{}".to_owned())
}
