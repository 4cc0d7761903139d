//! A `kubernetes.io/tls` Secret's data, split the way ACM's ImportCertificate wants it.

use std::fmt;

use super::pem::{self, Block};
use super::{CA_CRT, CertificateFacts, CertificateProblem, TLS_CRT, TLS_KEY};

/// PEM labels of the unencrypted key formats ACM accepts: PKCS#8, PKCS#1 (RSA), SEC1 (EC).
const KEY_LABELS: [&str; 3] = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

/// Certificate, chain and key ready for ImportCertificate, with the leaf's facts.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateMaterial {
    /// Exactly the leaf: the first CERTIFICATE block of `tls.crt` (ACM takes one certificate).
    pub certificate_pem: String,
    /// The rest of `tls.crt`, then `ca.crt` unless already there; never the leaf. None if empty.
    pub chain_pem: Option<String>,
    /// The private key block of `tls.key`, as written (PKCS#1, SEC1 or PKCS#8).
    pub private_key_pem: String,
    /// Facts of the leaf.
    pub facts: CertificateFacts,
}

impl CertificateMaterial {
    /// Reads the Secret values `tls.crt`, `tls.key` and optional `ca.crt` (raw bytes).
    ///
    /// Checks framing only (PEM, X.509, key format); [`super::validate`] checks the rest.
    pub fn from_secret_data(
        tls_crt: &[u8],
        tls_key: &[u8],
        ca_crt: Option<&[u8]>,
    ) -> Result<Self, CertificateProblem> {
        let mut chain = pem::certificates(tls_crt, TLS_CRT)?;
        if chain.is_empty() {
            return Err(CertificateProblem::NoCertificate);
        }
        let leaf = chain.remove(0);
        let facts = CertificateFacts::of(&pem::parse(&leaf.der, TLS_CRT, 0)?, &leaf.der).map_err(
            |reason| CertificateProblem::UnparsableCertificate {
                key: TLS_CRT,
                index: 0,
                reason,
            },
        )?;
        for ca in pem::certificates(ca_crt.unwrap_or_default(), CA_CRT)? {
            if ca.der != leaf.der && chain.iter().all(|known| known.der != ca.der) {
                chain.push(ca);
            }
        }
        let chain_pem =
            (!chain.is_empty()).then(|| chain.iter().map(|c| c.text.as_str()).collect());
        Ok(CertificateMaterial {
            certificate_pem: leaf.text,
            chain_pem,
            private_key_pem: private_key(tls_key)?.text,
            facts,
        })
    }
}

/// The first private key block of `tls.key`, refusing encrypted and unknown formats.
fn private_key(tls_key: &[u8]) -> Result<Block, CertificateProblem> {
    // Checked on the text first: a legacy encrypted PKCS#1 key (Proc-Type header) is not base64.
    let text = String::from_utf8_lossy(tls_key);
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(CertificateProblem::EncryptedKey);
    }
    let key = pem::blocks(tls_key, TLS_KEY)?
        .into_iter()
        .find(|block| block.label.ends_with("PRIVATE KEY"))
        .ok_or(CertificateProblem::NoPrivateKey)?;
    if !KEY_LABELS.contains(&key.label.as_str()) {
        return Err(CertificateProblem::UnreadableKey {
            label: key.label,
            reason: "unknown format; use PKCS#1, SEC1 or PKCS#8 without encryption".into(),
        });
    }
    Ok(key)
}

/// Redacts the key: key material must never reach logs.
impl fmt::Debug for CertificateMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateMaterial")
            .field("facts", &self.facts)
            .field(
                "chain_certificates",
                &self.chain_pem.as_deref().map_or(0, count_blocks),
            )
            .field("private_key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn count_blocks(text: &str) -> usize {
    text.matches("-----BEGIN ").count()
}
