//! What Client VPN and ACM demand of a certificate, checked before any AWS call.

use rcgen::{KeyPair, PublicKeyData};
use x509_parser::certificate::X509Certificate;

use super::facts::rfc3339;
use super::pem;
use super::usage::{CLIENT_AUTH, SERVER_AUTH, usage_blocker};
use super::{CertificateFacts, CertificateMaterial, CertificateProblem, KeyKind, Role, TLS_CRT};

/// Secret-key name used for chain certificates in parse errors.
const CHAIN: &str = "the chain (tls.crt after its first certificate, then ca.crt)";

/// Checks `material` for `role` at `now_unix`: key kind and match, validity window, names (and
/// serverAuth for a server), and that the chain signs the certificate in order.
pub fn validate(
    material: &CertificateMaterial,
    role: Role,
    now_unix: i64,
) -> Result<(), CertificateProblem> {
    let facts = &material.facts;
    if !matches!(facts.key, KeyKind::Rsa { bits: 1024 | 2048 }) {
        return Err(CertificateProblem::UnsupportedKey {
            key: facts.key.clone(),
        });
    }
    let leaf_blocks = pem::certificates(material.certificate_pem.as_bytes(), TLS_CRT)?;
    let leaf = checked_leaf(&leaf_blocks, material, now_unix)?;
    match role {
        Role::Server if !facts.has_domain() => Err(CertificateProblem::NoDomain {
            subject: facts.subject.clone(),
        }),
        Role::Server if !serves(facts) => Err(CertificateProblem::NoServerAuth {
            subject: facts.subject.clone(),
        }),
        Role::ClientRoot if facts.common_name.is_none() => {
            Err(CertificateProblem::MissingCommonName {
                subject: facts.subject.clone(),
            })
        }
        _ => Ok(()),
    }?;
    check_chain(&leaf, material.chain_pem.as_deref().unwrap_or_default())
}

/// The leaf, once its key matches and `now_unix` is within its validity window.
fn checked_leaf<'a>(
    leaf_blocks: &'a [pem::Block],
    material: &CertificateMaterial,
    now_unix: i64,
) -> Result<X509Certificate<'a>, CertificateProblem> {
    let leaf_block = leaf_blocks
        .first()
        .ok_or(CertificateProblem::NoCertificate)?;
    let leaf = pem::parse(&leaf_block.der, TLS_CRT, 0)?;
    check_key_matches(&leaf, &material.private_key_pem)?;
    check_validity(&material.facts, now_unix)?;
    Ok(leaf)
}

fn serves(facts: &CertificateFacts) -> bool {
    facts
        .extended_key_usages
        .as_ref()
        .is_some_and(|usages| usages.iter().any(|usage| usage == SERVER_AUTH))
}

/// Checks a user's client certificate at `now_unix`: the key matches, within its validity
/// window, a CN, clientAuth (when it has an extendedKeyUsage extension) and signed by the CA
/// in `ca_pem` (the endpoint's client CA), when the CA is known.
pub fn validate_client(
    material: &CertificateMaterial,
    ca_pem: Option<&str>,
    now_unix: i64,
) -> Result<(), CertificateProblem> {
    let facts = &material.facts;
    let leaf_blocks = pem::certificates(material.certificate_pem.as_bytes(), TLS_CRT)?;
    let leaf = checked_leaf(&leaf_blocks, material, now_unix)?;
    let subject = || facts.subject.clone();
    if facts.common_name.is_none() {
        return Err(CertificateProblem::MissingCommonName { subject: subject() });
    }
    if let Some(usages) = &facts.extended_key_usages
        && !usages.iter().any(|usage| usage == CLIENT_AUTH)
    {
        return Err(CertificateProblem::NoClientAuth { subject: subject() });
    }
    let Some(ca_pem) = ca_pem else {
        return Ok(());
    };
    let cas = pem::certificates(ca_pem.as_bytes(), "the client CA")?;
    let signed = cas.iter().enumerate().any(|(index, block)| {
        pem::parse(&block.der, "the client CA", index)
            .is_ok_and(|ca| leaf.verify_signature(Some(ca.public_key())).is_ok())
    });
    if !signed {
        let ca = cas
            .first()
            .and_then(|b| pem::parse(&b.der, "the client CA", 0).ok())
            .map_or_else(|| "none readable".to_string(), |c| c.subject().to_string());
        return Err(CertificateProblem::NotSignedByClientCa {
            subject: subject(),
            ca,
        });
    }
    Ok(())
}

fn check_key_matches(leaf: &X509Certificate<'_>, key_pem: &str) -> Result<(), CertificateProblem> {
    let unreadable = |reason: String| CertificateProblem::UnreadableKey {
        label: key_label(key_pem),
        reason,
    };
    // aws-lc-rs loads RSA keys of 2048 to 8192 bits only.
    let key = KeyPair::from_pem(key_pem).map_err(|e| {
        unreadable(format!(
            "{e} (RSA keys below 2048 bits cannot be checked here; use RSA 2048)"
        ))
    })?;
    if key.der_bytes() != leaf.public_key().subject_public_key.data.as_ref() {
        return Err(CertificateProblem::KeyMismatch);
    }
    Ok(())
}

fn key_label(key_pem: &str) -> String {
    key_pem
        .strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.split("-----").next())
        .unwrap_or("PRIVATE KEY")
        .to_string()
}

fn check_validity(facts: &CertificateFacts, now_unix: i64) -> Result<(), CertificateProblem> {
    if now_unix < facts.not_before {
        return Err(CertificateProblem::NotYetValid {
            not_before: rfc3339(facts.not_before),
        });
    }
    if now_unix > facts.not_after {
        return Err(CertificateProblem::Expired {
            not_after: rfc3339(facts.not_after),
        });
    }
    Ok(())
}

/// Each chain certificate must sign the one before it, starting with the leaf.
fn check_chain(leaf: &X509Certificate<'_>, chain_pem: &str) -> Result<(), CertificateProblem> {
    let blocks = pem::certificates(chain_pem.as_bytes(), CHAIN)?;
    let mut child = leaf.clone();
    for (index, block) in blocks.iter().enumerate() {
        let parent = pem::parse(&block.der, CHAIN, index)?;
        child
            .verify_signature(Some(parent.public_key()))
            .map_err(|_| CertificateProblem::ChainDoesNotSign {
                index,
                subject: parent.subject().to_string(),
            })?;
        child = parent;
    }
    Ok(())
}

/// Why `next` cannot be re-imported into the ACM ARN that holds `previous`, if it cannot: key
/// type or size changed, all domain names removed, or usages dropped or newly constrained.
pub fn reimport_blocker(previous: &CertificateFacts, next: &CertificateFacts) -> Option<String> {
    if previous.key != next.key {
        return Some(format!(
            "the key changed from {} to {}; ACM keeps key type and size on re-import, so the \
             certificate must go to a new ARN",
            previous.key, next.key
        ));
    }
    if previous.has_domain() && !next.has_domain() {
        return Some(
            "the new certificate has no domain name left; ACM refuses a re-import that removes \
             all of them"
                .to_string(),
        );
    }
    usage_blocker(previous, next)
}

/// True once `now_unix` is within `renew_before_secs` of notAfter (or past it).
pub fn needs_renewal(facts: &CertificateFacts, now_unix: i64, renew_before_secs: i64) -> bool {
    now_unix >= facts.not_after.saturating_sub(renew_before_secs)
}
