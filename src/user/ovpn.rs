//! A person's complete `client.ovpn`: the endpoint's exported configuration with the client
//! certificate and key inline (`<cert>`, `<key>`), ready for the AWS VPN Client or OpenVPN. Pure.

/// `config` (as `ExportClientVpnClientConfiguration` returns it) with `<cert>` and `<key>`
/// blocks; any such blocks already there are replaced.
pub fn with_identity(config: &str, certificate_pem: &str, private_key_pem: &str) -> String {
    let mut text = without_block(&without_block(config, "cert"), "key");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    for (tag, body) in [("cert", certificate_pem), ("key", private_key_pem)] {
        text.push_str(&format!("<{tag}>\n{}\n</{tag}>\n", body.trim()));
    }
    text
}

/// `text` without the `<tag>…</tag>` block.
fn without_block(text: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    match (text.find(&open), text.find(&close)) {
        (Some(start), Some(end)) if end > start => {
            let after = text[end + close.len()..].trim_start_matches(['\r', '\n']);
            format!("{}{after}", &text[..start])
        }
        _ => text.to_string(),
    }
}

/// The parts of a `client.ovpn` a client needs, as OpenVPN reads them (for tests and checks).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// Host and port of the first `remote` line.
    pub remote: Option<(String, u16)>,
    /// `proto` (`udp` or `tcp`).
    pub proto: Option<String>,
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
}

/// Reads `remote`, `proto` and the inline `<ca>`, `<cert>` and `<key>` blocks.
pub fn parse(text: &str) -> Profile {
    let mut profile = Profile::default();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("remote") if profile.remote.is_none() => {
                let host = words.next().map(str::to_string);
                let port = words.next().and_then(|p| p.parse().ok()).unwrap_or(1194);
                profile.remote = host.map(|h| (h, port));
            }
            Some("proto") => profile.proto = words.next().map(str::to_string),
            Some(tag @ ("<ca>" | "<cert>" | "<key>")) => {
                let close = tag.replace('<', "</");
                let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != close).collect();
                let body = Some(body.join("\n"));
                match tag {
                    "<ca>" => profile.ca = body,
                    "<cert>" => profile.cert = body,
                    _ => profile.key = body,
                }
            }
            _ => {}
        }
    }
    profile
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORTED: &str = "client\ndev tun\nproto udp\nremote cvpn-endpoint-0abc.prod.clientvpn.us-east-1.amazonaws.com 443\nremote-random-hostname\n<ca>\n-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n</ca>\nverb 3\n";

    #[test]
    fn the_identity_is_inlined_and_the_rest_kept() {
        let text = with_identity(
            EXPORTED,
            "-----BEGIN CERTIFICATE-----\nME\n-----END CERTIFICATE-----\n",
            "KEY\n",
        );
        let profile = parse(&text);
        assert_eq!(
            profile.remote,
            Some((
                "cvpn-endpoint-0abc.prod.clientvpn.us-east-1.amazonaws.com".into(),
                443
            ))
        );
        assert_eq!(profile.proto.as_deref(), Some("udp"));
        assert!(profile.ca.as_deref().is_some_and(|ca| ca.contains("CA")));
        assert_eq!(
            profile.cert.as_deref(),
            Some("-----BEGIN CERTIFICATE-----\nME\n-----END CERTIFICATE-----")
        );
        assert_eq!(profile.key.as_deref(), Some("KEY"));
        assert!(text.contains("verb 3\n"));
    }

    #[test]
    fn an_identity_already_there_is_replaced_not_doubled() {
        let once = with_identity(EXPORTED, "OLD", "OLDKEY");
        let twice = with_identity(&once, "NEW", "NEWKEY");
        assert_eq!(twice.matches("<cert>").count(), 1);
        assert_eq!(twice.matches("<key>").count(), 1);
        assert_eq!(parse(&twice).cert.as_deref(), Some("NEW"));
    }
}
