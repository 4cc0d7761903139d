//! The user's certificate and Secret: issue with the endpoint's CA, renew before expiry (the old
//! certificate revoked after a grace period), copy a brought certificate, or rewrite the profile
//! when the endpoint's configuration changed. Decided by [`super::plan`] from annotations.

use kube::ResourceExt;

use super::ovpn::with_identity;
use super::plan::{
    CertificateStep, Held as Annotated, Inputs, IssueReason, certificate_step, duration_secs,
};
use super::reconcile::User;
use super::record::{Record, serial_bytes};
use super::secrets::{ClientCa, client_ca, fresh_held, held, user_secret_data, write_user_secret};
use super::status::{Facts, Report};
use super::view::EndpointView;
use super::{Context, Error, now_unix, rfc3339};
use crate::api::ClientVpnUserSpec;
use crate::certificates::{
    CA_CRT, CertificateMaterial, TLS_CRT, TLS_KEY, Validity, issue_client, validate_client,
};
use crate::runtime::conditions::Standing;
use crate::runtime::{Notice, ObjectHandle};

/// The certificate the user's Secret holds after this step.
#[derive(Clone, Debug)]
pub struct Held {
    pub serial: String,
    pub not_after: i64,
    /// When it is renewed (issued) or warned about (brought).
    pub renew_at: i64,
    pub revocable: bool,
    pub brought: bool,
    /// `CertificateExpiringSoon`'s message for a brought certificate in its renewal window.
    pub expiring: Option<String>,
}

impl Held {
    pub fn record_in(&self, facts: &mut Facts) {
        facts.serial = Some(self.serial.clone());
        facts.not_after = rfc3339(self.not_after);
        facts.revocable = Some(self.revocable);
        facts.revoked = Some(false);
        facts.source = Some(if self.brought { "secret" } else { "managed" }.into());
    }
}

/// A step the user must take, or the certificate in the Secret.
type Outcome = Result<Held, Report>;

/// Make the user's Secret hold a valid certificate and a current profile.
pub async fn ensure(
    ctx: &Context,
    user: &User<'_>,
    view: &EndpointView,
    endpoint: &ObjectHandle,
) -> Result<Outcome, Error> {
    let spec = &user.obj.spec;
    let namespace = &user.handle.namespace;
    let durations = (
        spec.validity
            .as_deref()
            .unwrap_or(ClientVpnUserSpec::DEFAULT_VALIDITY),
        spec.renew_before
            .as_deref()
            .unwrap_or(ClientVpnUserSpec::DEFAULT_RENEW_BEFORE),
    );
    let (Some(validity), Some(renew_before)) =
        (duration_secs(durations.0), duration_secs(durations.1))
    else {
        return Ok(Err(Report::new(
            Standing::Stalled,
            "InvalidDuration",
            format!(
                "validity {:?} / renewBefore {:?}: use whole hours, minutes and seconds (e.g. 8760h, 90m, 45s)",
                durations.0, durations.1
            ),
        )));
    };
    let brought = spec
        .certificate_secret_ref
        .as_ref()
        .map(|s| s.name.as_str());
    let source = match brought {
        Some(name) => name,
        None => match view.ca_secret() {
            Some(name) => name,
            None => {
                return Ok(Err(Report::new(
                    Standing::Stalled,
                    "NoClientCa",
                    format!(
                        "the operator does not hold the client CA of endpoint {} (its client root is an ACM ARN or the server certificate's issuer): bring a certificate with spec.certificateSecretRef, or use serverCertificate.managed / clientRootCertificateChainSecretRef",
                        view.name
                    ),
                )));
            }
        },
    };
    let Some(version) = ctx
        .secret_meta(namespace, source)
        .and_then(|m| m.resource_version())
    else {
        return Ok(Err(Report::new(
            Standing::Reconciling,
            "WaitingForSecret",
            format!(
                "waiting for Secret {source} (type kubernetes.io/tls, with {TLS_CRT} and {TLS_KEY})"
            ),
        )));
    };
    let inputs = Inputs {
        brought: brought.is_some(),
        identity: format!(
            "{:016x}",
            crate::endpoint::plan::fnv1a(&[&user.common_name, source, &version])
        ),
        configuration: view.config_key.clone(),
        renew_before,
    };
    let record = ctx.record(namespace, &view.name).await?;
    let now = now_unix();
    let step_for = |annotated: Option<&Annotated>| {
        let held_is_revoked = annotated.is_some_and(|h| is_revoked(&record, &h.serial, now));
        certificate_step(annotated, &inputs, held_is_revoked, now)
    };
    let mut annotated = ctx
        .secret_meta(namespace, &user.secret_name)
        .and_then(|meta| held(&meta));
    let mut step = step_for(annotated.as_ref());
    if matches!(step, CertificateStep::Issue(_)) && user.looked_at_before {
        // Issuing costs a key generation and supersedes what the Secret holds: decide on the
        // Secret as the API server has it, not on a watch cache that may not yet show this
        // controller's own last write (which would issue twice, leaving one unrevoked).
        annotated = fresh_held(ctx, namespace, &user.secret_name).await?;
        step = step_for(annotated.as_ref());
    }
    let previous_revocable = user.obj.status.as_ref().and_then(|s| s.revocable);
    let written = match (step, &annotated) {
        (CertificateStep::Keep, Some(current)) => Ok(Written {
            annotated: current.clone(),
            revocable: previous_revocable.unwrap_or(!inputs.brought),
        }),
        (CertificateStep::Rewrite, Some(current)) => {
            rewrite(ctx, user, view, current, &inputs).await?
        }
        (CertificateStep::Issue(reason), _) => {
            let ca = client_ca(ctx, namespace, view).await?;
            let written = issue(ctx, user, view, &ca, &inputs, (validity, reason)).await?;
            if let (Ok(new), Some(old)) = (&written, &annotated)
                && reason.supersedes()
            {
                supersede(ctx, user, endpoint, old, &new.annotated).await?;
            }
            written
        }
        _ => bring(ctx, user, view, &inputs, &record, now).await?,
    };
    Ok(written.map(|w| {
        let renew_at = w.annotated.not_after.saturating_sub(renew_before);
        let expiring = (inputs.brought && now >= renew_at).then(|| {
            format!(
                "the brought certificate in Secret {} expires at {}: renew it",
                source,
                rfc3339(w.annotated.not_after).unwrap_or_default()
            )
        });
        Held {
            serial: w.annotated.serial,
            not_after: w.annotated.not_after,
            renew_at,
            revocable: w.revocable,
            brought: inputs.brought,
            expiring,
        }
    }))
}

/// Whether `serial` is revoked by `now` on the record.
pub fn is_revoked(record: &Record, serial: &str, now: i64) -> bool {
    serial_bytes(serial)
        .and_then(|bytes| record.entry(&bytes).map(|e| e.revoke_at <= now))
        .unwrap_or(false)
}

/// What was written (or kept).
struct Written {
    annotated: Annotated,
    revocable: bool,
}

/// Issue a certificate for the user's CN with the endpoint's CA and write the Secret.
async fn issue(
    ctx: &Context,
    user: &User<'_>,
    view: &EndpointView,
    ca: &ClientCa,
    inputs: &Inputs,
    (validity, reason): (i64, IssueReason),
) -> Result<Result<Written, Report>, Error> {
    let (Some(issuer), Some(signer)) = (ca.issuer.clone(), ca.signer.as_ref()) else {
        return Ok(Err(Report::new(
            Standing::Stalled,
            "NoClientCaKey",
            format!(
                "Secret {} holds no readable CA key (tls.key), so the operator cannot issue client certificates: bring one with spec.certificateSecretRef",
                view.ca_secret().unwrap_or("?")
            ),
        )));
    };
    let common_name = user.common_name.clone();
    let lifetime = Validity::starting_at(now_unix(), validity);
    // RSA key generation takes tens of milliseconds of CPU: off the async workers, and no more
    // at once than there are cores (more would only share them, switching back and forth).
    let core = ctx
        .key_generations
        .acquire()
        .await
        .map_err(|e| Error::Issued(format!("the issuing slots are closed: {e}")))?;
    let issued =
        tokio::task::spawn_blocking(move || issue_client(&issuer, &common_name, lifetime)).await;
    // The slot is for the key generation only, not for the writes that follow.
    drop(core);
    let issued = issued
        .map_err(|e| Error::Issued(format!("the issuing task failed: {e}")))?
        .map_err(Error::Issue)?;
    let material = CertificateMaterial::from_secret_data(
        issued.certificate_pem.as_bytes(),
        issued.private_key_pem.as_bytes(),
        None,
    )
    .map_err(|p| Error::Issued(p.to_string()))?;
    let ca_pem = signer.certificate_pem.clone();
    let annotated = annotation_of(&material, inputs);
    let absent = reason == IssueReason::First;
    write(ctx, user, view, &material, &ca_pem, (&annotated, absent)).await?;
    ctx.runtime.metrics.user_certificate_issued();
    if reason.announced() {
        let note = format!(
            "issued client certificate {} (CN {}), valid until {}; client.ovpn is in Secret {}",
            annotated.serial,
            user.common_name,
            rfc3339(annotated.not_after).unwrap_or_default(),
            user.secret_name
        );
        let notice = Notice::normal("CertificateIssued", "IssueCertificate", note);
        ctx.runtime.cluster.publish(&user.handle, notice).await;
    }
    Ok(Ok(Written {
        annotated,
        revocable: true,
    }))
}

/// The renewed certificate is in the Secret: revoke the old one after the grace period.
async fn supersede(
    ctx: &Context,
    user: &User<'_>,
    endpoint: &ObjectHandle,
    old: &Annotated,
    new: &Annotated,
) -> Result<(), Error> {
    let Some(serial) = serial_bytes(&old.serial) else {
        return Ok(());
    };
    let grace = i64::try_from(ctx.settings.superseded_revocation_delay.as_secs()).unwrap_or(0);
    let revoke_at = now_unix().saturating_add(grace);
    ctx.records
        .update(endpoint, None, |record| {
            record.revoke(&serial, old.not_after, revoke_at)
        })
        .await?;
    let note = format!(
        "renewed: certificate {} replaces {}, which is revoked at {} (grace period)",
        new.serial,
        old.serial,
        rfc3339(revoke_at).unwrap_or_default()
    );
    let notice = Notice::normal("CertificateRenewed", "RenewCertificate", note);
    ctx.runtime.cluster.publish(&user.handle, notice).await;
    Ok(())
}

/// Same certificate and key, profile from the endpoint's current configuration.
async fn rewrite(
    ctx: &Context,
    user: &User<'_>,
    view: &EndpointView,
    current: &Annotated,
    inputs: &Inputs,
) -> Result<Result<Written, Report>, Error> {
    let data = read_secret(ctx, &user.handle.namespace, &user.secret_name).await?;
    let material = data.as_ref().and_then(|d| {
        CertificateMaterial::from_secret_data(d.get(TLS_CRT)?, d.get(TLS_KEY)?, None).ok()
    });
    let Some(material) = material else {
        // Unreadable: issue anew on the next look.
        return Ok(Err(Report::new(
            Standing::Reconciling,
            "SecretUnreadable",
            format!(
                "Secret {} no longer holds a readable certificate; issuing a new one",
                user.secret_name
            ),
        )));
    };
    let ca_pem = data
        .as_ref()
        .and_then(|d| d.get(CA_CRT))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    let annotated = Annotated {
        configuration: inputs.configuration.clone(),
        ..current.clone()
    };
    write(ctx, user, view, &material, &ca_pem, (&annotated, false)).await?;
    Ok(Ok(Written {
        annotated,
        revocable: user
            .obj
            .status
            .as_ref()
            .and_then(|s| s.revocable)
            .unwrap_or(!inputs.brought),
    }))
}

/// Copy a brought certificate, checked against the endpoint's client CA.
async fn bring(
    ctx: &Context,
    user: &User<'_>,
    view: &EndpointView,
    inputs: &Inputs,
    record: &Record,
    now: i64,
) -> Result<Result<Written, Report>, Error> {
    let namespace = &user.handle.namespace;
    let name = user
        .obj
        .spec
        .certificate_secret_ref
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let refused = |reason: &'static str, message: String| {
        Ok(Err(Report::new(Standing::Stalled, reason, message)))
    };
    let Some(data) = read_secret(ctx, namespace, &name).await? else {
        return Ok(Err(Report::new(
            Standing::Reconciling,
            "WaitingForSecret",
            format!("waiting for Secret {name}"),
        )));
    };
    let material = match CertificateMaterial::from_secret_data(
        data.get(TLS_CRT).unwrap_or_default(),
        data.get(TLS_KEY).unwrap_or_default(),
        data.get(CA_CRT),
    ) {
        Ok(material) => material,
        Err(problem) => return refused("InvalidCertificate", format!("Secret {name}: {problem}")),
    };
    let ca = client_ca(ctx, namespace, view).await?;
    if let Err(problem) = validate_client(&material, ca.certificates_pem.as_deref(), now) {
        return refused("InvalidCertificate", format!("Secret {name}: {problem}"));
    }
    if is_revoked(record, &material.facts.serial, now) {
        return refused(
            "CertificateRevoked",
            format!(
                "the certificate in Secret {name} (serial {}) is revoked on endpoint {}: issue a new one",
                material.facts.serial, view.name
            ),
        );
    }
    let revocable = ca.signer.as_ref().is_some_and(|signer| {
        validate_client(&material, Some(&signer.certificate_pem), now).is_ok()
    });
    let ca_pem = data
        .get(CA_CRT)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .or_else(|| ca.certificates_pem.clone())
        .unwrap_or_default();
    let annotated = annotation_of(&material, inputs);
    write(ctx, user, view, &material, &ca_pem, (&annotated, false)).await?;
    Ok(Ok(Written {
        annotated,
        revocable,
    }))
}

/// What the Secret's annotations say about `material` made from `inputs`.
fn annotation_of(material: &CertificateMaterial, inputs: &Inputs) -> Annotated {
    Annotated {
        serial: material.facts.serial.clone(),
        not_after: material.facts.not_after,
        identity: inputs.identity.clone(),
        configuration: inputs.configuration.clone(),
    }
}

/// Write the Secret: the endpoint's profile with this certificate and key, and the parts.
async fn write(
    ctx: &Context,
    user: &User<'_>,
    view: &EndpointView,
    material: &CertificateMaterial,
    ca_pem: &str,
    (annotated, absent): (&Annotated, bool),
) -> Result<(), Error> {
    let (Some(id), Some(region)) = (view.id.as_deref(), view.region.as_deref()) else {
        return Ok(());
    };
    let config = ctx
        .configs
        .get(ctx.cloud.as_ref(), &view.config_key, region, id)
        .await?;
    let certificate = match &material.chain_pem {
        Some(chain) => format!("{}{chain}", material.certificate_pem),
        None => material.certificate_pem.clone(),
    };
    let ovpn = with_identity(&config, &certificate, &material.private_key_pem);
    let data = user_secret_data(&ovpn, &certificate, &material.private_key_pem, ca_pem);
    let name = (user.secret_name.as_str(), absent);
    write_user_secret(ctx, &user.handle, name, &data, annotated).await
}

async fn read_secret(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<Option<crate::runtime::SecretData>, Error> {
    ctx.runtime
        .cluster
        .secret(namespace, name)
        .await
        .map_err(|e| Error::Kube("reading a Secret", e))
}
