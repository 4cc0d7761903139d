//! Certificates first: before the endpoint is planned, every certificate named by a Secret or
//! made by the managed CA is read, checked against Client VPN's rules, imported into ACM once
//! (renewals re-imported into the same ARN) and turned into the ARNs the endpoint uses. After
//! the endpoint is gone, what the operator imported is deleted (unless retained).
//!
//! `sources` reads Secrets and runs the managed CA; `import` talks to ACM.

mod import;
mod sources;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use self::import::{ImportedArn, ensure_imported, own_imports};
use self::sources::{Material, material_of};
use super::{Context, Error, Target};
use crate::api::{
    CertificateOrigin, CertificateRole, CertificateStatus, ClientVpnEndpoint, DeletionPolicy,
};
use crate::certificates::{CertificateFacts, Role};

/// What the certificates allow this reconcile to do.
#[derive(Debug)]
pub enum Resolution {
    /// Every certificate has an ARN.
    Ready(Box<Resolved>),
    /// Something expected is not there yet (e.g. cert-manager has not written the Secret).
    Waiting {
        reason: &'static str,
        message: String,
    },
    /// Refused before any AWS call, or a change ACM would refuse: Stalled until the spec or the
    /// Secret changes.
    Refused {
        reason: &'static str,
        message: String,
    },
}

/// The object with every certificate ARN filled in, and what status records about them.
#[derive(Debug)]
pub struct Resolved {
    pub object: ClientVpnEndpoint,
    pub statuses: Vec<CertificateStatus>,
}

impl Resolved {
    /// The serials of the certificates, so that the exported client configuration follows a
    /// renewal (the ARN stays the same on re-import).
    pub fn revision(&self) -> String {
        let serials: Vec<&str> = self
            .statuses
            .iter()
            .filter_map(|s| s.serial.as_deref())
            .collect();
        serials.join(",")
    }

    /// `(metric role label, notAfter)` of each certificate the endpoint uses.
    pub fn expiries(&self) -> Vec<(&'static str, i64)> {
        self.statuses
            .iter()
            .filter_map(|s| {
                let at = OffsetDateTime::parse(s.not_after.as_deref()?, &Rfc3339).ok()?;
                let role = match s.role {
                    CertificateRole::Server => "server",
                    CertificateRole::ClientRoot => "client_root",
                };
                Some((role, at.unix_timestamp()))
            })
            .collect()
    }
}

/// Resolve the server certificate and each mutual-authentication client root chain.
pub async fn resolve(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
) -> Result<Resolution, Error> {
    let mut object = obj.clone();
    let mut statuses = Vec::new();
    let server = match (
        &obj.spec.server_certificate_arn,
        &obj.spec.server_certificate,
    ) {
        (Some(arn), _) => given_arn(CertificateRole::Server, arn),
        (None, Some(source)) => {
            let material = match material_of(obj, ctx, target, Role::Server, source.into()).await? {
                Ok(material) => material,
                Err(blocked) => return Ok(blocked),
            };
            match imported(obj, ctx, target, CertificateRole::Server, material).await? {
                Ok(status) => status,
                Err(blocked) => return Ok(blocked),
            }
        }
        (None, None) => {
            return Ok(Resolution::Refused {
                reason: "MissingServerCertificate",
                message: "set serverCertificateArn or serverCertificate".into(),
            });
        }
    };
    object.spec.server_certificate_arn = server.arn.clone();
    for option in &mut object.spec.authentication_options {
        let Some(mutual) = option.mutual_authentication.as_mut() else {
            continue;
        };
        let root = match (
            &mutual.client_root_certificate_chain_arn,
            &mutual.client_root_certificate_chain_secret_ref,
        ) {
            (Some(arn), _) => given_arn(CertificateRole::ClientRoot, arn),
            (None, Some(secret)) => {
                let source = sources::Source::Secret(&secret.name);
                let material = match material_of(obj, ctx, target, Role::ClientRoot, source).await?
                {
                    Ok(material) => material,
                    Err(blocked) => return Ok(blocked),
                };
                match imported(obj, ctx, target, CertificateRole::ClientRoot, material).await? {
                    Ok(status) => status,
                    Err(blocked) => return Ok(blocked),
                }
            }
            (None, None) => CertificateStatus {
                role: CertificateRole::ClientRoot,
                source: CertificateOrigin::SameAsServer,
                ..server.clone()
            },
        };
        mutual.client_root_certificate_chain_arn = root.arn.clone();
        statuses.push(root);
    }
    statuses.insert(0, server);
    Ok(Resolution::Ready(Box::new(Resolved { object, statuses })))
}

/// The objects whose certificates come from `secret` (named in their spec, or their managed
/// CA's), so that a change to it is acted on at once.
pub fn users_of_secret(
    endpoints: &Store<ClientVpnEndpoint>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<ClientVpnEndpoint>> {
    let namespace = secret.namespace();
    let name = secret.name_any();
    endpoints
        .state()
        .iter()
        .filter(|obj| obj.namespace() == namespace && uses_secret(obj, &name))
        .map(|obj| ObjectRef::from_obj(obj.as_ref()))
        .collect()
}

/// True when `obj` takes a certificate from the Secret `name` of its namespace.
pub fn uses_secret(obj: &ClientVpnEndpoint, name: &str) -> bool {
    let spec = &obj.spec;
    let server = spec.server_certificate.as_ref().is_some_and(|source| {
        match (&source.secret_ref, &source.managed) {
            (Some(secret), _) => secret.name == name,
            (None, _) => name == owned_name(obj, "ca") || name == owned_name(obj, "server"),
        }
    });
    server || client_root_secrets(obj).any(|secret| secret == name)
}

/// The Secrets the spec names as mutual-authentication client roots.
fn client_root_secrets(obj: &ClientVpnEndpoint) -> impl Iterator<Item = &str> {
    obj.spec.authentication_options.iter().filter_map(|option| {
        let mutual = option.mutual_authentication.as_ref()?;
        let secret = mutual.client_root_certificate_chain_secret_ref.as_ref()?;
        Some(secret.name.as_str())
    })
}

/// Delete what the operator imported, after the endpoint is gone. ACM refuses while an endpoint
/// still uses a certificate (`ResourceInUseException`, retried by the caller's backoff).
pub async fn release(obj: &ClientVpnEndpoint, ctx: &Context, target: &Target) -> Result<(), Error> {
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(());
    }
    let region = target.region()?;
    for arn in own_imports(obj, ctx, target).await? {
        ctx.certificates.delete_certificate(region, &arn).await?;
        super::report::certificate_deleted(ctx, target, &arn).await;
    }
    Ok(())
}

/// A certificate given as an ARN: recorded, never imported or deleted.
fn given_arn(role: CertificateRole, arn: &str) -> CertificateStatus {
    CertificateStatus {
        role,
        source: CertificateOrigin::Arn,
        arn: Some(arn.to_string()),
        secret_name: None,
        subject: None,
        serial: None,
        not_after: None,
        key_algorithm: None,
    }
}

/// Import (or re-import, or find) `material` and describe it for status.
async fn imported(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
    role: CertificateRole,
    material: Material,
) -> Result<Result<CertificateStatus, Resolution>, Error> {
    let previous = obj
        .status
        .as_ref()
        .and_then(|s| s.certificates.iter().find(|c| c.role == role))
        .filter(|c| c.source == material.origin);
    let arn = match ensure_imported(obj, ctx, target, role, &material, previous).await? {
        ImportedArn::Arn(arn) => arn,
        ImportedArn::Refused(message) => {
            return Ok(Err(Resolution::Refused {
                reason: "CertificateKeyChanged",
                message: format!("{}: {message}", material.described()),
            }));
        }
    };
    Ok(Ok(status_of(role, &material, arn)))
}

fn status_of(role: CertificateRole, material: &Material, arn: String) -> CertificateStatus {
    let facts: &CertificateFacts = &material.certificate.facts;
    CertificateStatus {
        role,
        source: material.origin,
        arn: Some(arn),
        secret_name: Some(material.secret_name.clone()),
        subject: Some(facts.subject.clone()),
        serial: Some(facts.serial.clone()),
        not_after: rfc3339(facts.not_after),
        key_algorithm: Some(facts.key.to_string()),
    }
}

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
}

/// Unix seconds now.
fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `<name>-<suffix>`: the managed Secrets of an object.
fn owned_name(obj: &ClientVpnEndpoint, suffix: &str) -> String {
    format!("{}-{suffix}", obj.name_any())
}
