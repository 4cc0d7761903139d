//! Certificate revocation lists for ImportClientVpnClientCertificateRevocationList: always the
//! full list (import replaces the endpoint's CRL), signed by the CA that issued the clients.

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};

use super::issue::{datetime, load_issuer};
use super::{CaSource, IssueError};

/// A revoked certificate: its serial as in [`super::CertificateFacts::serial`] (`07:71:f4`)
/// and when it was revoked (unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedSerial {
    pub serial: String,
    pub revoked_at: i64,
}

/// Signs a PEM `X509 CRL` listing `revoked`. Re-issue well before `next_update`: an expired CRL
/// blocks every client.
pub fn sign_crl(
    ca: &impl CaSource,
    revoked: &[RevokedSerial],
    this_update: i64,
    next_update: i64,
    crl_number: u64,
) -> Result<String, IssueError> {
    let revoked_certs = revoked
        .iter()
        .map(|entry| {
            Ok(RevokedCertParams {
                serial_number: parse_serial(&entry.serial)?,
                revocation_time: datetime(entry.revoked_at)?,
                reason_code: None,
                invalidity_date: None,
            })
        })
        .collect::<Result<_, IssueError>>()?;
    let params = CertificateRevocationListParams {
        this_update: datetime(this_update)?,
        next_update: datetime(next_update)?,
        crl_number: SerialNumber::from_slice(minimal(&crl_number.to_be_bytes())),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params
        .signed_by(&load_issuer(ca)?)
        .map_err(IssueError::Sign)?;
    crl.pem().map_err(IssueError::Sign)
}

/// `07:71:f4` → bytes.
fn parse_serial(serial: &str) -> Result<SerialNumber, IssueError> {
    let bytes = serial
        .split(':')
        .map(|byte| u8::from_str_radix(byte, 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| IssueError::Serial(serial.to_string()))?;
    Ok(SerialNumber::from_slice(minimal(&bytes)))
}

/// Without leading zero bytes (keeping one for zero).
fn minimal(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    &bytes[start..]
}
