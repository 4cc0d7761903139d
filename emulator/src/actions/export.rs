//! ExportClientVpnClientConfiguration: the OpenVPN client file.

use super::{Ctx, endpoint};
use crate::error::Ec2Error;
use crate::ids::{Rng, base64, fnv1a64};
use crate::model::{Endpoint, Region};
use crate::query::Params;
use crate::xml::Xml;

pub const EXPORT_PARAMS: &[&str] = &["ClientVpnEndpointId"];

pub fn export(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let ep = endpoint(region, endpoint_id)?;
    ctx.proceed()?;
    let mut x = Xml::new();
    x.text("clientConfiguration", &client_configuration(ep));
    Ok(x.into_string())
}

/// The configuration as AWS exports it (reference §3); the `<ca>` block is a synthetic,
/// deterministic PEM derived from the server certificate ARN (not a parseable certificate).
pub fn client_configuration(ep: &Endpoint) -> String {
    let host = ep.dns_name.trim_start_matches("*.");
    let mut lines = vec![
        "client".to_owned(),
        "dev tun".to_owned(),
        format!("proto {}", ep.transport_protocol),
        format!("remote {host} {}", ep.vpn_port),
        "remote-random-hostname".to_owned(),
        "resolv-retry infinite".to_owned(),
        "nobind".to_owned(),
        "remote-cert-tls server".to_owned(),
        "cipher AES-256-GCM".to_owned(),
        "verb 3".to_owned(),
        "<ca>".to_owned(),
    ];
    lines.extend(synthetic_pem(&ep.server_certificate_arn));
    lines.push("</ca>".to_owned());
    lines.push("reneg-sec 0".to_owned());
    lines.push(format!(
        "verify-x509-name {} name",
        certificate_common_name(&ep.server_certificate_arn)
    ));
    let kinds: Vec<&str> = ep
        .authentication_options
        .iter()
        .map(|a| a.kind.as_str())
        .collect();
    if kinds.contains(&"directory-service-authentication") {
        lines.push("auth-user-pass".to_owned());
    }
    if kinds.contains(&"federated-authentication") {
        lines.push("auth-federate".to_owned());
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// The "CN" the emulator pretends the server certificate has: the ARN's last path segment.
pub fn certificate_common_name(arn: &str) -> &str {
    arn.rsplit(['/', ':']).next().unwrap_or(arn)
}

fn synthetic_pem(arn: &str) -> Vec<String> {
    let mut rng = Rng::seeded(fnv1a64(arn.as_bytes()));
    let bytes: Vec<u8> = (0..96).flat_map(|_| rng.next_u64().to_be_bytes()).collect();
    let body = base64(&bytes);
    let mut lines = vec!["-----BEGIN CERTIFICATE-----".to_owned()];
    lines.extend(
        body.as_bytes()
            .chunks(64)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned()),
    );
    lines.push("-----END CERTIFICATE-----".to_owned());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_name_is_the_certificate_id() {
        assert_eq!(
            certificate_common_name("arn:aws:acm:us-east-1:123456789012:certificate/abc-123"),
            "abc-123"
        );
    }

    #[test]
    fn pem_is_stable_and_wrapped() {
        let a = synthetic_pem("arn:x");
        assert_eq!(a, synthetic_pem("arn:x"));
        assert_ne!(a, synthetic_pem("arn:y"));
        assert_eq!(a.len(), 2 + 16);
        assert!(a[1..a.len() - 1].iter().all(|l| l.len() == 64));
    }
}
