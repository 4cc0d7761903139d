//! Key usages and extended key usages in ACM's names, and ACM's re-import rule for them: the
//! set may grow but not shrink, and an extension the first import lacked cannot be added.

use x509_parser::certificate::X509Certificate;

use super::{CertificateFacts, KeyKind};

/// ACM's name for the serverAuth extended key usage.
pub const SERVER_AUTH: &str = "TLS_WEB_SERVER_AUTHENTICATION";
/// ACM's name for the clientAuth extended key usage.
pub const CLIENT_AUTH: &str = "TLS_WEB_CLIENT_AUTHENTICATION";
const KEY_ENCIPHERMENT: &str = "KEY_ENCIPHERMENT";

/// Key usages (`DIGITAL_SIGNATURE`, …); None when the certificate has no keyUsage extension.
pub(crate) fn key_usages(cert: &X509Certificate<'_>) -> Result<Option<Vec<String>>, String> {
    let Some(ext) = cert
        .key_usage()
        .map_err(|e| format!("its keyUsage is invalid: {e}"))?
    else {
        return Ok(None);
    };
    let usage = ext.value;
    let named = [
        (usage.digital_signature(), "DIGITAL_SIGNATURE"),
        (usage.non_repudiation(), "NON_REPUDIATION"),
        (usage.key_encipherment(), KEY_ENCIPHERMENT),
        (usage.data_encipherment(), "DATA_ENCIPHERMENT"),
        (usage.key_agreement(), "KEY_AGREEMENT"),
        (usage.key_cert_sign(), "CERTIFICATE_SIGNING"),
        (usage.crl_sign(), "CRL_SIGNING"),
        (usage.encipher_only(), "ENCIPHER_ONLY"),
        (usage.decipher_only(), "DECIPHER_ONLY"),
    ];
    Ok(Some(present(&named)))
}

/// Extended key usages (`TLS_WEB_SERVER_AUTHENTICATION`, …; others as dotted OIDs); None when
/// the certificate has no extendedKeyUsage extension.
pub(crate) fn extended_key_usages(
    cert: &X509Certificate<'_>,
) -> Result<Option<Vec<String>>, String> {
    let Some(ext) = cert
        .extended_key_usage()
        .map_err(|e| format!("its extendedKeyUsage is invalid: {e}"))?
    else {
        return Ok(None);
    };
    let usage = ext.value;
    let named = [
        (usage.any, "ANY"),
        (usage.server_auth, SERVER_AUTH),
        (usage.client_auth, CLIENT_AUTH),
        (usage.code_signing, "CODE_SIGNING"),
        (usage.email_protection, "EMAIL_PROTECTION"),
        (usage.time_stamping, "TIME_STAMPING"),
        (usage.ocsp_signing, "OCSP_SIGNING"),
    ];
    let mut names = present(&named);
    names.extend(usage.other.iter().map(|oid| oid.to_id_string()));
    Ok(Some(names))
}

fn present(named: &[(bool, &str)]) -> Vec<String> {
    named
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// Why ACM refuses `next`'s usages on re-import over `previous`, if it does.
pub(crate) fn usage_blocker(
    previous: &CertificateFacts,
    next: &CertificateFacts,
) -> Option<String> {
    // ACM lets keyEncipherment go on ECDSA certificates, and clientAuth go on any.
    let may_drop_ku = matches!(next.key, KeyKind::Ec { .. }).then_some(KEY_ENCIPHERMENT);
    [
        (
            "keyUsage",
            &previous.key_usages,
            &next.key_usages,
            may_drop_ku,
        ),
        (
            "extendedKeyUsage",
            &previous.extended_key_usages,
            &next.extended_key_usages,
            Some(CLIENT_AUTH),
        ),
    ]
    .into_iter()
    .find_map(|(extension, previous, next, may_drop)| {
        set_blocker(extension, previous.as_deref(), next.as_deref(), may_drop)
    })
}

fn set_blocker(
    extension: &str,
    previous: Option<&[String]>,
    next: Option<&[String]>,
    may_drop: Option<&str>,
) -> Option<String> {
    let Some(previous) = previous else {
        return next.map(|_| {
            format!(
                "the new certificate adds a {extension} extension the imported one lacks, which \
                 ACM refuses on re-import; import it as a new certificate"
            )
        });
    };
    let next = next.unwrap_or_default();
    let dropped: Vec<&str> = previous
        .iter()
        .map(String::as_str)
        .filter(|name| !next.iter().any(|kept| kept == name) && Some(*name) != may_drop)
        .collect();
    (!dropped.is_empty()).then(|| {
        format!(
            "the new certificate drops {extension} {}, which ACM refuses on re-import (usages may \
             only be added); keep them, or import it as a new certificate",
            dropped.join(", ")
        )
    })
}
