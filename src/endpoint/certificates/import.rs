//! ACM: import a certificate once, re-import renewals into the same ARN, and find the operator's
//! own imports by their tags when status lost the ARN (a crash between import and status write).

use std::collections::BTreeMap;

use super::sources::Material;
use crate::api::{CertificateOrigin, CertificateRole, CertificateStatus, ClientVpnEndpoint, tags};
use crate::cloud::ImportCertificate;
use crate::endpoint::plan::ownership_tags;
use crate::endpoint::{Context, Error, Target, report};

/// The ARN to use, or why the certificate cannot go into the ARN it is in.
pub enum ImportedArn {
    Arn(String),
    Refused(String),
}

/// Make sure ACM holds `material` for `role`: nothing when the recorded import has its serial,
/// a re-import into the same ARN when the certificate changed (same key type and size only),
/// else one new import, tagged with the ownership tags.
pub async fn ensure_imported(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
    role: CertificateRole,
    material: &Material,
    previous: Option<&CertificateStatus>,
) -> Result<ImportedArn, Error> {
    let region = target.region()?;
    let facts = &material.certificate.facts;
    // (ARN, serial, key algorithm) of this object's import: from status, else found by tag.
    let recorded = previous.and_then(|p| {
        let arn = p.arn.clone()?;
        Some((arn, p.serial.clone(), p.key_algorithm.clone()))
    });
    let mut known = recorded;
    if known.is_none() {
        let domain = (role == CertificateRole::Server)
            .then_some(facts.common_name.as_deref())
            .flatten();
        let found = ctx
            .certificates
            .find_certificates(region, domain, &lookup_tags(target, role))
            .await?;
        known = found.into_iter().next().map(|arn| (arn, None, None));
    }
    if let Some((arn, serial, key)) = known.as_mut()
        && serial.as_deref() != Some(facts.serial.as_str())
    {
        // Status can lag behind ACM (a reconcile of a cached object, a status write lost after
        // a re-import): what ACM holds decides.
        if let Some(described) = ctx.certificates.describe_certificate(region, arn).await? {
            (*serial, *key) = (described.serial, described.key_algorithm);
        }
    }
    let wanted_key = facts.key.to_string();
    let request = |arn: Option<String>| ImportCertificate {
        arn,
        certificate_pem: material.certificate.certificate_pem.clone(),
        chain_pem: material.certificate.chain_pem.clone(),
        private_key_pem: material.certificate.private_key_pem.clone(),
        tags: import_tags(obj, ctx, target, role),
    };
    let Some((arn, serial, key)) = known else {
        let arn = ctx
            .certificates
            .import_certificate(region, &request(None))
            .await?;
        report::certificate_imported(ctx, target, role, &arn, false).await;
        return Ok(ImportedArn::Arn(arn));
    };
    if serial.as_deref() == Some(facts.serial.as_str()) {
        return Ok(ImportedArn::Arn(arn));
    }
    if let Some(key) = key.filter(|k| *k != wanted_key) {
        return Ok(ImportedArn::Refused(format!(
            "the key changed from {key} to {wanted_key}; ACM cannot re-import a different key type or size into {arn}, so the endpoint keeps the old certificate: issue the new one with a {key} key (cert-manager: spec.privateKey algorithm and size)"
        )));
    }
    let reimported = ctx
        .certificates
        .import_certificate(region, &request(Some(arn)))
        .await;
    let (arn, again) = match reimported {
        Ok(arn) => (arn, true),
        // Deleted out of band: import anew (the endpoint then needs the new ARN).
        Err(err) if err.is_not_found() => {
            let arn = ctx
                .certificates
                .import_certificate(region, &request(None))
                .await?;
            (arn, false)
        }
        Err(err) => return Err(err.into()),
    };
    report::certificate_imported(ctx, target, role, &arn, again).await;
    Ok(ImportedArn::Arn(arn))
}

/// Every certificate the operator imported for this object: those status records, and (in
/// case status lost one, or the spec moved to another source) those tagged with its UID.
pub async fn own_imports(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
) -> Result<Vec<String>, Error> {
    let mut own: Vec<String> = obj
        .status
        .iter()
        .flat_map(|s| &s.certificates)
        .filter(|c| {
            matches!(
                c.source,
                CertificateOrigin::Secret | CertificateOrigin::Managed
            )
        })
        .filter_map(|c| c.arn.clone())
        .collect();
    // An object that never named a Secret or the managed CA has nothing to look for.
    let imports =
        obj.spec.server_certificate.is_some() || super::client_root_secrets(obj).next().is_some();
    if !imports && own.is_empty() {
        return Ok(own);
    }
    for role in [CertificateRole::Server, CertificateRole::ClientRoot] {
        let found = ctx
            .certificates
            .find_certificates(target.region()?, None, &lookup_tags(target, role))
            .await?;
        own.extend(found);
    }
    own.sort();
    own.dedup();
    Ok(own)
}

/// The tags that identify this object's import for `role`.
fn lookup_tags(target: &Target, role: CertificateRole) -> BTreeMap<String, String> {
    BTreeMap::from([
        (tags::UID.to_string(), target.uid.clone()),
        (
            tags::CERTIFICATE_ROLE.to_string(),
            role_tag(role).to_string(),
        ),
    ])
}

/// Ownership tags plus the role.
fn import_tags(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
    role: CertificateRole,
) -> BTreeMap<String, String> {
    let mut all = ownership_tags(obj, &target.uid, &ctx.settings.cluster_name);
    all.extend(lookup_tags(target, role));
    all
}

fn role_tag(role: CertificateRole) -> &'static str {
    match role {
        CertificateRole::Server => "server",
        CertificateRole::ClientRoot => "client-root",
    }
}
