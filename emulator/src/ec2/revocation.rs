//! Import / Export the client certificate revocation list of an endpoint. An import replaces
//! the whole list, ends every session at once, and applies (`pending` → `active`) after the
//! CRL delay.

use x509_parser::certificate::X509Certificate;

use super::error::Ec2Error;
use super::query::Params;
use super::xml::Xml;
use super::{Ctx, endpoint, endpoint_mut, return_true};
use crate::pki::chain::parse_der;
use crate::pki::crl::{CrlError, RevocationList};
use crate::state::{Crl, CrlState, Region};

pub const IMPORT_PARAMS: &[&str] = &["ClientVpnEndpointId", "CertificateRevocationList"];
pub const EXPORT_PARAMS: &[&str] = &["ClientVpnEndpointId"];

/// Revoked entries per list (AWS quota, not adjustable).
pub const MAX_ENTRIES: usize = 20_000;

pub fn import(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let id = p.required("ClientVpnEndpointId")?;
    let text = p.required("CertificateRevocationList")?;
    let ep = endpoint_mut(region, id)?;
    let Some(root_arn) = ep
        .authentication_options
        .iter()
        .find_map(|a| a.client_root_certificate_chain.clone())
    else {
        return Err(Ec2Error::invalid(format!(
            "Client VPN endpoint {id} does not use mutual (certificate) authentication, so it has no client certificate revocation list."
        )));
    };
    // The CRL must be issued by a CA of the client root chain, when that chain is in ACM
    // (with made-up ARNs in permissive mode there is nothing to check against).
    let ders: Option<Vec<&[u8]>> = region.certificates.get(&root_arn).map(|c| {
        std::iter::once(c.certificate_der.as_slice())
            .chain(c.chain_der.iter().map(Vec::as_slice))
            .collect()
    });
    let issuers: Option<Vec<X509Certificate<'_>>> =
        ders.map(|ders| ders.into_iter().filter_map(parse_der).collect());
    let list = RevocationList::parse(text.as_bytes(), MAX_ENTRIES, issuers.as_deref())
        .map_err(|e| crl_error(e, &root_arn))?;
    ctx.proceed()?;
    let due = ctx.due_in(ctx.timing.crl());
    let ep = endpoint_mut(region, id)?;
    ep.reset_connections(&ctx.now);
    ep.crl = Some(Crl {
        list,
        status: CrlState::Pending,
        due: Some(due),
    });
    Ok(return_true())
}

fn crl_error(err: CrlError, root_arn: &str) -> Ec2Error {
    match err {
        CrlError::Malformed => Ec2Error::invalid(
            "The certificate revocation list is not valid: it must be one PEM-encoded X.509 CRL (-----BEGIN X509 CRL-----).",
        ),
        CrlError::TooManyEntries(count) => Ec2Error::new(
            "ClientVpnCertificateRevocationListLimitExceeded",
            format!(
                "The certificate revocation list has {count} entries; the maximum is {MAX_ENTRIES}."
            ),
        ),
        CrlError::UntrustedIssuer => Ec2Error::invalid(format!(
            "The certificate revocation list is not signed by a certificate authority of the client root certificate chain {root_arn}."
        )),
    }
}

pub fn export(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let id = p.required("ClientVpnEndpointId")?;
    let ep = endpoint(region, id)?;
    ctx.proceed()?;
    let mut x = Xml::new();
    // Before any import both elements are left out.
    if let Some(crl) = &ep.crl {
        x.text("certificateRevocationList", &crl.list.pem);
        x.status("status", crl.status.as_str(), None);
    }
    Ok(x.into_string())
}
