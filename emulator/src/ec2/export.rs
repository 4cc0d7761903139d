//! ExportClientVpnClientConfiguration: the OpenVPN client file.

use super::certificates;
use super::error::Ec2Error;
use super::query::Params;
use super::xml::Xml;
use super::{Ctx, endpoint};
use crate::ids::{Rng, base64, fnv1a64};
use crate::state::{Certificate, Endpoint, Region};

pub const EXPORT_PARAMS: &[&str] = &["ClientVpnEndpointId"];

pub fn export(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint_id = p.required("ClientVpnEndpointId")?;
    let ep = endpoint(region, endpoint_id)?;
    ctx.proceed()?;
    let server = certificates::imported(region, &ep.server_certificate_arn);
    let mut x = Xml::new();
    x.text("clientConfiguration", &client_configuration(ep, server));
    Ok(x.into_string())
}

/// The configuration as AWS exports it (reference §3). With the server certificate imported into
/// ACM, `<ca>` holds its chain (the certificate itself when it came without one) and
/// `verify-x509-name` its CN; otherwise (permissive mode) `<ca>` is a synthetic, deterministic
/// PEM derived from the ARN (not a parseable certificate) and the name the ARN's last segment.
pub fn client_configuration(ep: &Endpoint, server: Option<&Certificate>) -> String {
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
    let name = match server {
        Some(cert) => {
            let pem = cert.chain_pem.as_deref().unwrap_or(&cert.certificate_pem);
            lines.extend(pem.lines().map(str::to_owned));
            cert.details
                .common_name
                .clone()
                .unwrap_or_else(|| certificate_common_name(&ep.server_certificate_arn).to_owned())
        }
        None => {
            lines.extend(synthetic_pem(&ep.server_certificate_arn));
            certificate_common_name(&ep.server_certificate_arn).to_owned()
        }
    };
    lines.push("</ca>".to_owned());
    lines.push("reneg-sec 0".to_owned());
    lines.push(format!("verify-x509-name {name} name"));
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
