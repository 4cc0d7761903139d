//! Public keys reduced to what identifies them, read from certificates and from unencrypted
//! private keys in PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#8
//! (`PRIVATE KEY`), so that a key can be matched against a certificate.

use pkcs8::der::asn1::ObjectIdentifier;
use x509_parser::certificate::X509Certificate;
use x509_parser::public_key::PublicKey as ParsedKey;

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// Named curves that are recognised, with their names.
const CURVES: &[(&str, &str)] = &[
    ("1.2.840.10045.3.1.7", "prime256v1"),
    ("1.3.132.0.34", "secp384r1"),
    ("1.3.132.0.35", "secp521r1"),
];

/// A public key reduced to what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Modulus and exponent without leading zero bytes.
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    /// Curve name and the uncompressed point.
    Ec { curve: &'static str, point: Vec<u8> },
}

/// A private key that is not PEM, is encrypted, or is of an unsupported algorithm or curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedKey;

impl PublicKey {
    fn rsa(modulus: &[u8], exponent: &[u8]) -> Self {
        Self::Rsa {
            modulus: trim_zeros(modulus).to_vec(),
            exponent: trim_zeros(exponent).to_vec(),
        }
    }

    /// The modulus size of an RSA key.
    pub fn rsa_bits(&self) -> Option<usize> {
        match self {
            Self::Rsa { modulus, .. } => Some(bit_length(modulus)),
            Self::Ec { .. } => None,
        }
    }

    /// `(KeyAlgorithm output form, key type input form)`: `RSA-2048` / `RSA_2048`.
    pub fn algorithm(&self) -> (String, String) {
        match self {
            Self::Rsa { modulus, .. } => {
                let bits = bit_length(modulus);
                (format!("RSA-{bits}"), format!("RSA_{bits}"))
            }
            Self::Ec { curve, .. } => (format!("EC-{curve}"), format!("EC_{curve}")),
        }
    }
}

/// `bytes` without leading zero bytes (DER integers carry a sign byte).
pub fn trim_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn bit_length(big_endian: &[u8]) -> usize {
    let bytes = trim_zeros(big_endian);
    bytes.first().map_or(0, |first| {
        (bytes.len() - 1) * 8 + (8 - first.leading_zeros() as usize)
    })
}

fn curve_name(oid: &str) -> Option<&'static str> {
    CURVES
        .iter()
        .find(|(o, _)| *o == oid)
        .map(|(_, name)| *name)
}

/// The certificate's public key, if it is RSA or EC on a recognised curve.
pub fn of_certificate(cert: &X509Certificate<'_>) -> Option<PublicKey> {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(ParsedKey::RSA(rsa)) => Some(PublicKey::rsa(rsa.modulus, rsa.exponent)),
        Ok(ParsedKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .and_then(|oid| curve_name(&oid.to_id_string()))?;
            Some(PublicKey::Ec {
                curve,
                point: point.data().to_vec(),
            })
        }
        _ => None,
    }
}

/// The public half of one unencrypted private key in PEM. `Ok(None)`: an EC key that does not
/// carry its public point, so a match cannot be checked.
pub fn of_private_key(text: &[u8]) -> Result<Option<PublicKey>, UnsupportedKey> {
    let block = match pem::parse_many(text)
        .map_err(|_| UnsupportedKey)?
        .as_slice()
    {
        [one] => one.clone(),
        _ => return Err(UnsupportedKey),
    };
    let der = block.contents();
    match block.tag() {
        "RSA PRIVATE KEY" => rsa_private(der).map(Some),
        "EC PRIVATE KEY" => ec_private(der, None),
        "PRIVATE KEY" => {
            let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|_| UnsupportedKey)?;
            match info.algorithm.oid.to_string().as_str() {
                RSA_ENCRYPTION => rsa_private(info.private_key.as_bytes()).map(Some),
                EC_PUBLIC_KEY => {
                    let curve = info
                        .algorithm
                        .parameters
                        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
                    ec_private(info.private_key.as_bytes(), curve)
                }
                // Ed25519, DSA, …
                _ => Err(UnsupportedKey),
            }
        }
        // Includes `ENCRYPTED PRIVATE KEY`.
        _ => Err(UnsupportedKey),
    }
}

fn rsa_private(der: &[u8]) -> Result<PublicKey, UnsupportedKey> {
    let key = pkcs1::RsaPrivateKeyRef::try_from(der).map_err(|_| UnsupportedKey)?;
    Ok(PublicKey::rsa(
        key.modulus.as_bytes(),
        key.public_exponent.as_bytes(),
    ))
}

fn ec_private(
    der: &[u8],
    outer_curve: Option<ObjectIdentifier>,
) -> Result<Option<PublicKey>, UnsupportedKey> {
    let key = sec1::EcPrivateKey::try_from(der).map_err(|_| UnsupportedKey)?;
    let curve = key
        .parameters
        .and_then(|p| p.named_curve())
        .or(outer_curve)
        .and_then(|oid| curve_name(&oid.to_string()))
        .ok_or(UnsupportedKey)?;
    Ok(key.public_key.map(|point| PublicKey::Ec {
        curve,
        point: point.to_vec(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sizes_ignore_sign_bytes() {
        for (bytes, bits) in [
            (&[0x00, 0x80, 0x00][..], 16),
            (&[0x01][..], 1),
            (&[0x00][..], 0),
            (&[0xff, 0xff][..], 16),
        ] {
            assert_eq!(bit_length(bytes), bits, "{bytes:?}");
        }
        let rsa = PublicKey::rsa(&[0, 0xc0, 0, 0, 0], &[1, 0, 1]);
        assert_eq!(rsa, PublicKey::rsa(&[0xc0, 0, 0, 0], &[0, 1, 0, 1]));
        assert_eq!(rsa.algorithm(), ("RSA-32".to_owned(), "RSA_32".to_owned()));
        assert_eq!(rsa.rsa_bits(), Some(32));
    }

    #[test]
    fn curve_names() {
        assert_eq!(curve_name("1.2.840.10045.3.1.7"), Some("prime256v1"));
        assert_eq!(curve_name("1.3.132.0.10"), None); // secp256k1
    }

    #[test]
    fn encrypted_and_garbage_keys_are_unsupported() {
        let encrypted =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(of_private_key(encrypted), Err(UnsupportedKey));
        assert_eq!(of_private_key(b"not pem"), Err(UnsupportedKey));
    }
}
