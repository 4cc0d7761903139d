//! Where certificate material comes from: a `kubernetes.io/tls` Secret the user names (e.g.
//! cert-manager's), or the managed CA, whose CA and server certificate the operator issues and
//! keeps in Secrets owned by the object (the server certificate renewed before it expires).

use kube::ResourceExt;

use super::{Resolution, now, owned_name};
use crate::api::{CertificateOrigin, CertificateSource, ClientVpnEndpoint, ManagedCertificate};
use crate::certificates::{
    CA_CRT, CertificateMaterial, Issued, Role, TLS_CRT, TLS_KEY, Validity, issue_ca, issue_server,
    needs_renewal, validate,
};
use crate::endpoint::{Context, Error, Target, report};
use crate::runtime::SecretData;

const DAY: i64 = 86_400;

/// Where one certificate comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// A Secret the user named.
    Secret(&'a str),
    /// The operator's CA.
    Managed(&'a ManagedCertificate),
}

impl<'a> From<&'a CertificateSource> for Source<'a> {
    fn from(source: &'a CertificateSource) -> Self {
        match (&source.secret_ref, &source.managed) {
            (Some(secret), _) => Source::Secret(&secret.name),
            (None, Some(managed)) => Source::Managed(managed),
            // The schema requires exactly one; an empty source means default managed settings.
            (None, None) => Source::Managed(&DEFAULT_MANAGED),
        }
    }
}

static DEFAULT_MANAGED: ManagedCertificate = ManagedCertificate {
    common_name: None,
    validity_days: None,
    renew_before_days: None,
};

/// A certificate ready to import, and where it came from.
#[derive(Debug)]
pub struct Material {
    pub certificate: CertificateMaterial,
    pub origin: CertificateOrigin,
    pub secret_name: String,
}

impl Material {
    /// `Secret <name>`, for messages.
    pub fn described(&self) -> String {
        format!("Secret {}", self.secret_name)
    }
}

/// The checked material of one certificate, or why there is none yet.
pub async fn material_of(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
    role: Role,
    source: Source<'_>,
) -> Result<Result<Material, Resolution>, Error> {
    let (secret_name, origin, data) = match source {
        Source::Secret(name) => {
            let Some(data) = read(ctx, target, name).await? else {
                return Ok(Err(Resolution::Waiting {
                    reason: "WaitingForSecret",
                    message: format!(
                        "waiting for Secret {name} (type kubernetes.io/tls, with {TLS_CRT} and {TLS_KEY})"
                    ),
                }));
            };
            (name.to_string(), CertificateOrigin::Secret, data)
        }
        Source::Managed(settings) => {
            let data = match managed_server(obj, ctx, target, settings).await? {
                Ok(data) => data,
                Err(blocked) => return Ok(Err(blocked)),
            };
            (owned_name(obj, "server"), CertificateOrigin::Managed, data)
        }
    };
    let checked = parse(&data).and_then(|certificate| {
        validate(&certificate, role, now())?;
        Ok(certificate)
    });
    Ok(match checked {
        Ok(certificate) => Ok(Material {
            certificate,
            origin,
            secret_name,
        }),
        Err(problem) => Err(Resolution::Refused {
            reason: "InvalidCertificate",
            message: format!("Secret {secret_name}: {problem}"),
        }),
    })
}

/// The managed server certificate's Secret data: issued (with the CA, on first use) when
/// missing, when due for renewal, or when not from the current CA or for the wanted name.
async fn managed_server(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    target: &Target,
    settings: &ManagedCertificate,
) -> Result<Result<SecretData, Resolution>, Error> {
    let common_name = settings.common_name.clone().unwrap_or_else(|| {
        format!(
            "{}.{}.clientvpn.internal",
            obj.name_any(),
            obj.namespace().unwrap_or_default()
        )
    });
    let ca_name = owned_name(obj, "ca");
    let ca = match read(ctx, target, &ca_name).await? {
        Some(data) => match parse(&data) {
            Ok(ca) => ca,
            Err(problem) => {
                return Ok(Err(Resolution::Refused {
                    reason: "ManagedCaUnreadable",
                    message: format!(
                        "Secret {ca_name}: {problem}; delete the Secret to start a new CA (client certificates of the old one stop working)"
                    ),
                }));
            }
        },
        None => {
            let lifetime = i64::from(ManagedCertificate::CA_VALIDITY_DAYS) * DAY;
            let issued = issue_ca(
                &format!("{} Client VPN CA", obj.name_any()),
                Validity::starting_at(now(), lifetime),
            )
            .map_err(Error::Issue)?;
            let data = secret_data(&issued, &issued.certificate_pem);
            write(ctx, target, &ca_name, &data).await?;
            report::certificate_issued(ctx, target, "CA", &ca_name).await;
            parse(&data).map_err(|p| Error::Issued(p.to_string()))?
        }
    };
    let server_name = owned_name(obj, "server");
    let renew_before = i64::from(settings.renew_before_days()) * DAY;
    let current = read(ctx, target, &server_name).await?;
    let usable = current.as_ref().is_some_and(|data| {
        parse(data).is_ok_and(|server| {
            !needs_renewal(&server.facts, now(), renew_before)
                && server.facts.common_name.as_deref() == Some(common_name.as_str())
                && server
                    .chain_pem
                    .as_deref()
                    .is_some_and(|chain| chain.contains(ca.certificate_pem.trim()))
        })
    });
    if let (true, Some(data)) = (usable, current) {
        return Ok(Ok(data));
    }
    let lifetime = i64::from(settings.validity_days()) * DAY;
    let issued = issue_server(
        &ca,
        &common_name,
        std::slice::from_ref(&common_name),
        Validity::starting_at(now(), lifetime),
    )
    .map_err(Error::Issue)?;
    let data = secret_data(&issued, &ca.certificate_pem);
    write(ctx, target, &server_name, &data).await?;
    report::certificate_issued(ctx, target, "server certificate", &server_name).await;
    Ok(Ok(data))
}

/// `tls.crt`, `tls.key` and `ca.crt`, as cert-manager lays them out.
fn secret_data(issued: &Issued, ca_pem: &str) -> SecretData {
    SecretData(
        [
            (TLS_CRT, issued.certificate_pem.as_bytes()),
            (TLS_KEY, issued.private_key_pem.as_bytes()),
            (CA_CRT, ca_pem.as_bytes()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_vec()))
        .collect(),
    )
}

fn parse(
    data: &SecretData,
) -> Result<CertificateMaterial, crate::certificates::CertificateProblem> {
    CertificateMaterial::from_secret_data(
        data.get(TLS_CRT).unwrap_or_default(),
        data.get(TLS_KEY).unwrap_or_default(),
        data.get(CA_CRT),
    )
}

async fn read(ctx: &Context, target: &Target, name: &str) -> Result<Option<SecretData>, Error> {
    ctx.cluster()
        .secret(&target.handle.namespace, name)
        .await
        .map_err(Error::ReadSecret)
}

async fn write(ctx: &Context, target: &Target, name: &str, data: &SecretData) -> Result<(), Error> {
    ctx.cluster()
        .apply_tls_secret(&target.handle, name, data)
        .await
        .map_err(Error::WriteSecret)
}
