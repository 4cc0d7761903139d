//! Certificate material shared by the layers above: public keys from certificates and private
//! keys ([`keys`]), certification paths ([`chain`]) and certificate revocation lists ([`crl`]).
//! Knows no wire protocol; callers turn its answers into their own errors.

pub mod chain;
pub mod crl;
pub mod keys;

use std::time::SystemTime;

/// Seconds since the Unix epoch (0 before it).
pub fn epoch_seconds(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The first `CN` attribute of the subject, if it is a non-empty string.
pub fn common_name(cert: &x509_parser::certificate::X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .filter(|cn| !cn.is_empty())
        .map(str::to_owned)
}
