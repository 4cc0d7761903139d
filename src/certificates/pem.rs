//! PEM framing of Secret values: each block keeps its exact text (what ACM is sent) and its DER.

use std::io::Cursor;

use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

use super::CertificateProblem;

const BEGIN: &str = "-----BEGIN ";
const DASHES: &str = "-----";

/// One `-----BEGIN <label>-----` … `-----END <label>-----` block.
pub(crate) struct Block {
    pub label: String,
    /// The block's text, from BEGIN to END, with a trailing newline.
    pub text: String,
    pub der: Vec<u8>,
}

/// The PEM blocks of a Secret value; `key` names the Secret key in the error.
pub(crate) fn blocks(data: &[u8], key: &'static str) -> Result<Vec<Block>, CertificateProblem> {
    let unparsable = |reason: String| CertificateProblem::UnparsablePem { key, reason };
    let text = std::str::from_utf8(data).map_err(|_| unparsable("it is not text".into()))?;
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let block = &rest[start..];
        let label_len = block[BEGIN.len()..]
            .find(DASHES)
            .ok_or_else(|| unparsable("a BEGIN line is cut short".into()))?;
        let label = &block[BEGIN.len()..BEGIN.len() + label_len];
        let end_line = format!("-----END {label}-----");
        let end = block
            .find(&end_line)
            .ok_or_else(|| unparsable(format!("\"BEGIN {label}\" has no END line")))?
            + end_line.len();
        let (block, rest_after) = block.split_at(end);
        let (pem, _) = Pem::read(Cursor::new(block.as_bytes()))
            .map_err(|e| unparsable(format!("the {label} block: {e}")))?;
        found.push(Block {
            label: label.to_string(),
            text: format!("{block}\n"),
            der: pem.contents,
        });
        rest = rest_after;
    }
    Ok(found)
}

/// The CERTIFICATE blocks of a Secret value, each checked to be X.509; other blocks are skipped.
pub(crate) fn certificates(
    data: &[u8],
    key: &'static str,
) -> Result<Vec<Block>, CertificateProblem> {
    let certs: Vec<Block> = blocks(data, key)?
        .into_iter()
        .filter(|block| block.label == "CERTIFICATE")
        .collect();
    for (index, block) in certs.iter().enumerate() {
        parse(&block.der, key, index)?;
    }
    Ok(certs)
}

/// Parses certificate `index` of Secret key `key`.
pub(crate) fn parse<'a>(
    der: &'a [u8],
    key: &'static str,
    index: usize,
) -> Result<X509Certificate<'a>, CertificateProblem> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, cert)| cert)
        .map_err(|e| CertificateProblem::UnparsableCertificate {
            key,
            index,
            reason: e.to_string(),
        })
}
