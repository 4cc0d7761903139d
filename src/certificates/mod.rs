//! Certificates for Client VPN: read `kubernetes.io/tls` Secret data, check it against what ACM
//! and Client VPN accept, issue from an operator-managed CA, and sign CRLs.
//!
//! Pure: no kube, no AWS SDK, no I/O, no clock (callers pass `now` as unix seconds). X.509 is read
//! with x509-parser and written with rcgen on aws-lc-rs. Key material never reaches `Debug`.

mod crl;
mod facts;
mod issue;
mod material;
mod pem;
mod problem;
mod usage;
mod validate;

#[cfg(test)]
mod tests;

pub use crl::{RevokedSerial, sign_crl};
pub use facts::{CertificateFacts, KeyKind, rfc3339};
pub use issue::{
    CaSource, IssueError, Issued, Signer, Validity, issue_ca, issue_client, issue_server,
};
pub use material::CertificateMaterial;
pub use problem::CertificateProblem;
pub use validate::{needs_renewal, reimport_blocker, validate, validate_client};

/// Secret key holding the leaf certificate (then its chain), as cert-manager writes it.
pub const TLS_CRT: &str = "tls.crt";
/// Secret key holding the private key.
pub const TLS_KEY: &str = "tls.key";
/// Optional Secret key holding the issuing CA certificate.
pub const CA_CRT: &str = "ca.crt";

/// What a certificate is used for on a Client VPN endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The endpoint's server certificate (`serverCertificateArn`).
    Server,
    /// The certificate whose chain holds the client CA (`clientRootCertificateChainArn`).
    ClientRoot,
}

impl Role {
    /// The value of the `clientvpn.io/certificate-role` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::ClientRoot => "client-root",
        }
    }
}
