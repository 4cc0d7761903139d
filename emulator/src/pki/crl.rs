//! Certificate revocation lists (`-----BEGIN X509 CRL-----`): parsing, the issuer's signature,
//! the revoked serial numbers and `nextUpdate`.

use std::collections::HashSet;

use x509_parser::certificate::X509Certificate;
use x509_parser::revocation_list::CertificateRevocationList;

use super::keys::trim_zeros;

/// A parsed CRL: what a connecting client is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    /// Re-encoded as one PEM block (64-character lines, `\n`).
    pub pem: String,
    /// Serial numbers without leading zero bytes.
    revoked: HashSet<Vec<u8>>,
    /// Epoch seconds; `None` when the CRL names no next update.
    pub next_update: Option<i64>,
}

/// Why a CRL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlError {
    /// Not one PEM `X509 CRL` block holding a DER CRL.
    Malformed,
    /// More revoked entries than allowed (the count is given).
    TooManyEntries(usize),
    /// Not issued (name and signature) by any of the given CAs.
    UntrustedIssuer,
}

impl RevocationList {
    /// Parses the PEM text of one CRL with at most `max_entries` revoked certificates. With
    /// `issuers`, one of them must be the CRL's issuer (name and signature).
    pub fn parse(
        text: &[u8],
        max_entries: usize,
        issuers: Option<&[X509Certificate<'_>]>,
    ) -> Result<Self, CrlError> {
        let der = match pem::parse_many(text)
            .map_err(|_| CrlError::Malformed)?
            .as_slice()
        {
            [one] if one.tag() == "X509 CRL" => one.contents().to_vec(),
            _ => return Err(CrlError::Malformed),
        };
        let crl = match x509_parser::parse_x509_crl(&der) {
            Ok(([], crl)) => crl,
            _ => return Err(CrlError::Malformed),
        };
        let count = crl.iter_revoked_certificates().count();
        if count > max_entries {
            return Err(CrlError::TooManyEntries(count));
        }
        if let Some(issuers) = issuers
            && !issuers.iter().any(|ca| issued_by(&crl, ca))
        {
            return Err(CrlError::UntrustedIssuer);
        }
        let revoked = crl
            .iter_revoked_certificates()
            .map(|r| trim_zeros(r.raw_serial()).to_vec())
            .collect();
        let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
        Ok(Self {
            next_update: crl.next_update().map(|t| t.timestamp()),
            revoked,
            pem: pem::encode_config(&pem::Pem::new("X509 CRL", der), config),
        })
    }

    /// Whether the certificate with this raw (DER integer) serial number is revoked.
    pub fn revokes(&self, serial: &[u8]) -> bool {
        self.revoked.contains(trim_zeros(serial))
    }

    /// Distinct revoked serial numbers.
    pub fn entries(&self) -> usize {
        self.revoked.len()
    }

    /// Whether `nextUpdate` has passed at `now` (epoch seconds).
    pub fn expired_at(&self, now: i64) -> bool {
        self.next_update.is_some_and(|next| now > next)
    }
}

fn issued_by(crl: &CertificateRevocationList<'_>, ca: &X509Certificate<'_>) -> bool {
    crl.issuer().as_raw() == ca.subject().as_raw() && crl.verify_signature(ca.public_key()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_malformed() {
        for text in [
            &b"not pem"[..],
            b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            assert_eq!(
                RevocationList::parse(text, 10, None),
                Err(CrlError::Malformed)
            );
        }
    }
}
