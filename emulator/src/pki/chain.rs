//! Certification paths: PEM bundles of certificates, whether a CA issued a certificate, and
//! whether a client certificate (with the intermediates it presents) chains to a trusted CA.

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

/// The DER of every PEM block, `None` if the text is not PEM or holds anything but certificates.
pub fn certificate_blocks(text: &[u8]) -> Option<Vec<Vec<u8>>> {
    let blocks = pem::parse_many(text).ok()?;
    blocks
        .into_iter()
        .map(|b| (b.tag() == "CERTIFICATE").then(|| b.into_contents()))
        .collect()
}

/// A certificate's DER, parsed with nothing left over.
pub fn parse_der(der: &[u8]) -> Option<X509Certificate<'_>> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Some(cert),
        _ => None,
    }
}

/// Whether `issuer` issued `cert`: names match and the signature verifies.
pub fn signs(issuer: &X509Certificate<'_>, cert: &X509Certificate<'_>) -> bool {
    issuer.subject().as_raw() == cert.issuer().as_raw()
        && cert.verify_signature(Some(issuer.public_key())).is_ok()
}

/// Whether `leaf` chains to one of `anchors`, directly or through `presented` intermediates
/// (in any order, each used once). Every issuer on the path must be a CA (basic constraints),
/// so a leaf among the anchors (a server certificate passed as client root) signs nothing.
pub fn chains_to<'a>(
    leaf: &X509Certificate<'a>,
    presented: &[X509Certificate<'a>],
    anchors: &[X509Certificate<'_>],
) -> bool {
    let mut used = vec![false; presented.len()];
    let mut current = leaf;
    loop {
        if anchors.iter().any(|a| a.is_ca() && signs(a, current)) {
            return true;
        }
        let next = (0..presented.len())
            .find(|&i| !used[i] && presented[i].is_ca() && signs(&presented[i], current));
        match next {
            Some(i) => {
                used[i] = true;
                current = &presented[i];
            }
            None => return false,
        }
    }
}
